package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Wave is a follow-up wave: people found after an incident's first notice
// (more systems, more named subject IDs, or both), added to its affected
// set against the same snapshot. The incident's own scope is wave 1.
type Wave struct {
	IncidentID   string
	Number       int
	Systems      []string
	SubjectsFile string
	Named        int64
	RequestedBy  string
	RequestedAt  time.Time
	// Added is how many people the wave brought in; -1 until applied.
	Added int64
}

// ErrNotScoped refuses a wave for an incident whose affected set is not
// written yet: its own scope will find these people.
var ErrNotScoped = errors.New("the incident is not scoped yet")

// SaveWave records a follow-up wave before the incident's plan is asked
// to apply it: the systems it names must be in the incident's snapshot,
// and every subject ID it names a person of it (*ImportError otherwise,
// naming file and line). Nothing is kept when it refuses.
func (s *Store) SaveWave(ctx context.Context, incidentID string, systems []string, named *NamedSubjects, by string, at time.Time) (Wave, error) {
	snap, scoped, err := s.scopeState(ctx, incidentID)
	if err != nil {
		return Wave{}, err
	}
	if !scoped {
		return Wave{}, fmt.Errorf("incident %s: %w", incidentID, ErrNotScoped)
	}
	known, err := s.systemCategories(ctx, snap)
	if err != nil {
		return Wave{}, err
	}
	for _, id := range systems {
		if _, ok := known[id]; !ok {
			return Wave{}, fmt.Errorf("system %q is not in inventory snapshot %d, which the incident scopes against: %w", id, snap, ErrBadScope)
		}
	}
	w := Wave{IncidentID: incidentID, Systems: systems, RequestedBy: by, RequestedAt: at.UTC(), Added: -1}
	if named != nil {
		w.SubjectsFile = named.File
	}
	err = s.inTx(ctx, func(t *tx) error {
		if err := t.queryRow(ctx, `SELECT coalesce(max(wave), 1) + 1 FROM incident_waves WHERE incident_id=?`, incidentID).Scan(&w.Number); err != nil {
			return err
		}
		if named != nil {
			n, err := t.loadNamed(ctx, "wave_subjects", []string{"incident_id", "wave"}, []any{incidentID, w.Number}, snap, named)
			if err != nil {
				return err
			}
			w.Named = n
		}
		_, err := t.exec(ctx, `INSERT INTO incident_waves (incident_id, wave, systems, subjects_file, named, requested_by, requested_at) VALUES (?,?,?,?,?,?,?)`,
			incidentID, w.Number, strings.Join(systems, ";"), w.SubjectsFile, w.Named, by, formatTime(w.RequestedAt))
		return err
	})
	return w, err
}

