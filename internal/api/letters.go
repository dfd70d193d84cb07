package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/tocsin/tocsin/internal/letters"
	"github.com/tocsin/tocsin/internal/senders"
	"github.com/tocsin/tocsin/internal/store"
)

// LettersBatch is one batch of an incident's mailed letters, as the print
// vendor got them: one PDF and its manifest.
type LettersBatch struct {
	// Letters is how many letters this batch holds; Next pages on ("" at
	// the end).
	Letters  int    `json:"letters"`
	Next     string `json:"next,omitempty"`
	PDF      []byte `json:"pdf"`
	Manifest string `json:"manifest"`
}

// MaxLettersBatch bounds a batch: a vendor's batch, and what one response
// renders.
const MaxLettersBatch = 500

// mailedLetters prints again a batch of the letters the vendor took, for
// legal or an admin to inspect: each person's notice revision, name and
// address, dated when it was taken. The names and addresses are personal
// data: the export is audited.
func (s *Server) mailedLetters(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	size := 100
	if v := r.URL.Query().Get("size"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxLettersBatch {
			writeError(w, http.StatusBadRequest, "size: a number from 1 to "+strconv.Itoa(MaxLettersBatch))
			return
		}
		size = n
	}
	if _, err := s.Store.GetIncident(r.Context(), id); err != nil {
		if statusOf(err) == http.StatusNotFound {
			writeError(w, http.StatusNotFound, "no incident "+id)
			return
		}
		s.writeErr(w, err)
		return
	}
	mailed, err := s.Store.MailedLetters(r.Context(), id, r.URL.Query().Get("after"), size)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	out := LettersBatch{Letters: len(mailed)}
	if len(mailed) == size {
		out.Next = mailed[len(mailed)-1].SubjectID
	}
	if len(mailed) > 0 {
		drafts := map[string]store.Draft{}
		var ls []letters.Letter
		for _, m := range mailed {
			d, ok := drafts[m.Draft]
			if !ok {
				name, rev, _ := store.DraftRef(m.Draft)
				if d, err = s.Store.GetDraft(r.Context(), id, name, rev); err != nil {
					s.writeErr(w, err)
					return
				}
				drafts[m.Draft] = d
			}
			at, _ := time.Parse(time.RFC3339Nano, m.At)
			ls = append(ls, letters.Letter{ID: senders.LetterID(id, m.SubjectID), IncidentID: id, SubjectID: m.SubjectID, Name: m.Name,
				Address: m.Address, Title: d.Title, Body: d.Body, Date: at.UTC()})
		}
		pdf, manifest, err := s.printer().Batch(ls)
		if err != nil {
			s.writeErr(w, err)
			return
		}
		out.PDF, out.Manifest = pdf, string(manifest)
	}
	s.audit(r.Context(), principal(r.Context()), id, "export letters", store.AuditDone, map[string]string{"letters": strconv.Itoa(len(mailed))})
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) printer() *letters.Printer {
	if s.Letters != nil {
		return s.Letters
	}
	return &letters.Printer{}
}

// ReturnedRequest names the people whose letters the post office returned;
// or, with Settled (legal or an admin), ends the incident's wait for
// returned mail.
type ReturnedRequest struct {
	Subjects []string `json:"subjects,omitempty"`
	Settled  bool     `json:"settled,omitempty"`
}

// ReturnedResponse is what recording returned letters changed, and what
// substitute notice covers the people nothing else reached.
type ReturnedResponse struct {
	// Returned are letters now recorded as returned; Already were so before.
	Returned int `json:"returned"`
	Already  int `json:"already,omitempty"`
	// Unreached are people whom only the letter had reached.
	Unreached int `json:"unreached"`
	// NotMailed are subject IDs with no letter the vendor took.
	NotMailed []string `json:"not_mailed,omitempty"`
	// SubstituteNotice says what covers the unreached: a public
	// announcement published or being drafted, or why none will be.
	SubstituteNotice string `json:"substitute_notice,omitempty"`
}

// MaxReturned bounds one request's list of returned letters (the CLI
// sends a longer file in parts): it fits the 1 MiB a request body may be.
const MaxReturned = 10000

// returnedMail records returned letters: each fails in the ledger, and a
// person only the letter had reached is unreached again; the incident's
// plan, while it awaits returned mail, then drafts a public announcement
// (substitute notice) for legal.
func (s *Server) returnedMail(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req ReturnedRequest
	if err := decode(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if req.Settled {
		if len(req.Subjects) > 0 {
			writeError(w, http.StatusBadRequest, "settled: record the returns first, then settle")
			return
		}
		said, err := s.service().SettleReturns(r.Context(), caller(principal(r.Context())), id)
		if err != nil {
			s.writeErr(w, err)
			return
		}
		writeJSON(w, http.StatusOK, ReturnedResponse{SubstituteNotice: said})
		return
	}
	if len(req.Subjects) == 0 || len(req.Subjects) > MaxReturned {
		writeError(w, http.StatusBadRequest, "subjects: from 1 to "+strconv.Itoa(MaxReturned)+" subject IDs")
		return
	}
	res, err := s.Store.RecordReturnedMail(r.Context(), id, req.Subjects)
	if statusOf(err) == http.StatusNotFound {
		writeError(w, http.StatusNotFound, "no incident "+id)
		return
	}
	if err != nil {
		s.writeErr(w, err)
		return
	}
	s.audit(r.Context(), principal(r.Context()), id, "returned mail", store.AuditDone, map[string]string{
		"returned": strconv.Itoa(res.Returned), "unreached": strconv.Itoa(res.Unreached), "not_mailed": strconv.Itoa(len(res.NotMailed))})
	out := ReturnedResponse{Returned: res.Returned, Already: res.Already, Unreached: res.Unreached, NotMailed: res.NotMailed}
	if res.Unreached > 0 {
		// The returns are recorded whatever the plan answers: a plan that
		// cannot be told now counts them when it next counts the reached.
		if out.SubstituteNotice, err = s.service().Returned(r.Context(), caller(principal(r.Context())), id, res.Unreached); err != nil {
			out.SubstituteNotice = "recorded, but the incident's plan was not told: " + err.Error()
		}
	}
	writeJSON(w, http.StatusOK, out)
}
