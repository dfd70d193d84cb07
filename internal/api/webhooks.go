package api

import (
	"net/http"
	"strings"

	twclient "github.com/twilio/twilio-go/client"

	"github.com/tocsin/tocsin/internal/store"
)

// twilioStatus applies a signed Twilio status callback to the delivery ledger.
// A forged or altered callback is refused before anything is read from it.
func (s *Server) twilioStatus(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	fullURL := strings.TrimSuffix(s.PublicURL, "/") + r.URL.RequestURI()
	params := map[string]string{}
	for k, v := range r.PostForm {
		params[k] = v[0]
	}
	validator := twclient.NewRequestValidator(s.TwilioAuthToken)
	if s.TwilioAuthToken == "" || !validator.Validate(fullURL, params, r.Header.Get("X-Twilio-Signature")) {
		s.log().Warn("twilio callback refused: bad signature", "path", r.URL.Path)
		http.Error(w, "invalid signature", http.StatusForbidden)
		return
	}
	sid, status := r.PostForm.Get("MessageSid"), ledgerStatus(r.PostForm.Get("MessageStatus"))
	if sid == "" {
		sid, status = r.PostForm.Get("CallSid"), ledgerStatus(r.PostForm.Get("CallStatus"))
	}
	if status == "" {
		w.WriteHeader(http.StatusNoContent) // an intermediate state (queued, ringing, ...)
		return
	}
	q := r.URL.Query()
	// The ledger key in the callback URL lets a receipt land even when the
	// worker died before it could record the provider's SID.
	if q.Get("incident") != "" {
		d, err := s.Store.GetDelivery(r.Context(), q.Get("incident"), q.Get("subject"), q.Get("channel"))
		if err == nil && d.ProviderRef == "" {
			d.ProviderRef = sid
			d.Status = store.StatusSent
			s.Store.FinishDelivery(r.Context(), d)
		}
	}
	found, err := s.Store.UpdateDeliveryByRef(r.Context(), sid, status, r.PostForm.Get("ErrorCode"))
	if err != nil {
		http.Error(w, "ledger unavailable", http.StatusServiceUnavailable)
		return
	}
	if !found {
		s.log().Warn("twilio callback for an unknown message", "sid", sid)
	}
	w.WriteHeader(http.StatusNoContent)
}

// ledgerStatus maps Twilio's message and call statuses onto the ledger's.
func ledgerStatus(twilio string) string {
	switch twilio {
	case "delivered", "completed":
		return store.StatusDelivered
	case "undelivered":
		return store.StatusUndelivered
	case "failed", "busy", "no-answer", "canceled":
		return store.StatusFailed
	}
	return ""
}
