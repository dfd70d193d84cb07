package store

import (
	"context"
	"database/sql"
	"errors"
)

// SaveRecord keeps the incident's record as the workflow last wrote it:
// what people see of the plan (stage, duties, filings, decisions,
// timeline, campaign), so it outlives the workflow's history. seq orders
// the writes: a retried or late write of an older state changes nothing.
// The record is the workflow's own JSON; the store does not read it.
func (s *Store) SaveRecord(ctx context.Context, incidentID string, seq int, record []byte) error {
	_, err := s.exec(ctx, `INSERT INTO incident_records (incident_id, seq, record, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (incident_id) DO UPDATE SET seq = excluded.seq, record = excluded.record, updated_at = excluded.updated_at
		WHERE incident_records.seq < excluded.seq`, incidentID, seq, string(record), now())
	return err
}

// GetRecord returns the incident's last record and its seq, or ErrNotFound.
func (s *Store) GetRecord(ctx context.Context, incidentID string) ([]byte, int, error) {
	var rec string
	var seq int
	err := s.queryRow(ctx, `SELECT record, seq FROM incident_records WHERE incident_id = ?`, incidentID).Scan(&rec, &seq)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, ErrNotFound
	}
	return []byte(rec), seq, err
}
