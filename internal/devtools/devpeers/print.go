package devpeers

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/tocsin/tocsin/internal/senders"
)

// The vendor's letter webhook knows the on-site webhook's faults.
func init() { FaultKinds["print"] = []string{"latency", "status_503", "reset"} }

// PrintPeer is a print-and-mail vendor: it verifies the signed webhook,
// keeps one letter per ID (the Idempotency-Key), writes each PDF to Dir
// as the vendor's print queue, and records the letter in the outbox as
// channel "letter", to the address on one line.
type PrintPeer struct {
	Secret string
	// Rotated makes the vendor expect another secret than Tocsin's, as
	// after a rotation Tocsin was not told of: every letter gets 401.
	Rotated atomic.Bool
	Outbox  *Outbox
	Dir     string
	// Faults, when set, makes the vendor slow or failing as a profile says.
	Faults *Faults

	mu            sync.Mutex
	undeliverable map[string]bool // postal codes the vendor cannot mail to
}

// Undeliverable makes the vendor refuse letters to a postal code, as for
// an address its validation finds does not exist.
func (p *PrintPeer) Undeliverable(postalCode string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.undeliverable == nil {
		p.undeliverable = map[string]bool{}
	}
	p.undeliverable[postalCode] = true
}

var letterID = regexp.MustCompile(`^L-[0-9a-f]{16}$`)

// ServeHTTP handles POST /letters.
func (p *PrintPeer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || !strings.HasSuffix(r.URL.Path, "/letters") {
		http.NotFound(w, r)
		return
	}
	body, ok := takeSigned(w, r, signedWebhook{peer: "print", faults: p.Faults, secret: p.Secret, rotated: p.Rotated.Load(), limit: 16 << 20, unavailable: "print queue unavailable"})
	if !ok {
		return
	}
	var job senders.PrintJob
	if err := json.Unmarshal(body, &job); err != nil || !letterID.MatchString(job.ID) || len(job.PDF) == 0 {
		http.Error(w, "a letter needs an id and a pdf", http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	refused := p.undeliverable[job.Address.PostalCode]
	p.mu.Unlock()
	if refused || job.Address.Line1 == "" || job.Address.Country == "" {
		http.Error(w, "address failed validation: undeliverable", http.StatusUnprocessableEntity)
		return
	}
	path := filepath.Join(p.Dir, job.ID+".pdf")
	if err := os.MkdirAll(p.Dir, 0o700); err != nil || os.WriteFile(path, job.PDF, 0o600) != nil {
		http.Error(w, "could not queue", http.StatusInternalServerError)
		return
	}
	a := job.Address
	to := strings.Join(nonEmptyFields(a.Line1, a.Line2, strings.TrimSpace(a.City+" "+a.State+" "+a.PostalCode), a.Country), ", ")
	if _, err := p.Outbox.AddOnce(r.Context(), Entry{IncidentID: job.IncidentID, SubjectID: job.SubjectID, Channel: "letter", To: to,
		Subject: job.Title, Body: path, Status: "accepted", Ref: job.ID}); err != nil {
		http.Error(w, "could not store", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusAccepted)
	json.NewEncoder(w).Encode(map[string]string{"ref": job.ID})
}

func nonEmptyFields(s ...string) []string {
	var out []string
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			out = append(out, v)
		}
	}
	return out
}
