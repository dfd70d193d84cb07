package store

import (
	"context"
	"database/sql"
	"errors"
)

// TakeRate takes one of limit sends from a named rate's window (an index
// of fixed-length time windows): true if one was left. Every worker of a
// deployment takes from the same row, so a provider's limit holds however
// many workers send. The first taker of a window clears old ones.
func (s *Store) TakeRate(ctx context.Context, name string, window int64, limit int) (bool, error) {
	var used int
	err := s.queryRow(ctx, `INSERT INTO rate_windows (name, window_index, used) VALUES (?, ?, 1)
		ON CONFLICT (name, window_index) DO UPDATE SET used = rate_windows.used + 1 WHERE rate_windows.used < ?
		RETURNING used`, name, window, limit).Scan(&used)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil // the window is full
	}
	if err != nil {
		return false, err
	}
	if used == 1 {
		// A failed clean-up leaves old rows for the next window's first taker.
		s.exec(ctx, `DELETE FROM rate_windows WHERE name = ? AND window_index < ?`, name, window-16)
	}
	return true, nil
}
