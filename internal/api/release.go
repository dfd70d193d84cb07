package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"go.temporal.io/api/serviceerror"

	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/workflows"
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

// ReleaseCalls records, as p (legal or an admin), that an incident's calls
// no longer wait for the quiet hours of the people called, because the
// harm is urgent; from any surface. Held calls are placed at once, later
// ones at any hour. Audited, with the reason.
func (s *Server) ReleaseCalls(ctx context.Context, p Principal, id, reason string) (store.QuietRelease, error) {
	refuse := func(kind incident.Refused, err error) (store.QuietRelease, error) {
		s.audit(ctx, p, id, "release calls", store.AuditRefused, map[string]string{"reason": err.Error()})
		return store.QuietRelease{}, incident.Refuse(kind, err)
	}
	if !slices.Contains(releasers, p.Role) {
		return refuse(incident.Forbidden, fmt.Errorf("%s (%s) may not release calls from quiet hours; legal and admins may", p.Identity, p.Role))
	}
	if _, ok := s.visible(ctx, p, id); !ok {
		return store.QuietRelease{}, incident.Refuse(incident.NotFound, errors.New("no incident "+id))
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return refuse(incident.Invalid, errors.New("say why the harm cannot wait for the morning (--reason): the audit log keeps it"))
	}
	if len(reason) > workflows.MaxNoteBytes {
		return refuse(incident.Invalid, fmt.Errorf("reason: %d bytes; at most %d", len(reason), workflows.MaxNoteBytes))
	}
	rel, err := s.Store.ReleaseQuietHours(ctx, id, store.QuietRelease{By: p.Identity, Reason: reason, At: time.Now().UTC()})
	if err != nil {
		return store.QuietRelease{}, err
	}
	s.audit(ctx, p, id, "release calls", store.AuditDone, map[string]string{"reason": reason})
	s.log().Info("calls released from quiet hours", "incident", id, "by", p.Identity, "via", p.Via)
	s.wakePartitions(ctx, id)
	return rel, nil
}

// wakePartitions signals the incident's campaign partitions that sleep
// until morning, so they place their held calls now.
func (s *Server) wakePartitions(ctx context.Context, id string) {
	p, err := s.progress(ctx, id)
	if err != nil || p.Campaign == nil {
		return // no campaign yet: its batches will read the release
	}
	for k := 1; k <= p.Campaign.Partitions; k++ {
		err := s.Temporal.SignalWorkflow(ctx, fmt.Sprintf("%s-notify-%d", id, k), "", workflows.SignalReleaseCalls, nil)
		var gone *serviceerror.NotFound
		if err != nil && !errors.As(err, &gone) {
			s.log().Warn("could not wake a campaign partition", "incident", id, "partition", k, "error", err)
		}
	}
}
