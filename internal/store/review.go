package store

import (
	"context"
	"database/sql"
	"errors"
)

// ReviewMessage is where a draft revision's Approve / Reject message sits in
// the war room, so that whoever decides (in Slack, the console or the CLI)
// the message can be changed to say who did.
type ReviewMessage struct {
	IncidentID string
	Draft      string
	Revision   int
	Channel    string
	TS         string
}

// SaveReviewMessage records a posted review message; the first one wins.
func (s *Store) SaveReviewMessage(ctx context.Context, m ReviewMessage) error {
	_, err := s.exec(ctx, `INSERT INTO review_messages VALUES (?,?,?,?,?) ON CONFLICT DO NOTHING`, m.IncidentID, m.Draft, m.Revision, m.Channel, m.TS)
	return err
}

// GetReviewMessage finds the review message of a draft revision.
func (s *Store) GetReviewMessage(ctx context.Context, incidentID, draft string, revision int) (ReviewMessage, error) {
	m := ReviewMessage{IncidentID: incidentID, Draft: draft, Revision: revision}
	err := s.queryRow(ctx, `SELECT channel, ts FROM review_messages WHERE incident_id=? AND draft=? AND revision=?`, incidentID, draft, revision).Scan(&m.Channel, &m.TS)
	if errors.Is(err, sql.ErrNoRows) {
		return m, ErrNotFound
	}
	return m, err
}
