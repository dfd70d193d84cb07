package store

import (
	"context"
	"database/sql"

	"github.com/tocsin/tocsin/internal/inventory"
)

// ImportEnrolmentCodes stores an incident's enrolment codes, a person's
// new code replacing their old one; people not affected by the incident
// are listed and nothing is stored.
func (s *Store) ImportEnrolmentCodes(ctx context.Context, incidentID string, codes []inventory.EnrolmentCode) (notAffected []string, err error) {
	_, scoped, err := s.scopeState(ctx, incidentID)
	if err != nil {
		return nil, err
	}
	if !scoped {
		return nil, ErrNotFound
	}
	ids := make([]string, len(codes))
	for i, c := range codes {
		ids[i] = c.SubjectID
	}
	affected := map[string]bool{}
	err = s.eachIn(ctx, ids, nil, `SELECT subject_id FROM `+affectedTable(incidentID)+` WHERE subject_id IN `, func(rows *sql.Rows) error {
		var id string
		if err := rows.Scan(&id); err != nil {
			return err
		}
		affected[id] = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		if !affected[id] {
			notAffected = append(notAffected, id)
		}
	}
	if len(notAffected) > 0 {
		return notAffected, nil
	}
	err = s.inTx(ctx, func(t *tx) error {
		for _, c := range codes {
			if _, err := t.exec(ctx, `INSERT INTO enrolment_codes (incident_id, subject_id, code, enrol_by) VALUES (?,?,?,?)
				ON CONFLICT (incident_id, subject_id) DO UPDATE SET code=excluded.code, enrol_by=excluded.enrol_by`, incidentID, c.SubjectID, c.Code, c.EnrolBy); err != nil {
				return err
			}
		}
		return nil
	})
	return nil, err
}

// EnrolmentCodesOf reads the enrolment codes of some of an incident's people.
func (s *Store) EnrolmentCodesOf(ctx context.Context, incidentID string, subjects []string) (map[string]inventory.EnrolmentCode, error) {
	out := map[string]inventory.EnrolmentCode{}
	err := s.eachIn(ctx, subjects, []any{incidentID}, `SELECT subject_id, code, enrol_by FROM enrolment_codes WHERE incident_id=? AND subject_id IN `, func(rows *sql.Rows) error {
		var c inventory.EnrolmentCode
		if err := rows.Scan(&c.SubjectID, &c.Code, &c.EnrolBy); err != nil {
			return err
		}
		out[c.SubjectID] = c
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
