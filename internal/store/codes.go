package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// maxCodeAttempts bounds the codes tried for one person: a second clash
// in a space of 2^48 means the generator is broken, not unlucky.
const maxCodeAttempts = 4

// EnsureCodes gives each of an incident's subjects a notice code and
// returns them: the one stored, else code(subject, 0), else, where that
// code is another person's, code(subject, 1) and so on. Two workers
// making the same person's code store it once.
func (s *Store) EnsureCodes(ctx context.Context, incidentID string, subjects []string, code func(subject string, attempt int) string) (map[string]string, error) {
	out := make(map[string]string, len(subjects))
	for start := 0; start < len(subjects); start += 400 {
		chunk := subjects[start:min(start+400, len(subjects))]
		if err := s.ensureCodes(ctx, incidentID, chunk, code, out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *Store) ensureCodes(ctx context.Context, incidentID string, subjects []string, code func(string, int) string, out map[string]string) error {
	missing := subjects
	for attempt := 0; ; attempt++ {
		if err := s.readCodes(ctx, incidentID, missing, out); err != nil {
			return err
		}
		var still []string
		for _, id := range missing {
			if _, ok := out[id]; !ok {
				still = append(still, id)
			}
		}
		if len(still) == 0 {
			return nil
		}
		if attempt == maxCodeAttempts {
			return fmt.Errorf("notice codes of incident %s: %d people's codes clash after %d attempts", incidentID, len(still), attempt)
		}
		values, args := make([]string, 0, len(still)), make([]any, 0, 4*len(still))
		at := now()
		for _, id := range still {
			values = append(values, "(?,?,?,?)")
			args = append(args, code(id, attempt), incidentID, id, at)
		}
		if _, err := s.exec(ctx, `INSERT INTO notice_codes (code, incident_id, subject_id, created_at) VALUES `+strings.Join(values, ",")+` ON CONFLICT DO NOTHING`, args...); err != nil {
			return err
		}
		missing = still
	}
}

func (s *Store) readCodes(ctx context.Context, incidentID string, subjects []string, out map[string]string) error {
	return s.eachIn(ctx, subjects, []any{incidentID}, `SELECT subject_id, code FROM notice_codes WHERE incident_id=? AND subject_id IN `, func(rows *sql.Rows) error {
		var id, c string
		if err := rows.Scan(&id, &c); err != nil {
			return err
		}
		out[id] = c
		return nil
	})
}

// NoticeOf is whose notice a code is.
type NoticeOf struct {
	IncidentID, SubjectID string
}

// LookupCode finds whose notice a code is, and counts the lookup against
// its incident (a code that matches none counts against no incident);
// ErrNotFound for a code no notice carries.
func (s *Store) LookupCode(ctx context.Context, code string) (NoticeOf, error) {
	var n NoticeOf
	err := s.queryRow(ctx, `SELECT incident_id, subject_id FROM notice_codes WHERE code=?`, code).Scan(&n.IncidentID, &n.SubjectID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return n, err
	}
	if _, cerr := s.exec(ctx, `INSERT INTO verify_lookups (incident_id, lookups) VALUES (?, 1)
		ON CONFLICT (incident_id) DO UPDATE SET lookups = verify_lookups.lookups + 1`, n.IncidentID); cerr != nil {
		return n, cerr
	}
	if errors.Is(err, sql.ErrNoRows) {
		return NoticeOf{}, ErrNotFound
	}
	return n, nil
}

// FindCode finds whose notice a code is without counting a check (a
// question asked from the notice's page, already checked).
func (s *Store) FindCode(ctx context.Context, code string) (NoticeOf, error) {
	var n NoticeOf
	err := s.queryRow(ctx, `SELECT incident_id, subject_id FROM notice_codes WHERE code=?`, code).Scan(&n.IncidentID, &n.SubjectID)
	if errors.Is(err, sql.ErrNoRows) {
		return NoticeOf{}, ErrNotFound
	}
	return n, err
}

// VerifyLookups is how often an incident's notices were checked ("": how
// often a code matched no notice).
func (s *Store) VerifyLookups(ctx context.Context, incidentID string) (int, error) {
	var n int
	err := s.queryRow(ctx, `SELECT lookups FROM verify_lookups WHERE incident_id=?`, incidentID).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return n, err
}

// NoticeSent is the notice revision a person was sent ("notice-en@2", a
// zone's rendering "notice-en@Asia/Singapore@2"): the one delivered or
// sent, else the last tried; ErrNotFound before any.
func (s *Store) NoticeSent(ctx context.Context, incidentID, subjectID string) (name string, revision int, err error) {
	var draft string
	err = s.queryRow(ctx, `SELECT draft FROM deliveries WHERE incident_id=? AND subject_id=? AND draft <> ''
		ORDER BY CASE WHEN status IN (?,?,?) THEN 0 ELSE 1 END, updated_at DESC LIMIT 1`, incidentID, subjectID, StatusDelivered, StatusAccepted, StatusSent).Scan(&draft)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, fmt.Errorf("notice sent to %s in incident %s: %w", subjectID, incidentID, ErrNotFound)
	}
	if err != nil {
		return "", 0, err
	}
	at := strings.LastIndexByte(draft, '@')
	if at < 0 {
		return "", 0, fmt.Errorf("ledger draft %q: want NAME@REVISION", draft)
	}
	revision, err = strconv.Atoi(draft[at+1:])
	return draft[:at], revision, err
}
