package store

import (
	"context"
	"time"

	"github.com/tocsin/tocsin/internal/pacing"
)

// ProgressPoint is how many of a channel's sends had gone out by At: what
// the campaign's pace is measured from (pacing.Measured).
type ProgressPoint = pacing.Point

// SendProgress is, per channel, an incident's sends over time: the
// cumulative count of notices the provider took (or may have), by the
// second each was recorded, at most points per channel (later seconds
// are folded into the points before them). Failures are not counted.
func (s *Store) SendProgress(ctx context.Context, incidentID string, points int) (map[string][]ProgressPoint, error) {
	rows, err := s.query(ctx, `SELECT channel, substr(updated_at, 1, 19), count(*) FROM deliveries
		WHERE incident_id=? AND status IN (?,?,?,?) GROUP BY channel, substr(updated_at, 1, 19) ORDER BY 1, 2`,
		incidentID, StatusAccepted, StatusSent, StatusDelivered, StatusUnknown)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	raw := map[string][]ProgressPoint{}
	for rows.Next() {
		var ch, sec string
		var n int
		if err := rows.Scan(&ch, &sec, &n); err != nil {
			return nil, err
		}
		at, err := time.Parse("2006-01-02T15:04:05", sec)
		if err != nil {
			continue
		}
		pts := raw[ch]
		total := n
		if len(pts) > 0 {
			total += pts[len(pts)-1].Sent
		}
		raw[ch] = append(pts, ProgressPoint{At: at.UTC(), Sent: total})
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := map[string][]ProgressPoint{}
	for ch, pts := range raw {
		if points > 0 && len(pts) > points {
			// Keep every step-th point and the last: the curve's shape,
			// in a bounded answer.
			step := (len(pts) + points - 1) / points
			var kept []ProgressPoint
			for i := 0; i < len(pts); i += step {
				kept = append(kept, pts[i])
			}
			if kept[len(kept)-1] != pts[len(pts)-1] {
				kept = append(kept, pts[len(pts)-1])
			}
			pts = kept
		}
		out[ch] = pts
	}
	return out, nil
}
