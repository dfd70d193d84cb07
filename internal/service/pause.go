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
	if now := time.Now().UTC(); p.RequestedBy != "" && p.Until.After(now) {
		// A hold lifted early: the duties it moved are due as assessed,
		// or now if that has passed.
		rec, err := s.Record(ctx, id)
		if err != nil {
			return p, err
		}
		var open []string
		for _, d := range p.Duties {
			if rec.Status != incident.StageClosed && !rec.Filings[d].Met() {
				open = append(open, d)
			}
		}
		if err := s.moveDue(ctx, c, id, open, now, p.RequestedBy); err != nil {
			return p, err
		}
	}
	return p, nil
}

// Hold is a delay law enforcement asked for.
type Hold struct {
	Until       time.Time
	Reason      string
	RequestedBy string
}

// MaxHold bounds a law-enforcement hold; a longer delay is asked for
// again (HIPAA's undocumented oral request lasts 30 days at most).
const MaxHold = 180 * 24 * time.Hour

// HoldCampaign delays an incident's notice to individuals until h.Until at
// law enforcement's request, as c (legal or an admin): only where the law
// of every duty to tell people lets such a request move it (the law
// files' law_enforcement_delay), recorded with the duties it moves,
// lifted when its time passes or early with ResumeCampaign. Audited.
func (s *Service) HoldCampaign(ctx context.Context, c Caller, id string, h Hold) (store.Pause, error) {
	refuse := func(kind incident.Refused, err error) (store.Pause, error) {
		s.Audit(ctx, c, id, "hold campaign", store.AuditRefused, map[string]string{"reason": err.Error()})
		return store.Pause{}, incident.Refuse(kind, err)
	}
	if !slices.Contains(releasers, c.Role) {
		return refuse(incident.Forbidden, fmt.Errorf("%s (%s) may not hold a campaign; legal and admins may", c.Identity, c.Role))
	}
	if _, ok := s.Visible(ctx, c, id); !ok {
		return store.Pause{}, incident.Refuse(incident.NotFound, errors.New("no incident "+id))
	}
	h.Reason, h.RequestedBy = strings.TrimSpace(h.Reason), strings.TrimSpace(h.RequestedBy)
	now := time.Now().UTC()
	switch {
	case h.Reason == "":
		return refuse(incident.Invalid, errors.New("say why notice must wait (--reason): the audit log and the war room keep it"))
	case len(h.Reason) > workflows.MaxNoteBytes:
		return refuse(incident.Invalid, fmt.Errorf("reason: %d bytes; at most %d", len(h.Reason), workflows.MaxNoteBytes))
	case h.RequestedBy == "":
		return refuse(incident.Invalid, errors.New("name the agency and officer who asked for the delay (--requested-by): the law asks for it on record"))
	case len(h.RequestedBy) > workflows.MaxNoteBytes:
		return refuse(incident.Invalid, fmt.Errorf("requested_by: %d bytes; at most %d", len(h.RequestedBy), workflows.MaxNoteBytes))
	case !h.Until.After(now):
		return refuse(incident.Invalid, fmt.Errorf("until: %s is not in the future", h.Until.UTC().Format(time.RFC3339)))
	case h.Until.Sub(now) > MaxHold:
		return refuse(incident.Invalid, fmt.Errorf("until: at most %d days ahead; ask again when the request is renewed", int(MaxHold.Hours()/24)))
	}
	rec, err := s.Record(ctx, id)
	if err != nil {
		return store.Pause{}, err
	}
	var moves, refuses, open []string
	for _, o := range rec.Obligations {
		if o.Audience != "individuals" {
			continue
		}
		if o.LawEnforcementDelay == "" {
			refuses = append(refuses, o.Name)
		} else {
			moves = append(moves, o.Name)
			// A closed plan has no due time left to move.
			if rec.Status != incident.StageClosed && !rec.Filings[o.Name].Met() {
				open = append(open, o.Name)
			}
		}
	}
	if len(moves)+len(refuses) == 0 {
		return refuse(incident.Conflict, fmt.Errorf("%s has no duty to tell people yet (it is not assessed, or none applies): nothing to hold", id))
	}
	if len(refuses) > 0 {
		return refuse(incident.Conflict, fmt.Errorf("the law of %s lets no law-enforcement request delay notice, and its people must still be told on time; Tocsin holds only a campaign every duty of which allows it (legal may still pause the whole campaign deliberately: tocsin incident pause)", strings.Join(refuses, ", ")))
	}
	p, fresh, err := s.Store.PauseCampaign(ctx, id, store.Pause{By: c.Identity, Reason: h.Reason, At: now, Until: h.Until.UTC(), RequestedBy: h.RequestedBy, Duties: moves})
	if err != nil {
		return store.Pause{}, err
	}
	if !fresh {
		return refuse(incident.Conflict, fmt.Errorf("the campaign of %s is already paused, by %s at %s: %s (resume it first)", id, p.By, p.At.Format("2006-01-02 15:04 UTC"), p.Reason))
	}
	s.Audit(ctx, c, id, "hold campaign", store.AuditDone, map[string]string{"reason": h.Reason, "requested_by": h.RequestedBy, "until": h.Until.UTC().Format(time.RFC3339), "duties": strings.Join(moves, ", ")})
	s.log().Info("campaign held for law enforcement", "incident", id, "by", c.Identity, "until", h.Until.UTC())
	if err := s.moveDue(ctx, c, id, open, h.Until.UTC(), h.RequestedBy); err != nil {
		return p, err
	}
	return p, nil
}

// moveDue tells the plan that a law-enforcement delay moves duties' due
// times to no earlier than until (or, for a hold lifted early, back), so
// its reminders and overdue alerts follow. The hold itself is the store's:
// if the plan cannot be told, nothing is sent all the same, and c is told
// the due times did not move.
func (s *Service) moveDue(ctx context.Context, c Caller, id string, duties []string, until time.Time, requestedBy string) error {
	if len(duties) == 0 {
		return nil
	}
	var filings []incident.Filing
	err := s.runUpdate(ctx, c, id, workflows.UpdateDelay, &incident.DelayInput{Actor: actorOf(c), Duties: duties, Until: until, RequestedBy: requestedBy}, &filings,
		map[string]string{"duties": strings.Join(duties, ", "), "until": until.Format(time.RFC3339)})
	if err != nil {
		kind := incident.RefusedAs(err)
		if kind == 0 {
			kind = incident.Unavailable
		}
		return incident.Refuse(kind, fmt.Errorf("notice is held, but the plan's due times for %s did not move: %w", strings.Join(duties, ", "), err))
	}
	return nil
}
