package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// HeldCall is a phone call held back for the person's quiet hours: placed
// once Until passes. Local is that moment in the person's own zone.
type HeldCall struct {
	SubjectID string
	Until     time.Time
	Local     string
}

// HeldSummary is what people waiting on a campaign need to know about its
// held calls: how many, and from when to when they will be placed.
type HeldSummary struct {
	Calls       int
	First, Last time.Time
	// FirstLocal and LastLocal are those moments in the people's own zones.
	FirstLocal, LastLocal string
}

// HoldCalls records calls a batch held back (again, after a retry).
func (s *Store) HoldCalls(ctx context.Context, incidentID string, calls []HeldCall) error {
	if len(calls) == 0 {
		return nil
	}
	return s.inTx(ctx, func(t *tx) error {
		for _, c := range calls {
			if _, err := t.exec(ctx, `INSERT INTO held_calls (incident_id, subject_id, until_utc, until_local) VALUES (?,?,?,?)
				ON CONFLICT(incident_id, subject_id) DO UPDATE SET until_utc=excluded.until_utc, until_local=excluded.until_local`,
				incidentID, c.SubjectID, formatTime(c.Until), c.Local); err != nil {
				return err
			}
		}
		return nil
	})
}

// ReleaseHeldCalls forgets the holds of calls now being placed.
func (s *Store) ReleaseHeldCalls(ctx context.Context, incidentID string, subjectIDs []string) error {
	if len(subjectIDs) == 0 {
		return nil
	}
	return s.inTx(ctx, func(t *tx) error {
		for _, id := range subjectIDs {
			if _, err := t.exec(ctx, `DELETE FROM held_calls WHERE incident_id=? AND subject_id=?`, incidentID, id); err != nil {
				return err
			}
		}
		return nil
	})
}

// HeldCalls summarises the incident's held calls.
func (s *Store) HeldCalls(ctx context.Context, incidentID string) (HeldSummary, error) {
	var h HeldSummary
	if err := s.queryRow(ctx, `SELECT count(*) FROM held_calls WHERE incident_id=?`, incidentID).Scan(&h.Calls); err != nil || h.Calls == 0 {
		return h, err
	}
	var first, last string
	if err := s.queryRow(ctx, `SELECT until_utc, until_local FROM held_calls WHERE incident_id=? ORDER BY until_utc, subject_id LIMIT 1`, incidentID).Scan(&first, &h.FirstLocal); err != nil {
		return h, err
	}
	if err := s.queryRow(ctx, `SELECT until_utc, until_local FROM held_calls WHERE incident_id=? ORDER BY until_utc DESC, subject_id LIMIT 1`, incidentID).Scan(&last, &h.LastLocal); err != nil {
		return h, err
	}
	h.First, h.Last = parseTime(first), parseTime(last)
	return h, nil
}

// QuietRelease is legal's or an admin's decision that an incident's calls
// no longer wait for quiet hours: the harm is urgent.
type QuietRelease struct {
	By     string    `json:"by"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// ReleaseQuietHours records the decision (the first stands: releasing again
// changes nothing).
func (s *Store) ReleaseQuietHours(ctx context.Context, incidentID string, r QuietRelease) (QuietRelease, error) {
	if _, err := s.exec(ctx, `INSERT INTO quiet_releases (incident_id, by_whom, reason, at) VALUES (?,?,?,?) ON CONFLICT DO NOTHING`, incidentID, r.By, r.Reason, formatTime(r.At)); err != nil {
		return QuietRelease{}, err
	}
	got, _, err := s.QuietReleased(ctx, incidentID)
	return got, err
}

// QuietReleased says whether an incident's calls were released from quiet
// hours, and by whom.
func (s *Store) QuietReleased(ctx context.Context, incidentID string) (QuietRelease, bool, error) {
	var r QuietRelease
	var at string
	err := s.queryRow(ctx, `SELECT by_whom, reason, at FROM quiet_releases WHERE incident_id=?`, incidentID).Scan(&r.By, &r.Reason, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return r, false, nil
	}
	r.At = parseTime(at)
	return r, err == nil, err
}