// ForgetWave removes a wave the plan refused (it was never applied).
func (s *Store) ForgetWave(ctx context.Context, incidentID string, wave int) error {
	return s.inTx(ctx, func(t *tx) error {
		var added int64
		err := t.queryRow(ctx, `SELECT added FROM incident_waves WHERE incident_id=? AND wave=?`, incidentID, wave).Scan(&added)
		if errors.Is(err, sql.ErrNoRows) || err == nil && added >= 0 {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := t.exec(ctx, `DELETE FROM wave_subjects WHERE incident_id=? AND wave=?`, incidentID, wave); err != nil {
			return err
		}
		_, err = t.exec(ctx, `DELETE FROM incident_waves WHERE incident_id=? AND wave=?`, incidentID, wave)
		return err
	})
}

// WaveInput applies a saved wave: Systems are all the incident's systems
// with the wave's, Categories and Regions the incident's.
type WaveInput struct {
	IncidentID string
	Wave       int
	Systems    []string
	Categories []string
	Regions    []string
	Year       int
}

// ApplyWave adds the wave's people to the incident's affected set, once:
// everyone of the exposed systems in the incident's regions (only the
// wave's named subject IDs, when it names some) who is not already in it.
// Nobody already there is touched: they were told, or are being told, and
// their rows are evidence. It answers how many people the wave added and
// the scope's aggregates over everyone now affected; applied again, it
// adds nobody and answers the same count.
func (s *Store) ApplyWave(ctx context.Context, in WaveInput) (int64, ScopeSummary, error) {
	snap, scoped, err := s.scopeState(ctx, in.IncidentID)
	if err != nil {
		return 0, ScopeSummary{}, err
	}
	if !scoped {
		return 0, ScopeSummary{}, fmt.Errorf("incident %s: %w", in.IncidentID, ErrNotScoped)
	}
	systems, err := s.systemCategories(ctx, snap)
	if err != nil {
		return 0, ScopeSummary{}, err
	}
	for _, id := range in.Systems {
		if _, ok := systems[id]; !ok {
			return 0, ScopeSummary{}, fmt.Errorf("incident names system %q, which is not in inventory snapshot %d: %w", id, snap, ErrBadScope)
		}
	}
	scope := ScopeInput{IncidentID: in.IncidentID, Snapshot: snap, Systems: in.Systems, Categories: in.Categories, Regions: in.Regions, Year: in.Year}
	sets, err := s.exposedSets(ctx, scope, systems)
	if err != nil {
		return 0, ScopeSummary{}, err
	}
	t, err := s.begin(ctx)
	if err != nil {
		return 0, ScopeSummary{}, err
	}
	defer t.Rollback()
	var added, named int64
	err = t.queryRow(ctx, `SELECT added, named FROM incident_waves WHERE incident_id=? AND wave=?`, in.IncidentID, in.Wave).Scan(&added, &named)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, ScopeSummary{}, fmt.Errorf("incident %s has no wave %d: %w", in.IncidentID, in.Wave, ErrNotFound)
	}
	if err != nil {
		return 0, ScopeSummary{}, err
	}
	table := affectedTable(in.IncidentID)
	if added < 0 {
		// A set the wave's systems expose now also lists their
		// categories (what the verify page shows a person of that set).
		if _, err := t.exec(ctx, `DELETE FROM scope_sets WHERE incident_id=?`, in.IncidentID); err != nil {
			return 0, ScopeSummary{}, err
		}
		for _, set := range sets {
			if _, err := t.exec(ctx, `INSERT INTO scope_sets VALUES (?,?,?,?)`, in.IncidentID, set.id, set.categories, boolInt(set.sensitive)); err != nil {
				return 0, ScopeSummary{}, err
			}
		}
		more := []string{"NOT EXISTS (SELECT 1 FROM " + table + " a WHERE a.subject_id = s.subject_id)"}
		var moreArgs []any
		if named > 0 {
			more = append(more, "s.subject_id IN (SELECT subject_id FROM wave_subjects WHERE incident_id=? AND wave=?)")
			moreArgs = []any{in.IncidentID, in.Wave}
		}
		selectAffected, from, args := affectedSelect(scope, sets, more, moreArgs)
		res, err := t.exec(ctx, `INSERT INTO `+table+` (subject_id, region, locale, set_id, sensitive, minor, reach, consent) `+selectAffected+from, args...)
		if err != nil {
			return 0, ScopeSummary{}, err
		}
		if added, err = res.RowsAffected(); err != nil {
			return 0, ScopeSummary{}, err
		}
		if _, err := t.exec(ctx, `UPDATE incident_waves SET added=? WHERE incident_id=? AND wave=?`, added, in.IncidentID, in.Wave); err != nil {
			return 0, ScopeSummary{}, err
		}
	}
	// The aggregates come from the affected set itself: after a wave it is
	// no longer one filter over the snapshot's counts.
	scope.NamedOnly = true
	sum, groups, err := t.summarise(ctx, scope, sets)
	if err != nil {
		return 0, ScopeSummary{}, err
	}
	if err := t.keepReachGroups(ctx, in.IncidentID, groups); err != nil {
		return 0, ScopeSummary{}, err
	}
	sum.Snapshot = snap
	return added, sum, t.Commit()
}

// Waves lists an incident's follow-up waves, oldest first.
func (s *Store) Waves(ctx context.Context, incidentID string) ([]Wave, error) {
	rows, err := s.query(ctx, `SELECT wave, systems, subjects_file, named, requested_by, requested_at, added FROM incident_waves WHERE incident_id=? ORDER BY wave`, incidentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Wave
	for rows.Next() {
		w := Wave{IncidentID: incidentID}
		var systems, at string
		if err := rows.Scan(&w.Number, &systems, &w.SubjectsFile, &w.Named, &w.RequestedBy, &at, &w.Added); err != nil {
			return nil, err
		}
		if systems != "" {
			w.Systems = strings.Split(systems, ";")
		}
		w.RequestedAt = parseTime(at)
		out = append(out, w)
	}
	return out, rows.Err()
}
