package api

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/tocsin/tocsin/internal/inventory"
	"github.com/tocsin/tocsin/internal/store"
)

// MaxEnrolmentCodes is the most codes one request carries; the CLI sends
// a vendor's file in parts.
const MaxEnrolmentCodes = 10000

// EnrolmentCodesRequest brings people's enrolment codes for the remedy an
// incident offers (credit monitoring): each lands in its person's notice
// and verify page.
type EnrolmentCodesRequest struct {
	Codes []inventory.EnrolmentCode `json:"codes"`
}

// EnrolmentCodesResponse says how many codes were stored.
type EnrolmentCodesResponse struct {
	Imported int `json:"imported"`
}

func (s *Server) importEnrolmentCodes(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	var req EnrolmentCodesRequest
	if err := decode(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	if len(req.Codes) == 0 || len(req.Codes) > MaxEnrolmentCodes {
		writeError(w, http.StatusBadRequest, "codes: from 1 to "+strconv.Itoa(MaxEnrolmentCodes)+" codes")
		return
	}
	for i, c := range req.Codes {
		if why := c.Check(); why != "" {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("codes[%d] (subject %s): %s", i, c.SubjectID, why))
			return
		}
	}
	notAffected, err := s.Store.ImportEnrolmentCodes(r.Context(), id, req.Codes)
	if statusOf(err) == http.StatusNotFound {
		writeError(w, http.StatusNotFound, "no scoped incident "+id)
		return
	}
	if err != nil {
		s.writeErr(w, err)
		return
	}
	if len(notAffected) > 0 {
		shown := notAffected[:min(len(notAffected), 10)]
		writeError(w, http.StatusBadRequest, fmt.Sprintf("%d people in the file are not affected by %s (%s): no code was stored", len(notAffected), id, strings.Join(shown, ", ")))
		return
	}
	s.audit(r.Context(), principal(r.Context()), id, "enrolment codes", store.AuditDone, map[string]string{"imported": strconv.Itoa(len(req.Codes))})
	writeJSON(w, http.StatusOK, EnrolmentCodesResponse{Imported: len(req.Codes)})
}
