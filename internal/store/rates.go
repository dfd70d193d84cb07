package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
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

// ChannelRate is a channel's rate as an admin set it at run time.
type ChannelRate struct {
	Channel   string
	PerSecond float64
	SetBy     string
	SetAt     time.Time
}

// SetChannelRate records a channel's rate for every worker, replacing the
// one set before (the caller checks it against the configured ceiling).
func (s *Store) SetChannelRate(ctx context.Context, r ChannelRate) error {
	_, err := s.exec(ctx, `INSERT INTO channel_rates (channel, per_second, set_by, set_at) VALUES (?,?,?,?)
		ON CONFLICT (channel) DO UPDATE SET per_second=excluded.per_second, set_by=excluded.set_by, set_at=excluded.set_at`,
		r.Channel, r.PerSecond, r.SetBy, formatTime(r.SetAt))
	return err
}

// ChannelRates are the rates set at run time, by channel.
func (s *Store) ChannelRates(ctx context.Context) (map[string]ChannelRate, error) {
	rows, err := s.query(ctx, `SELECT channel, per_second, set_by, set_at FROM channel_rates ORDER BY channel`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]ChannelRate{}
	for rows.Next() {
		var r ChannelRate
		var at string
		if err := rows.Scan(&r.Channel, &r.PerSecond, &r.SetBy, &at); err != nil {
			return nil, err
		}
		r.SetAt = parseTime(at)
		out[r.Channel] = r
	}
	return out, rows.Err()
}

// RatesNow are the configured rates with those set at run time in their
// place. Only a configured (paced) channel takes one.
func (s *Store) RatesNow(ctx context.Context, configured map[string]float64) (map[string]float64, error) {
	if len(configured) == 0 {
		return configured, nil
	}
	set, err := s.ChannelRates(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[string]float64, len(configured))
	for ch, r := range configured {
		out[ch] = r
		if now, ok := set[ch]; ok {
			out[ch] = now.PerSecond
		}
	}
	return out, nil
}
