package api

import (
	"net/http"
	"time"

	"github.com/tocsin/tocsin/internal/incident"
)

// CorrectRequest names the notice to correct, and facts to set first.
type CorrectRequest struct {
	Draft   string            `json:"draft"`
	Changes map[string]string `json:"changes,omitempty"`
}

// CorrectionView is a correction of a notice that went out: which, from
// which revision to which, and how many copies it followed.
type CorrectionView struct {
	Correction  int       `json:"correction"`
	Draft       string    `json:"draft"`
	Status      string    `json:"status"`
	RequestedBy string    `json:"requested_by"`
	RequestedAt time.Time `json:"requested_at"`
	From        int       `json:"from"`
	Revision    int       `json:"revision,omitempty"`
	Copies      int       `json:"copies"`
	Sent        int       `json:"sent"`
	Failed      int       `json:"failed,omitempty"`
}

func correctionView(c incident.CorrectionState) CorrectionView {
	return CorrectionView{Correction: c.Number, Draft: c.Draft, Status: c.Status, RequestedBy: c.RequestedBy, RequestedAt: c.RequestedAt, From: c.From,
		Revision: c.Revision, Copies: c.Copies, Sent: c.Sent, Failed: c.Failed}
}

// correctNotice asks for a correction of a notice that went out (legal or
// an admin).
func (s *Server) correctNotice(w http.ResponseWriter, r *http.Request) {
	var req CorrectRequest
	if err := decode(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	c, err := s.service().CorrectNotice(r.Context(), caller(principal(r.Context())), r.PathValue("id"), req.Draft, req.Changes)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusAccepted, correctionView(c))
}
