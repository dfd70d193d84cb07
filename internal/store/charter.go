package store

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
)

// NewCharter makes the secret an incident's opener hands its workflow: the
// store keeps it, the workflow's first step shows it, and only one run may
// claim it. Someone who can start workflows in Temporal but not write this
// store cannot start a run that Tocsin will act on.
func NewCharter() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Charter is what the store says about an incident, for its workflow: the
// facts a run must take from here, never from its own input.
type Charter struct {
	Incident
	// Attended is the drill's (a drill with no drill row, opened from an
	// incident file, is attended: people approve).
	Attended bool
}

// ErrCharterRefused is a run the store does not recognise as the incident's.
var ErrCharterRefused = errors.New("run refused")

// ClaimCharter gives run the incident's charter if charter is the one the
// store issued, no other run holds it and check (what the run says of
// itself against the store) passes; claiming again from the same run (an
// activity retried) answers the same. A refusal wraps ErrCharterRefused.
func (s *Store) ClaimCharter(ctx context.Context, id, charter, run string, check func(Charter) error) (Charter, error) {
	var c Charter
	err := s.inTx(ctx, func(t *tx) error {
		var want, holder string
		row := t.queryRow(ctx, `SELECT `+incidentColumns+`, charter, charter_run FROM incidents WHERE id=?`, id)
		inc, err := scanIncident(func(dest ...any) error { return row.Scan(append(dest, &want, &holder)...) })
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("%w: Tocsin has no incident %s (no API call opened it)", ErrCharterRefused, id)
		}
		if err != nil {
			return err
		}
		c.Incident = inc
		if inc.Drill {
			var attended int
			err := t.queryRow(ctx, `SELECT attended FROM drills WHERE incident_id=?`, id).Scan(&attended)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
			c.Attended = errors.Is(err, sql.ErrNoRows) || attended == 1
		}
		switch {
		case want == "":
			return fmt.Errorf("%w: incident %s was opened before charters and is not run again", ErrCharterRefused, id)
		case subtle.ConstantTimeCompare([]byte(want), []byte(charter)) != 1:
			return fmt.Errorf("%w: the run does not carry the charter Tocsin issued when it opened %s (it was not started by Tocsin's API)", ErrCharterRefused, id)
		case holder != "" && holder != run:
			return fmt.Errorf("%w: %s already ran as run %s; a second run of an incident is not acted on", ErrCharterRefused, id, holder)
		}
		if err := check(c); err != nil {
			return fmt.Errorf("%w: %w", ErrCharterRefused, err)
		}
		if holder == "" {
			if _, err := t.exec(ctx, `UPDATE incidents SET charter_run=? WHERE id=? AND charter_run=''`, run, id); err != nil {
				return err
			}
		}
		return nil
	})
	return c, err
}

// IncidentCharter reads the charter an incident was opened with (a drill's
// preparation, retried, hands its workflow the same one).
func (s *Store) IncidentCharter(ctx context.Context, id string) (string, error) {
	var c string
	err := s.queryRow(ctx, `SELECT charter FROM incidents WHERE id=?`, id).Scan(&c)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("incident %s: %w", id, ErrNotFound)
	}
	return c, err
}

// RunRefusal is a workflow run of an incident that Tocsin refused to act on.
type RunRefusal struct {
	RunID  string    `json:"run_id"`
	At     time.Time `json:"at"`
	Reason string    `json:"reason"`
}

// RefuseRun records that a run was refused; it answers whether this call
// recorded it (false: already recorded, as when the activity is retried).
func (s *Store) RefuseRun(ctx context.Context, id string, r RunRefusal) (bool, error) {
	res, err := s.exec(ctx, `INSERT INTO run_refusals (incident_id, run_id, at, reason) VALUES (?,?,?,?) ON CONFLICT DO NOTHING`, id, r.RunID, formatTime(r.At), r.Reason)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RunRefusals lists an incident's refused runs, oldest first.
func (s *Store) RunRefusals(ctx context.Context, id string) ([]RunRefusal, error) {
	rows, err := s.query(ctx, `SELECT run_id, at, reason FROM run_refusals WHERE incident_id=? ORDER BY at, run_id LIMIT 100`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []RunRefusal
	for rows.Next() {
		var r RunRefusal
		var at string
		if err := rows.Scan(&r.RunID, &at, &r.Reason); err != nil {
			return nil, err
		}
		r.At = parseTime(at)
		out = append(out, r)
	}
	return out, rows.Err()
}

// ChartedRun is the run that claimed the incident's charter ("" before its
// run has claimed it): the one run Tocsin asks about the incident.
func (s *Store) ChartedRun(ctx context.Context, id string) (string, error) {
	var run string
	err := s.queryRow(ctx, `SELECT charter_run FROM incidents WHERE id=?`, id).Scan(&run)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("incident %s: %w", id, ErrNotFound)
	}
	return run, err
}
