package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/workflows"
)

// PauseCampaign stops an incident's campaign, as c (legal or an admin):
// no new notice goes out (each batch looks before every send), what went
// out stays recorded, and nothing is written off. Audited with the reason.
func (s *Service) PauseCampaign(ctx context.Context, c Caller, id, reason string) (store.Pause, error) {
	refuse := func(kind incident.Refused, err error) (store.Pause, error) {
		s.Audit(ctx, c, id, "pause campaign", store.AuditRefused, map[string]string{"reason": err.Error()})
		return store.Pause{}, incident.Refuse(kind, err)
	}
	if !slices.Contains(releasers, c.Role) {
		return refuse(incident.Forbidden, fmt.Errorf("%s (%s) may not pause a campaign; legal and admins may", c.Identity, c.Role))
	}
	if _, ok := s.Visible(ctx, c, id); !ok {
		return store.Pause{}, incident.Refuse(incident.NotFound, errors.New("no incident "+id))
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return refuse(incident.Invalid, errors.New("say why the campaign stops (--reason): the audit log and the war room keep it"))
	}
	if len(reason) > workflows.MaxNoteBytes {
		return refuse(incident.Invalid, fmt.Errorf("reason: %d bytes; at most %d", len(reason), workflows.MaxNoteBytes))
	}
	p, fresh, err := s.Store.PauseCampaign(ctx, id, store.Pause{By: c.Identity, Reason: reason, At: time.Now().UTC()})
	if err != nil {
		return store.Pause{}, err
	}
	if !fresh {
		return refuse(incident.Conflict, fmt.Errorf("the campaign of %s is already paused, by %s at %s: %s", id, p.By, p.At.Format("2006-01-02 15:04 UTC"), p.Reason))
	}
	s.Audit(ctx, c, id, "pause campaign", store.AuditDone, map[string]string{"reason": reason})
	s.log().Info("campaign paused", "incident", id, "by", c.Identity, "via", c.Via)
	return p, nil
}

// ResumeCampaign lets a paused campaign send again, as c (legal or an
// admin); its batches go on within seconds. Audited.
func (s *Service) ResumeCampaign(ctx context.Context, c Caller, id string) (store.Pause, error) {
	refuse := func(kind incident.Refused, err error) (store.Pause, error) {
		s.Audit(ctx, c, id, "resume campaign", store.AuditRefused, map[string]string{"reason": err.Error()})
		return store.Pause{}, incident.Refuse(kind, err)
	}
	if !slices.Contains(releasers, c.Role) {
		return refuse(incident.Forbidden, fmt.Errorf("%s (%s) may not resume a campaign; legal and admins may", c.Identity, c.Role))
	}
	if _, ok := s.Visible(ctx, c, id); !ok {
		return store.Pause{}, incident.Refuse(incident.NotFound, errors.New("no incident "+id))
	}
	p, err := s.Store.ResumeCampaign(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return refuse(incident.Conflict, fmt.Errorf("the campaign of %s is not paused", id))
	}
	if err != nil {
		return store.Pause{}, err
	}
	s.Audit(ctx, c, id, "resume campaign", store.AuditDone, map[string]string{"paused_by": p.By, "paused_at": p.At.Format(time.RFC3339)})
	s.log().Info("campaign resumed", "incident", id, "by", c.Identity, "via", c.Via)
	return p, nil
}
