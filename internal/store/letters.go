package store

import (
	"context"
	"strconv"
	"strings"

	"github.com/tocsin/tocsin/internal/inventory"
)

// MailedLetter is a letter the print vendor took: to whom, where, which
// notice revision, and when.
type MailedLetter struct {
	SubjectID string
	Name      string
	Address   inventory.Address
	// Draft is the notice revision printed ("notice-en@2").
	Draft string
	// At is when the vendor took it.
	At string
}

// MailedLetters pages through an incident's letters the vendor took, in
// subject order after the cursor, with each person's name and address.
func (s *Store) MailedLetters(ctx context.Context, incidentID, after string, limit int) ([]MailedLetter, error) {
	snapshot, scoped, err := s.scopeState(ctx, incidentID)
	if err != nil || !scoped {
		return nil, err
	}
	rows, err := s.query(ctx, `SELECT d.subject_id, s.name, s.address, d.draft, d.updated_at
		FROM deliveries d JOIN `+subjectsTable(snapshot)+` s ON s.subject_id = d.subject_id
		WHERE d.incident_id = ? AND d.channel = 'letter' AND d.status = ? AND d.subject_id > ?
		ORDER BY d.subject_id LIMIT ?`, incidentID, StatusAccepted, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []MailedLetter
	for rows.Next() {
		var l MailedLetter
		var addr string
		if err := rows.Scan(&l.SubjectID, &l.Name, &addr, &l.Draft, &l.At); err != nil {
			return nil, err
		}
		l.Address = inventory.ParseAddress(addr)
		out = append(out, l)
	}
	return out, rows.Err()
}

// DraftRef splits a ledger's "notice-en@2" into the draft's name and
// revision.
func DraftRef(ref string) (string, int, bool) {
	name, rev, ok := strings.Cut(ref, "@")
	n, err := strconv.Atoi(rev)
	return name, n, ok && err == nil
}

// ReturnedMail is what recording returned letters changed.
type ReturnedMail struct {
	// Returned are letters now recorded as returned; Already were so before.
	Returned int
	Already  int
	// Unreached are people whom only the letter had reached: they now
	// count as not reached, and so towards substitute notice.
	Unreached int
	// NotMailed are subject IDs with no letter the vendor took.
	NotMailed []string
}

// ReturnedMailReason is the ledger's error for a letter the post office
// returned.
const ReturnedMailReason = "returned mail: undeliverable as addressed"

// RecordReturnedMail marks the letters of subjects as returned, in one
// transaction: the ledger row fails with ReturnedMailReason, and a person
// whom the letter alone reached is unreached again. Recording the same
// returns again changes nothing.
func (s *Store) RecordReturnedMail(ctx context.Context, incidentID string, subjects []string) (ReturnedMail, error) {
	var out ReturnedMail
	if _, scoped, err := s.scopeState(ctx, incidentID); err != nil || !scoped {
		return out, err
	}
	table := affectedTable(incidentID)
	err := s.inTx(ctx, func(t *tx) error {
		for _, id := range subjects {
			res, err := t.exec(ctx, `UPDATE deliveries SET status=?, error=?, updated_at=? WHERE incident_id=? AND subject_id=? AND channel='letter' AND status=?`,
				StatusFailed, ReturnedMailReason, now(), incidentID, id, StatusAccepted)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				var reason string
				err := t.queryRow(ctx, `SELECT error FROM deliveries WHERE incident_id=? AND subject_id=? AND channel='letter'`, incidentID, id).Scan(&reason)
				if err == nil && reason == ReturnedMailReason {
					out.Already++
				} else {
					out.NotMailed = append(out.NotMailed, id)
				}
				continue
			}
			out.Returned++
			if _, err := t.exec(ctx, `INSERT INTO returned_mail (incident_id, subject_id, recorded_at) VALUES (?,?,?) ON CONFLICT DO NOTHING`, incidentID, id, now()); err != nil {
				return err
			}
			var via string
			if err := t.queryRow(ctx, `SELECT reached_via FROM `+table+` WHERE subject_id=?`, id).Scan(&via); err != nil {
				return err
			}
			var rest []string
			for _, ch := range strings.Split(via, "+") {
				if ch != "letter" && ch != "" {
					rest = append(rest, ch)
				}
			}
			if len(rest) == 0 && via != "" {
				out.Unreached++
				_, err = t.exec(ctx, `UPDATE `+table+` SET reached_rung=0, reached_via='' WHERE subject_id=?`, id)
			} else if len(rest) > 0 {
				_, err = t.exec(ctx, `UPDATE `+table+` SET reached_via=? WHERE subject_id=?`, strings.Join(rest, "+"), id)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// ReturnedLetters counts an incident's letters recorded as returned, and
// how many of their people nothing else reached (from returned_mail, a
// row per letter, not the delivery ledger: a view reads it on every
// refresh).
func (s *Store) ReturnedLetters(ctx context.Context, incidentID string) (returned, unreached int, err error) {
	err = s.queryRow(ctx, `SELECT count(*) FROM returned_mail WHERE incident_id=?`, incidentID).Scan(&returned)
	if err != nil || returned == 0 {
		return returned, 0, err
	}
	err = s.queryRow(ctx, `SELECT count(*) FROM returned_mail r JOIN `+affectedTable(incidentID)+` a ON a.subject_id = r.subject_id
		WHERE r.incident_id=? AND a.reached_rung=0`, incidentID).Scan(&unreached)
	return returned, unreached, err
}
