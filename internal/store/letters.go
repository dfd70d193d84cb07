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
