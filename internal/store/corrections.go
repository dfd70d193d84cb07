package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/tocsin/tocsin/internal/inventory"
)

// CorrectionLedger is the key under which the ledger keeps correction n
// of an incident's notices (tocsin incident correct): its rows have the
// ledger's claims, leases and doubt like the notices', under a key of
// their own, since (incident, subject, channel) already holds the notice.
// No incident ID has a slash, so it names no incident's own rows.
func CorrectionLedger(incidentID string, n int) string {
	return fmt.Sprintf("%s/c%d", incidentID, n)
}

// Correctable is one copy of a notice that went out in a revision since
// replaced: who got it, how, and which revision ("notice-en@2", or a
// zone's rendering of it).
type Correctable struct {
	Recipient Recipient
	Channel   string
	Rung      int
	Draft     string
}

// received are the ledger's statuses of a copy that reached, or may have
// reached, its reader.
var received = []string{StatusAccepted, StatusSent, StatusDelivered, StatusUnknown}

// WrongRevisions pages through an incident's notice copies of the draft
// name (any zone's rendering of it) that went out in a revision before
// revision, after the (subject, channel) cursor: the copies a correction
// must follow. It answers them and the cursor of the next page ("" when
// this was the last); a page may hold fewer than limit copies, as rows of
// other drafts are read past.
func (s *Store) WrongRevisions(ctx context.Context, incidentID, name string, revision int, afterSubject, afterChannel string, limit int) ([]Correctable, [2]string, error) {
	snapshot, scoped, err := s.scopeState(ctx, incidentID)
	if err != nil || !scoped {
		return nil, [2]string{}, err
	}
	prefix := name + "@"
	args := []any{incidentID, len(prefix), prefix}
	for _, st := range received {
		args = append(args, st)
	}
	args = append(args, afterSubject, afterSubject, afterChannel, limit)
	rows, err := s.query(ctx, `SELECT d.subject_id, d.channel, d.rung, d.draft, s.name, `+contactColumns("s")+`, s.consent, a.locale, a.region, a.minor
		FROM deliveries d JOIN `+affectedTable(incidentID)+` a ON a.subject_id = d.subject_id JOIN `+subjectsTable(snapshot)+` s ON s.subject_id = d.subject_id
		WHERE d.incident_id=? AND substr(d.draft, 1, ?) = ? AND d.status IN (`+placeholders(len(received))+`)
		AND (d.subject_id > ? OR (d.subject_id = ? AND d.channel > ?))
		ORDER BY d.subject_id, d.channel LIMIT ?`, args...)
	if err != nil {
		return nil, [2]string{}, err
	}
	defer rows.Close()
	var out []Correctable
	var last [2]string
	n := 0
	for rows.Next() {
		var c Correctable
		r := &c.Recipient
		dest := []any{&r.SubjectID, &c.Channel, &c.Rung, &c.Draft, &r.Name}
		for i := range inventory.Contacts {
			dest = append(dest, &r.Contacts[i])
		}
		var minor int
		if err := rows.Scan(append(dest, &r.Consent, &r.Locale, &r.Region, &minor)...); err != nil {
			return nil, [2]string{}, err
		}
		r.Minor = minor == 1
		n++
		last = [2]string{r.SubjectID, c.Channel}
		at := strings.LastIndex(c.Draft, "@")
		if rev, err := strconv.Atoi(c.Draft[at+1:]); err != nil || rev >= revision {
			continue
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil {
		return nil, [2]string{}, err
	}
	if n < limit {
		last = [2]string{}
	}
	return out, last, nil
}
