package store

import (
	"context"
	"time"
)

// FirstSeen records a signed request by its key (its signature) and says
// whether this is its first arrival: a captured request sent again within
// its signature's window is refused, on every API replica alike. Keys
// older than keep, whose signatures have expired, are forgotten.
func (s *Store) FirstSeen(ctx context.Context, kind, key string, now time.Time, keep time.Duration) (bool, error) {
	if _, err := s.exec(ctx, `DELETE FROM seen_requests WHERE kind=? AND at<?`, kind, formatTime(now.Add(-keep))); err != nil {
		return false, err
	}
	res, err := s.exec(ctx, `INSERT INTO seen_requests (kind, request_key, at) VALUES (?,?,?) ON CONFLICT DO NOTHING`, kind, key, formatTime(now))
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
