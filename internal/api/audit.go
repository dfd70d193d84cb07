package api

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/tocsin/tocsin/internal/csvout"
	"github.com/tocsin/tocsin/internal/redact"
	"github.com/tocsin/tocsin/internal/store"
)

// audit appends an action to the incident's hash-chained log (chain "" for
// actions on no incident); see service.Audit.
func (s *Server) audit(ctx context.Context, p Principal, chain, action, outcome string, detail map[string]string) {
	s.service().Audit(ctx, caller(p), chain, action, outcome, detail)
}

func (s *Server) auditLog(w http.ResponseWriter, r *http.Request) {
	log, err := s.Store.AuditLog(r.Context(), r.PathValue("id"))
	if err != nil {
		s.writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, log)
}

// LedgerHeader is the delivery ledger's CSV header in an export.
var LedgerHeader = []string{"subject_id", "channel", "rung", "status", "provider_ref", "draft", "segments", "detail", "error", "claimed_at", "updated_at", "doubt"}

// deliveryLedger streams the incident's per-subject delivery ledger as CSV.
// It holds subject IDs and provider references, never contact details.
func (s *Server) deliveryLedger(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	// A million people's ledger takes longer to stream than the server's write timeout.
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(TransferTimeout))
	cw := csvout.NewWriter(w)
	cw.Write(LedgerHeader)
	const pageSize = 5000
	subject, channel := "", ""
	for {
		page, err := s.Store.LedgerPage(r.Context(), id, subject, channel, pageSize)
		if err != nil {
			// The header is out; a trailer row tells the reader the file is cut short.
			cw.Write([]string{"#error", err.Error()})
			break
		}
		for _, d := range page {
			cw.Write([]string{d.SubjectID, d.Channel, strconv.Itoa(d.Rung), d.Status, d.ProviderRef, d.Draft, strconv.Itoa(d.Segments), d.Detail, redact.Text(d.Error), d.ClaimedAt, d.UpdatedAt, store.DoubtText(d.Channel, d.Doubt)})
		}
		if len(page) < pageSize {
			break
		}
		subject, channel = page[len(page)-1].SubjectID, page[len(page)-1].Channel
	}
	cw.Flush()
}
