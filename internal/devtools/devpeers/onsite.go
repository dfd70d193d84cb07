package devpeers

import (
	"crypto/hmac"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tocsin/tocsin/internal/senders"
)

// OnsitePeer is the platform's notification service: it verifies the signed
// webhook, keeps one notice per ID (the Idempotency-Key) and serves an inbox.
type OnsitePeer struct {
	Secret string
	// Rotated makes the service expect another secret than Tocsin's, as
	// after a rotation Tocsin was not told of: every notice gets 401.
	Rotated atomic.Bool
	Outbox  *Outbox
	// Faults, when set, makes the service slow or failing as a profile says.
	Faults *Faults
}

// ServeHTTP handles POST /notices and GET /inbox/{account}.
func (p *OnsitePeer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/notices"):
		p.receive(w, r)
	case r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/inbox/"):
		account := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		inbox, err := p.Outbox.ForRecipient(r.Context(), "onsite", account)
		if err != nil {
			http.Error(w, "inbox unavailable", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(inbox)
	default:
		http.NotFound(w, r)
	}
}

func (p *OnsitePeer) receive(w http.ResponseWriter, r *http.Request) {
	body, ok := takeSigned(w, r, signedWebhook{peer: "onsite", faults: p.Faults, secret: p.Secret, rotated: p.Rotated.Load(), limit: 1 << 20, unavailable: "notification service unavailable"})
	if !ok {
		return
	}
	var n senders.OnsiteNotice
	if err := json.Unmarshal(body, &n); err != nil || n.AccountID == "" {
		http.Error(w, "a notice needs an account_id", http.StatusBadRequest)
		return
	}
	added, err := p.Outbox.AddOnce(r.Context(), Entry{IncidentID: n.IncidentID, SubjectID: n.SubjectID, Channel: "onsite", To: n.AccountID, Subject: n.Title, Body: n.Body, Status: "accepted", Ref: n.ID})
	switch {
	case err != nil:
		http.Error(w, "could not store", http.StatusInternalServerError)
	case !added:
		w.WriteHeader(http.StatusOK) // the same notice again: already in the inbox
	default:
		w.WriteHeader(http.StatusAccepted)
	}
}

// PressPeer receives announcements, verified like on-site notices.
type PressPeer struct {
	Secret string
	Outbox *Outbox
}

// ServeHTTP handles POST of a signed announcement, once per incident.
func (p *PressPeer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil || r.Method != http.MethodPost {
		http.Error(w, "POST a signed announcement", http.StatusBadRequest)
		return
	}
	if msg := verifySigned(r, p.Secret, body); msg != "" {
		http.Error(w, msg, http.StatusUnauthorized)
		return
	}
	var a senders.Announcement
	if err := json.Unmarshal(body, &a); err != nil {
		http.Error(w, "bad JSON", http.StatusBadRequest)
		return
	}
	existing, _ := p.Outbox.List(r.Context(), a.IncidentID)
	for _, e := range existing {
		if e.Channel == "announcement" {
			w.WriteHeader(http.StatusOK)
			return
		}
	}
	if err := p.Outbox.Add(r.Context(), Entry{IncidentID: a.IncidentID, Channel: "announcement", To: a.URL, Subject: a.Title, Body: a.Body, Status: "published", Ref: "announcement." + a.IncidentID}); err != nil {
		http.Error(w, "could not store", http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusAccepted)
}

// verifySigned checks a Tocsin-signed webhook: a fresh timestamp (replays older
// than five minutes are refused) and the HMAC over timestamp and body. It
// returns why the request is refused, or "" when it is genuine.
func verifySigned(r *http.Request, secret string, body []byte) string {
	ts := r.Header.Get("X-Tocsin-Timestamp")
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || time.Since(time.Unix(sec, 0)).Abs() > 5*time.Minute {
		return "stale or missing timestamp"
	}
	if !hmac.Equal([]byte(r.Header.Get("X-Tocsin-Signature")), []byte(senders.SignOnsite(secret, ts, body))) {
		return "bad signature"
	}
	return ""
}

// signedWebhook is how a peer takes a Tocsin-signed webhook: its fault
// profile, its secret (refused as after a rotation Tocsin was not told
// of), and the most it reads.
type signedWebhook struct {
	peer        string
	faults      *Faults
	secret      string
	rotated     bool
	limit       int64
	unavailable string
}

// takeSigned plays the fault profile's fault for the request, reads the
// body and verifies its signature; when the request must go no further it
// has answered it and returns false.
func takeSigned(w http.ResponseWriter, r *http.Request, h signedWebhook) ([]byte, bool) {
	hit := h.faults.Roll(h.peer, r.Header.Get("Idempotency-Key"))
	time.Sleep(hit.Delay)
	switch hit.Fail {
	case "status_503":
		http.Error(w, h.unavailable, http.StatusServiceUnavailable)
		return nil, false
	case "reset":
		resetConnection(w)
		return nil, false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, h.limit))
	if err != nil {
		http.Error(w, "unreadable body", http.StatusBadRequest)
		return nil, false
	}
	secret := h.secret
	if h.rotated {
		secret += "-rotated"
	}
	if msg := verifySigned(r, secret, body); msg != "" {
		http.Error(w, msg, http.StatusUnauthorized)
		return nil, false
	}
	return body, true
}
