package store

import (
	"context"

	"github.com/tocsin/tocsin/internal/inventory"
)

// WaitingByContact counts the affected people no rung has reached yet
// (the withheld are not waiting), residents of regions only when any are
// named, by the kinds of contact they can be reached at, their own or, for
// email and phone, a guardian's: what each channel still has to send, for
// pacing.
func (s *Store) WaitingByContact(ctx context.Context, incidentID string, regions []string) (map[string]int, error) {
	out := map[string]int{}
	if _, scoped, err := s.scopeState(ctx, incidentID); err != nil || !scoped {
		return out, err
	}
	among, args := regionsWhere(regions, "region")
	rows, err := s.query(ctx, `SELECT reach, count(*) FROM `+affectedTable(incidentID)+` WHERE reached_rung = 0`+among+` GROUP BY reach`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var reach, n int
		if err := rows.Scan(&reach, &n); err != nil {
			return nil, err
		}
		for _, c := range inventory.Contacts {
			if reach&inventory.ReachMask(c.Name) != 0 {
				out[c.Name] += n
			}
		}
	}
	return out, rows.Err()
}
