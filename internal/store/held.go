package store

import (
	"context"
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
