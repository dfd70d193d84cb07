package api

import (
	"fmt"
	"net/http"
	"strings"

	twclient "github.com/twilio/twilio-go/client"

	"github.com/tocsin/tocsin/internal/senders"
	"github.com/tocsin/tocsin/internal/store"
)

// verifyTwilio checks X-Twilio-Signature over the public URL and the form.
// A forged or altered request is refused before anything is read from it.
func (s *Server) verifyTwilio(w http.ResponseWriter, r *http.Request) bool {
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return false
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
		return false
	}
	return true
}

// twilioStatus applies a signed Twilio status callback to the delivery ledger.
func (s *Server) twilioStatus(w http.ResponseWriter, r *http.Request) {
	if !s.verifyTwilio(w, r) {
		return
	}
	sid, status := r.PostForm.Get("MessageSid"), senders.TwilioOutcome(r.PostForm.Get("MessageStatus"))
	detail := ""
	if sid == "" {
		sid, status = r.PostForm.Get("CallSid"), senders.CallOutcome(r.PostForm.Get("CallStatus"), r.PostForm.Get("AnsweredBy"))
		if by := r.PostForm.Get("AnsweredBy"); by != "" {
			detail = "answered by " + by
		}
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
	if err == nil && found && detail != "" {
		err = s.Store.AnnotateDelivery(r.Context(), sid, detail)
	}
	if err != nil {
		http.Error(w, "ledger unavailable", http.StatusServiceUnavailable)
		return
	}
	if !found {
		s.log().Warn("twilio callback for an unknown message", "sid", sid)
	}
	w.WriteHeader(http.StatusNoContent)
}

// twilioAck records a called person's "press 1": they heard the notice.
// Twilio follows the answer, so it is TwiML.
func (s *Server) twilioAck(w http.ResponseWriter, r *http.Request) {
	if !s.verifyTwilio(w, r) {
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	if r.PostForm.Get("Digits") != "1" {
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Response/>`)
		return
	}
	if err := s.Store.AnnotateDelivery(r.Context(), r.PostForm.Get("CallSid"), "acknowledged: pressed 1"); err != nil {
		http.Error(w, "ledger unavailable", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Response><Say>Thank you.</Say><Hangup/></Response>`)
}

// onsiteInbox is what the platform's notification service reads to show a
// person their breach notices in the app: every on-site notice the platform
// accepted for the account, in the revision that person was sent.
func (s *Server) onsiteInbox(w http.ResponseWriter, r *http.Request) {
	notices, err := s.Store.OnsiteInbox(r.Context(), r.PathValue("account"))
	if err != nil {
		s.writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, notices)
}
