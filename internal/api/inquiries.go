package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/store"
)

// AnswerRequest is support's answer to a person's question.
type AnswerRequest struct {
	Answer string `json:"answer"`
}

// MaxAnswerBytes bounds an answer.
const MaxAnswerBytes = 4000

// listInquiries is GET /api/v1/inquiries?incident=ID&status=open: the
// questions of incidents the caller may see, oldest first.
func (s *Server) listInquiries(w http.ResponseWriter, r *http.Request) {
	p := principal(r.Context())
	id, status := r.URL.Query().Get("incident"), r.URL.Query().Get("status")
	switch status {
	case "", store.InquiryOpen, store.InquiryAnswered, store.InquiryClosed:
	default:
		writeError(w, http.StatusBadRequest, "status: open, answered or closed")
		return
	}
	if id != "" {
		if _, ok := s.visible(r.Context(), p, id); !ok {
			writeError(w, http.StatusNotFound, "no incident "+id)
			return
		}
	}
	limit, err := queryLimit(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	qs, err := s.Store.Inquiries(r.Context(), id, status, limit)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	out := []store.Inquiry{}
	seen := map[string]bool{}
	for _, q := range qs {
		ok, known := seen[q.IncidentID]
		if !known {
			_, ok = s.visible(r.Context(), p, q.IncidentID)
			seen[q.IncidentID] = ok
		}
		if ok {
			out = append(out, q)
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// inquiryFor reads an inquiry the caller may see (404 otherwise).
func (s *Server) inquiryFor(w http.ResponseWriter, r *http.Request) (store.Inquiry, bool) {
	q, err := s.Store.GetInquiry(r.Context(), r.PathValue("id"))
	if err == nil {
		if _, ok := s.visible(r.Context(), principal(r.Context()), q.IncidentID); ok {
			return q, true
		}
	}
	writeError(w, http.StatusNotFound, "no inquiry "+r.PathValue("id"))
	return store.Inquiry{}, false
}

// answerInquiry is POST /api/v1/inquiries/{id}/answer: the person reads
// it where they asked (their notice's verify page). Audited.
func (s *Server) answerInquiry(w http.ResponseWriter, r *http.Request) {
	var req AnswerRequest
	if err := decode(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	req.Answer = strings.TrimSpace(req.Answer)
	if req.Answer == "" || len(req.Answer) > MaxAnswerBytes || !utf8.ValidString(req.Answer) {
		writeError(w, http.StatusBadRequest, "answer: from 1 to "+strconv.Itoa(MaxAnswerBytes)+" bytes of text")
		return
	}
	q, ok := s.inquiryFor(w, r)
	if !ok {
		return
	}
	q, err := s.answer(r.Context(), principal(r.Context()), q, req.Answer)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, q)
}

// answer records p's answer to q, audited in its incident's chain, and
// returns the question as it now stands; every surface answers through it.
func (s *Server) answer(ctx context.Context, p Principal, q store.Inquiry, text string) (store.Inquiry, error) {
	if q.Channel == ChannelSMS && utf8.RuneCountInString(text) > MaxTextedAnswer {
		return q, incident.Refuse(incident.Invalid, fmt.Errorf("answer: a question asked by text is answered by text, at most %d characters", MaxTextedAnswer))
	}
	if err := s.Store.AnswerInquiry(ctx, q.ID, text, p.Identity, time.Now().UTC()); err != nil {
		return q, err
	}
	s.audit(ctx, p, q.IncidentID, "answer inquiry", store.AuditDone, map[string]string{"inquiry": q.ID})
	q, err := s.Store.GetInquiry(ctx, q.ID)
	if err != nil {
		return q, err
	}
	if err := s.sendAnswer(ctx, q); err != nil {
		return q, err
	}
	return s.Store.GetInquiry(ctx, q.ID)
}

// MaxTextedAnswer is the longest text message Twilio sends (in characters).
const MaxTextedAnswer = 1600

// closeQuestion closes q as p, audited.
func (s *Server) closeQuestion(ctx context.Context, p Principal, q store.Inquiry) (store.Inquiry, error) {
	if err := s.Store.CloseInquiry(ctx, q.ID); err != nil {
		return q, err
	}
	s.audit(ctx, p, q.IncidentID, "close inquiry", store.AuditDone, map[string]string{"inquiry": q.ID})
	return s.Store.GetInquiry(ctx, q.ID)
}

// closeInquiry is POST /api/v1/inquiries/{id}/close. Audited.
func (s *Server) closeInquiry(w http.ResponseWriter, r *http.Request) {
	q, ok := s.inquiryFor(w, r)
	if !ok {
		return
	}
	q, err := s.closeQuestion(r.Context(), principal(r.Context()), q)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, q)
}
