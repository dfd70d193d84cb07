package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Pause is a campaign stopped by a person: who, why and since when.
type Pause struct {
	By     string    `json:"by"`
	Reason string    `json:"reason"`
	At     time.Time `json:"at"`
}

// PauseCampaign stops an incident's campaign from sending; a campaign
// already paused stays paused as it was (first reason stands). fresh is
// whether this call paused it.
func (s *Store) PauseCampaign(ctx context.Context, incidentID string, p Pause) (got Pause, fresh bool, err error) {
	res, err := s.exec(ctx, `INSERT INTO campaign_pauses (incident_id, by_whom, reason, at) VALUES (?,?,?,?) ON CONFLICT DO NOTHING`, incidentID, p.By, p.Reason, formatTime(p.At))
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
	_, err = s.exec(ctx, `DELETE FROM campaign_pauses WHERE incident_id=?`, incidentID)
	return p, err
}

// CampaignPaused says whether an incident's campaign is paused, and how.
func (s *Store) CampaignPaused(ctx context.Context, incidentID string) (Pause, bool, error) {
	var p Pause
	var at string
	err := s.queryRow(ctx, `SELECT by_whom, reason, at FROM campaign_pauses WHERE incident_id=?`, incidentID).Scan(&p.By, &p.Reason, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return Pause{}, false, nil
	}
	if err != nil {
		return Pause{}, false, err
	}
	p.At = parseTime(at)
	return p, true, nil
}
