package service

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/workflows"
)

// AddWave adds people found after the first notice to a running incident,
// as c (legal or an admin): everyone of systems, or the subject IDs named
// (or both), scoped against the incident's snapshot. The store keeps the
// wave first (a bad ID refuses it, naming file and line); then the plan
// runs it: the new people join the affected set, duties they trigger are
// assessed and drafted for legal, and once legal approves only they are
// told. A wave the plan refuses is not kept. Audited.
func (s *Service) AddWave(ctx context.Context, c Caller, id string, systems []string, named *store.NamedSubjects) (incident.WaveState, error) {
	refuse := func(kind incident.Refused, err error) (incident.WaveState, error) {
		s.Audit(ctx, c, id, workflows.UpdateAdd, store.AuditRefused, map[string]string{"reason": err.Error()})
		return incident.WaveState{}, incident.Refuse(kind, err)
	}
	if !slices.Contains(releasers, c.Role) {
		return refuse(incident.Forbidden, fmt.Errorf("%s (%s) may not add people to an incident; legal and admins may", c.Identity, c.Role))
	}
	if _, ok := s.Visible(ctx, c, id); !ok {
		return incident.WaveState{}, incident.Refuse(incident.NotFound, errors.New("no incident "+id))
	}
	var clean []string
	for _, sys := range systems {
		if sys = strings.TrimSpace(sys); sys != "" && !slices.Contains(clean, sys) {
			clean = append(clean, sys)
		}
	}
	switch {
	case len(clean) == 0 && named == nil:
		return refuse(incident.Invalid, errors.New("name the systems (--systems) or the people (--subjects-file) the wave adds"))
	case len(clean) > workflows.MaxWaveSystems:
		return refuse(incident.Invalid, fmt.Errorf("systems: %d in one wave; at most %d", len(clean), workflows.MaxWaveSystems))
	}
	if rec, err := s.Record(ctx, id); err == nil && rec.Status == incident.StageClosed {
		return refuse(incident.Conflict, fmt.Errorf("%s is closed: open a follow-up incident for these people (tocsin incident open --subjects-file)", id))
	}
	w, err := s.Store.SaveWave(ctx, id, clean, named, c.Identity, time.Now())
	if err != nil {
		var unreadable *store.ImportError
		switch {
		case errors.As(err, &unreadable), errors.Is(err, store.ErrBadScope):
			return refuse(incident.Unreadable, err)
		case errors.Is(err, store.ErrNotScoped):
			return refuse(incident.Conflict, fmt.Errorf("%s is not scoped yet: its own scope will find these people", id))
		case errors.Is(err, store.ErrNotFound):
			return incident.WaveState{}, incident.Refuse(incident.NotFound, errors.New("no incident "+id))
		}
		return incident.WaveState{}, err
	}
	var out incident.WaveState
	detail := map[string]string{"wave": strconv.Itoa(w.Number), "systems": strings.Join(clean, ", "), "named": strconv.FormatInt(w.Named, 10)}
	if w.SubjectsFile != "" {
		detail["subjects_file"] = w.SubjectsFile
	}
	err = s.runUpdate(ctx, c, id, workflows.UpdateAdd, &incident.AddInput{Actor: actorOf(c), Wave: w.Number, Systems: clean, SubjectsFile: w.SubjectsFile, Named: w.Named}, &out, detail)
	if err != nil {
		if ferr := s.Store.ForgetWave(context.WithoutCancel(ctx), id, w.Number); ferr != nil {
			s.log().Warn("a refused wave was kept", "incident", id, "wave", w.Number, "error", ferr)
		}
		return incident.WaveState{}, err
	}
	s.log().Info("wave added", "incident", id, "wave", w.Number, "by", c.Identity, "systems", len(clean), "named", w.Named)
	return out, nil
}
