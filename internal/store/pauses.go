package store

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/tocsin/tocsin/internal/pacing"
)

// Pause is a campaign stopped by a person: who, why and since when; for a
// hold law enforcement asked for, until when, who asked, and the duties
// whose law lets it move them.
type Pause struct {
	By          string    `json:"by"`
	Reason      string    `json:"reason"`
	At          time.Time `json:"at"`
	Until       time.Time `json:"until,omitzero"`
	RequestedBy string    `json:"requested_by,omitempty"`
	Duties      []string  `json:"duties,omitempty"`
}

// PauseCampaign stops an incident's campaign from sending; a campaign
// already paused stays paused as it was (first reason stands). fresh is
// whether this call paused it.
func (s *Store) PauseCampaign(ctx context.Context, incidentID string, p Pause) (got Pause, fresh bool, err error) {
	// A hold whose time has passed is over: it does not stand in the way.
	if _, err := s.exec(ctx, `DELETE FROM campaign_pauses WHERE incident_id=? AND until <> '' AND until <= ?`, incidentID, formatTime(time.Now())); err != nil {
		return Pause{}, false, err
	}
	until := ""
	if !p.Until.IsZero() {
		until = formatTime(p.Until)
	}
	res, err := s.exec(ctx, `INSERT INTO campaign_pauses (incident_id, by_whom, reason, at, until, requested_by, duties) VALUES (?,?,?,?,?,?,?) ON CONFLICT DO NOTHING`,
		incidentID, p.By, p.Reason, formatTime(p.At), until, p.RequestedBy, strings.Join(p.Duties, ","))
	if err != nil {
		return Pause{}, false, err
	}
	n, _ := res.RowsAffected()
	got, _, err = s.CampaignPaused(ctx, incidentID)
	return got, n == 1, err
}

// ResumeCampaign lets a paused campaign send again, returning the pause it
// ends; ErrNotFound when it was not paused.
func (s *Store) ResumeCampaign(ctx context.Context, incidentID string) (Pause, error) {
	p, paused, err := s.CampaignPaused(ctx, incidentID)
	if err != nil {
		return Pause{}, err
	}
	if !paused {
		return Pause{}, ErrNotFound
	}
	t, err := s.begin(ctx)
	if err != nil {
		return Pause{}, err
	}
	defer t.Rollback()
	if _, err := t.exec(ctx, `DELETE FROM campaign_pauses WHERE incident_id=?`, incidentID); err != nil {
		return Pause{}, err
	}
	if _, err := t.exec(ctx, `INSERT INTO campaign_resumes (incident_id, at) VALUES (?,?) ON CONFLICT (incident_id) DO UPDATE SET at=excluded.at`,
		incidentID, formatTime(time.Now())); err != nil {
		return Pause{}, err
	}
	return p, t.Commit()
}

// MeasureWindow is how far back before now an incident's sends tell the
// pace its providers keep: pacing.MeasureWindow, or less when the campaign
// resumed from a pause (or a hold lapsed) within it, so that the pause's
// silence is not taken for slowness; 0 while it is paused.
func (s *Store) MeasureWindow(ctx context.Context, incidentID string, now time.Time) (time.Duration, error) {
	var resumed time.Time
	p, found, err := s.pause(ctx, incidentID)
	switch {
	case err != nil:
		return 0, err
	case found && p.holdsAt(now):
		return 0, nil
	case found:
		resumed = p.Until
	}
	var at string
	err = s.queryRow(ctx, `SELECT at FROM campaign_resumes WHERE incident_id=?`, incidentID).Scan(&at)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	if at := parseTime(at); at.After(resumed) {
		resumed = at
	}
	return pacing.WindowSince(now, resumed), nil
}

// CampaignPaused says whether an incident's campaign is paused, and how;
// a hold whose time has passed is lifted.
func (s *Store) CampaignPaused(ctx context.Context, incidentID string) (Pause, bool, error) {
	p, found, err := s.pause(ctx, incidentID)
	if err != nil || !found || !p.holdsAt(time.Now()) {
		return Pause{}, false, err
	}
	return p, true, nil
}

// holdsAt says whether the pause still stands at now: until resumed, or
// for a hold with an end, until that end.
func (p Pause) holdsAt(now time.Time) bool { return p.Until.IsZero() || now.Before(p.Until) }

// pause is an incident's pause row, a lapsed hold's included.
func (s *Store) pause(ctx context.Context, incidentID string) (Pause, bool, error) {
	var p Pause
	var at, until, duties string
	err := s.queryRow(ctx, `SELECT by_whom, reason, at, until, requested_by, duties FROM campaign_pauses WHERE incident_id=?`, incidentID).
		Scan(&p.By, &p.Reason, &at, &until, &p.RequestedBy, &duties)
	if errors.Is(err, sql.ErrNoRows) {
		return Pause{}, false, nil
	}
	if err != nil {
		return Pause{}, false, err
	}
	p.At = parseTime(at)
	if duties != "" {
		p.Duties = strings.Split(duties, ",")
	}
	if until != "" {
		p.Until = parseTime(until)
	}
	return p, true, nil
}
