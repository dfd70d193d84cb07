package store

import (
	"github.com/tocsin/tocsin/internal/plandata"

	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// DrillMessage is what a drill sink received instead of a real person,
// channel or the public: drills never reach anyone.
type DrillMessage struct {
	IncidentID string    `json:"incident_id"`
	SubjectID  string    `json:"subject_id,omitempty"`
	Channel    string    `json:"channel"`
	To         string    `json:"to"` // masked
	Title      string    `json:"title,omitempty"`
	Body       string    `json:"body"`
	At         time.Time `json:"at,omitzero"`
}

// RecordDrillMessage keeps one message a drill sent; key makes a retried send
// a no-op (subject/channel for notices).
func (s *Store) RecordDrillMessage(ctx context.Context, key string, m DrillMessage) error {
	_, err := s.exec(ctx, `INSERT INTO drill_messages VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING`,
		m.IncidentID, key, m.SubjectID, m.Channel, m.To, m.Title, m.Body, now())
	return err
}

// DrillMessages lists what a drill incident's sinks received, in order.
func (s *Store) DrillMessages(ctx context.Context, incidentID string) ([]DrillMessage, error) {
	rows, err := s.query(ctx, `SELECT incident_id, subject_id, channel, recipient, title, body, at FROM drill_messages WHERE incident_id=? ORDER BY at, msg_key`, incidentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DrillMessage
	for rows.Next() {
		var m DrillMessage
		var at string
		if err := rows.Scan(&m.IncidentID, &m.SubjectID, &m.Channel, &m.To, &m.Title, &m.Body, &at); err != nil {
			return nil, err
		}
		m.At = parseTime(at)
		out = append(out, m)
	}
	return out, rows.Err()
}

// Drill statuses.
const (
	DrillRunning = "running"
	DrillPassed  = "passed"
	DrillFailed  = "failed"
)

// Drill is one run of the plan on a synthetic breach, with its report.
type Drill struct {
	ID          string       `json:"id"`
	Playbook    string       `json:"playbook"`
	RequestedBy string       `json:"requested_by"`
	Attended    bool         `json:"attended"`
	IncidentID  string       `json:"incident_id"`
	Status      string       `json:"status"`
	StartedAt   time.Time    `json:"started_at,omitzero"`
	FinishedAt  time.Time    `json:"finished_at,omitzero"`
	Report      *DrillReport `json:"report,omitempty"`
}

// DrillReport and MilestoneResult are the plan's (a drill workflow's result).
type (
	DrillReport     = plandata.DrillReport
	MilestoneResult = plandata.MilestoneResult
)

// SaveDrill records a drill or its outcome; saving again replaces it.
func (s *Store) SaveDrill(ctx context.Context, d Drill) error {
	report := ""
	if d.Report != nil {
		b, err := json.Marshal(d.Report)
		if err != nil {
			return err
		}
		report = string(b)
	}
	finished := ""
	if !d.FinishedAt.IsZero() {
		finished = formatTime(d.FinishedAt)
	}
	_, err := s.exec(ctx, `INSERT INTO drills VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET
		incident_id=excluded.incident_id, status=excluded.status, finished_at=excluded.finished_at, report=excluded.report`,
		d.ID, d.Playbook, d.RequestedBy, boolInt(d.Attended), d.IncidentID, d.Status, formatTime(d.StartedAt), finished, report)
	return err
}

const drillColumns = `id, playbook, requested_by, attended, incident_id, status, started_at, finished_at, report`

func scanDrill(scan func(...any) error) (Drill, error) {
	var d Drill
	var attended int
	var started, finished, report string
	if err := scan(&d.ID, &d.Playbook, &d.RequestedBy, &attended, &d.IncidentID, &d.Status, &started, &finished, &report); err != nil {
		return d, err
	}
	d.Attended, d.StartedAt = attended == 1, parseTime(started)
	if finished != "" {
		d.FinishedAt = parseTime(finished)
	}
	if report != "" {
		d.Report = &DrillReport{}
		if err := json.Unmarshal([]byte(report), d.Report); err != nil {
			return d, fmt.Errorf("drill %s report: %w", d.ID, err)
		}
	}
	return d, nil
}

// GetDrill reads one drill.
func (s *Store) GetDrill(ctx context.Context, id string) (Drill, error) {
	d, err := scanDrill(s.queryRow(ctx, `SELECT `+drillColumns+` FROM drills WHERE id=?`, id).Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("drill %s: %w", id, ErrNotFound)
	}
	return d, err
}

// ListDrills lists drills, newest first.
func (s *Store) ListDrills(ctx context.Context) ([]Drill, error) {
	rows, err := s.query(ctx, `SELECT `+drillColumns+` FROM drills ORDER BY started_at DESC`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Drill{}
	for rows.Next() {
		d, err := scanDrill(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// RealDeliveries counts an incident's ledger rows that a provider, not a
// drill sink, handled: for a drill it must be zero.
func (s *Store) RealDeliveries(ctx context.Context, incidentID string) (int, error) {
	var n int
	err := s.queryRow(ctx, `SELECT count(*) FROM deliveries WHERE incident_id=? AND provider_ref <> '' AND provider_ref NOT LIKE 'drill-%'`, incidentID).Scan(&n)
	return n, err
}
