package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/tocsin/tocsin/internal/inventory"
)

// TextedPerson is who a number we texted a notice to belongs to.
type TextedPerson struct {
	IncidentID string
	SubjectID  string
	Locale     string
}

// recentIncidents bounds how many incidents a reply is matched against:
// people answer the latest texts they got.
const recentIncidents = 50

// phoneIndex indexes a snapshot by phone number, made the first time a
// reply comes from a number (so an import does not pay for it). Partial,
// as onsiteIndex: a query uses it by repeating the condition.
func phoneIndex(snapshot int64, column string) string {
	t := subjectsTable(snapshot)
	return `CREATE INDEX IF NOT EXISTS ` + t + `_` + column + ` ON ` + t + ` (` + column + `) WHERE ` + column + ` <> ''`
}

// TextedAt finds the person a reply from phone answers: among the latest
// real incidents (not drills), the one whose notice we texted to that
// number most recently. A number two affected people share (a family's)
// goes to the one texted last. ErrNotFound: we texted that number nothing.
func (s *Store) TextedAt(ctx context.Context, phone string) (TextedPerson, error) {
	if phone == "" {
		return TextedPerson{}, fmt.Errorf("no number: %w", ErrNotFound)
	}
	rows, err := s.query(ctx, `SELECT id, snapshot_id FROM incidents WHERE drill=0 AND scoped=1 AND snapshot_id IS NOT NULL ORDER BY opened_at DESC LIMIT ?`, recentIncidents)
	if err != nil {
		return TextedPerson{}, err
	}
	type candidate struct {
		id   string
		snap int64
	}
	var cands []candidate
	for rows.Next() {
		var c candidate
		if err := rows.Scan(&c.id, &c.snap); err != nil {
			rows.Close()
			return TextedPerson{}, err
		}
		cands = append(cands, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return TextedPerson{}, err
	}
	var best TextedPerson
	var bestAt string
	for _, c := range cands {
		if _, done := s.phoneIndexed.Load(c.snap); !done {
			for _, col := range []string{"phone", inventory.GuardianPhone} {
				if _, err := s.exec(ctx, phoneIndex(c.snap, col)); err != nil {
					return TextedPerson{}, err
				}
			}
			s.phoneIndexed.Store(c.snap, true)
		}
		var p TextedPerson
		var at string
		// A guardian's number was texted for the person in their care.
		err := s.queryRow(ctx, `SELECT a.subject_id, s.locale, d.updated_at FROM `+affectedTable(c.id)+` a
			JOIN `+subjectsTable(c.snap)+` s ON s.subject_id=a.subject_id
			JOIN deliveries d ON d.incident_id=? AND d.subject_id=a.subject_id AND d.channel='sms'
			WHERE ((s.phone=? AND s.phone <> '') OR (s.`+inventory.GuardianPhone+`=? AND s.`+inventory.GuardianPhone+` <> '')) AND d.provider_ref <> ''
			ORDER BY d.updated_at DESC LIMIT 1`, c.id, phone, phone).Scan(&p.SubjectID, &p.Locale, &at)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return TextedPerson{}, err
		}
		if at > bestAt {
			p.IncidentID = c.id
			best, bestAt = p, at
		}
	}
	if best.IncidentID == "" {
		return TextedPerson{}, fmt.Errorf("no text to that number: %w", ErrNotFound)
	}
	return best, nil
}

// OptOut records that a number replied STOP (with the incident and person
// it was matched to, if any); OptIn that it replied START again.
func (s *Store) OptOut(ctx context.Context, phone string, p TextedPerson, keyword string, at time.Time) error {
	_, err := s.exec(ctx, `INSERT INTO sms_optouts (phone, incident_id, subject_id, keyword, at) VALUES (?,?,?,?,?)
		ON CONFLICT (phone) DO UPDATE SET incident_id=excluded.incident_id, subject_id=excluded.subject_id, keyword=excluded.keyword, at=excluded.at`,
		phone, p.IncidentID, p.SubjectID, keyword, formatTime(at))
	return err
}

// OptIn forgets a number's STOP.
func (s *Store) OptIn(ctx context.Context, phone string) error {
	_, err := s.exec(ctx, `DELETE FROM sms_optouts WHERE phone=?`, phone)
	return err
}

// OptedOut counts the incident's people who replied STOP to its texts.
func (s *Store) OptedOut(ctx context.Context, incidentID string) (int, error) {
	var n int
	err := s.queryRow(ctx, `SELECT count(*) FROM sms_optouts WHERE incident_id=?`, incidentID).Scan(&n)
	return n, err
}

// EmailsOf are the addresses an incident's notice to a person may have
// gone to: their own e-mail and their guardian's, lower-cased; a reply
// from any other is not theirs. ErrNotFound: not one of its people.
func (s *Store) EmailsOf(ctx context.Context, incidentID, subjectID string) ([]string, error) {
	snapshot, scoped, err := s.scopeState(ctx, incidentID)
	if err != nil {
		return nil, err
	}
	if !scoped {
		return nil, fmt.Errorf("incident %s is not scoped: %w", incidentID, ErrNotFound)
	}
	var own, guardian string
	err = s.queryRow(ctx, `SELECT s.email, s.`+inventory.GuardianEmail+` FROM `+affectedTable(incidentID)+` a JOIN `+subjectsTable(snapshot)+` s ON s.subject_id=a.subject_id
		WHERE a.subject_id=?`, subjectID).Scan(&own, &guardian)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("subject %s of incident %s: %w", subjectID, incidentID, ErrNotFound)
	}
	var out []string
	for _, e := range []string{own, guardian} {
		if e != "" {
			out = append(out, strings.ToLower(e))
		}
	}
	return out, err
}
