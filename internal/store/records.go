package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/tocsin/tocsin/internal/incident"
)

// RecordSummary is what lists and the breach register filter and sort by,
// kept in columns beside the record so that listing ten thousand incidents
// reads neither the records nor Temporal.
type RecordSummary = incident.Summary

// SaveRecord keeps the incident's record as the workflow last wrote it:
// what people see of the plan (stage, duties, filings, decisions,
// timeline, campaign), so it outlives the workflow's history. seq orders
// the writes: a retried or late write of an older state changes nothing,
// neither the record nor its summary. The record is the workflow's own
// JSON; the store does not read it.
func (s *Store) SaveRecord(ctx context.Context, incidentID string, seq int, record []byte, sum RecordSummary) error {
	return s.inTx(ctx, func(t *tx) error {
		res, err := t.exec(ctx, `INSERT INTO incident_records (incident_id, seq, record, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (incident_id) DO UPDATE SET seq = excluded.seq, record = excluded.record, updated_at = excluded.updated_at
		WHERE incident_records.seq < excluded.seq`, incidentID, seq, string(record), now())
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return err
		}
		_, err = t.exec(ctx, `UPDATE incidents SET status = ?, jurisdictions = ?, subjects = ?, reached = ? WHERE id = ?`,
			sum.Status, wrapList(sum.Jurisdictions), sum.Subjects, sum.Reached, incidentID)
		return err
	})
}

// StoredRecord is an incident's record as the workflow last wrote it.
type StoredRecord struct {
	Record    []byte
	Seq       int
	WrittenAt time.Time
}

// GetRecord returns the incident's last record, or ErrNotFound.
func (s *Store) GetRecord(ctx context.Context, incidentID string) (StoredRecord, error) {
	var rec, at string
	var out StoredRecord
	err := s.queryRow(ctx, `SELECT record, seq, updated_at FROM incident_records WHERE incident_id = ?`, incidentID).Scan(&rec, &out.Seq, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return StoredRecord{}, ErrNotFound
	}
	out.Record, out.WrittenAt = []byte(rec), parseTime(at)
	return out, err
}

// wrapList keeps a list in one column as ",a,b,": a LIKE '%,a,%' then
// matches one whole item. Items are codes or identities without commas.
func wrapList(items []string) string {
	if len(items) == 0 {
		return ""
	}
	return "," + strings.Join(items, ",") + ","
}

func unwrapList(col string) []string {
	if col = strings.Trim(col, ","); col == "" {
		return nil
	}
	return strings.Split(col, ",")
}

// backfillSummaries fills the list columns of incidents from before them:
// their viewers from the spec, and status and counts from the record. This
// is the one place the store reads a record, for the few fields it names.
func (s *Store) backfillSummaries(ctx context.Context) error {
	rows, err := s.query(ctx, `SELECT i.id, i.spec, COALESCE(r.record, '') FROM incidents i LEFT JOIN incident_records r ON r.incident_id = i.id WHERE i.summarised = 0`)
	if err != nil {
		return err
	}
	type pending struct {
		id      string
		viewers string
		sum     RecordSummary
	}
	var todo []pending
	for rows.Next() {
		var id, spec, rec string
		if err := rows.Scan(&id, &spec, &rec); err != nil {
			rows.Close()
			return err
		}
		var sp struct {
			RestrictedTo []string `json:"restricted_to"`
		}
		_ = json.Unmarshal([]byte(spec), &sp)
		p := pending{id: id, viewers: wrapList(sp.RestrictedTo)}
		if rec != "" {
			var r struct {
				Status      string `json:"status"`
				Obligations []struct {
					Jurisdiction string `json:"jurisdiction"`
				} `json:"obligations"`
				Scope *struct {
					Subjects int `json:"subjects"`
				} `json:"scope"`
				Reach *struct {
					Reached int `json:"reached"`
				} `json:"reach"`
			}
			if json.Unmarshal([]byte(rec), &r) == nil {
				p.sum.Status = r.Status
				for _, o := range r.Obligations {
					if !slices.Contains(p.sum.Jurisdictions, o.Jurisdiction) {
						p.sum.Jurisdictions = append(p.sum.Jurisdictions, o.Jurisdiction)
					}
				}
				if r.Scope != nil {
					p.sum.Subjects = r.Scope.Subjects
				}
				if r.Reach != nil {
					p.sum.Reached = r.Reach.Reached
				}
			}
		}
		todo = append(todo, p)
	}
	if err := rows.Close(); err != nil {
		return err
	}
	for _, p := range todo {
		if _, err := s.exec(ctx, `UPDATE incidents SET viewers = ?, status = ?, jurisdictions = ?, subjects = ?, reached = ?, summarised = 1 WHERE id = ?`,
			p.viewers, p.sum.Status, wrapList(p.sum.Jurisdictions), p.sum.Subjects, p.sum.Reached, p.id); err != nil {
			return err
		}
	}
	return nil
}
