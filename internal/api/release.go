package api

import (
	"context"
	"net/http"

	"github.com/tocsin/tocsin/internal/store"
)

// ReleaseCallsRequest lets an incident's calls out of quiet hours.
type ReleaseCallsRequest struct {
	Reason string `json:"reason"`
}

func (s *Server) releaseCalls(w http.ResponseWriter, r *http.Request) {
	var req ReleaseCallsRequest
	if err := decode(r, &req); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	out, err := s.ReleaseCalls(r.Context(), principal(r.Context()), r.PathValue("id"), req.Reason)
	if err != nil {
		s.writeErr(w, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// ReleaseCalls lets an incident's calls out of quiet hours as p, from any
// surface (service.ReleaseCalls).
func (s *Server) ReleaseCalls(ctx context.Context, p Principal, id, reason string) (store.QuietRelease, error) {
	return s.service().ReleaseCalls(ctx, caller(p), id, reason)
}
