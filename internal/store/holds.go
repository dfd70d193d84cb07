package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// ChannelHold is a channel Tocsin stopped sending on because the provider
// refuses Tocsin itself (credentials, sender, account, webhook URL): its
// deliveries stay queued, and one send probes the provider at ProbeAt.
type ChannelHold struct {
	Channel string    `json:"channel"`
	Since   time.Time `json:"since"`
	Reason  string    `json:"reason"`
	ProbeAt time.Time `json:"probe_at"`
	Probes  int       `json:"probes"`
}

// probeBackoff is the wait before the next probe after n refused ones:
// 15 s, doubling, at most 5 minutes.
func probeBackoff(n int) time.Duration {
	d := 15 * time.Second
	for i := 0; i < n && d < 5*time.Minute; i++ {
		d *= 2
	}
	return min(d, 5*time.Minute)
}

// HoldChannel holds a channel after the provider refused Tocsin, or, when
// it is held already and this was its probe, counts the refused probe and
// puts the next one off (a refusal of a send that was no probe, from a
// batch that began before the hold, changes nothing). It answers the hold
// and whether this call began it.
func (s *Store) HoldChannel(ctx context.Context, channel, reason string, now time.Time, probed bool) (ChannelHold, bool, error) {
	var h ChannelHold
	began := false
	err := s.inTx(ctx, func(t *tx) error {
		cur, found, err := t.hold(ctx, channel)
		if err != nil {
			return err
		}
		if !found {
			began = true
			h = ChannelHold{Channel: channel, Since: now, Reason: reason, ProbeAt: now.Add(probeBackoff(0))}
			_, err := t.exec(ctx, `INSERT INTO channel_holds (channel, since, reason, probe_at, probes) VALUES (?,?,?,?,0) ON CONFLICT DO NOTHING`,
				channel, formatTime(h.Since), reason, formatTime(h.ProbeAt))
			return err
		}
		h = cur
		if !probed {
			return nil
		}
		h.Probes++
		h.Reason = reason
		h.ProbeAt = now.Add(probeBackoff(h.Probes))
		_, err = t.exec(ctx, `UPDATE channel_holds SET reason=?, probe_at=?, probes=? WHERE channel=?`, reason, formatTime(h.ProbeAt), h.Probes, channel)
		return err
	})
	return h, began, err
}

func (t *tx) hold(ctx context.Context, channel string) (ChannelHold, bool, error) {
	h := ChannelHold{Channel: channel}
	var since, probe string
	err := t.queryRow(ctx, `SELECT since, reason, probe_at, probes FROM channel_holds WHERE channel=?`, channel).Scan(&since, &h.Reason, &probe, &h.Probes)
	if errors.Is(err, sql.ErrNoRows) {
		return h, false, nil
	}
	h.Since, h.ProbeAt = parseTime(since), parseTime(probe)
	return h, err == nil, err
}

// ChannelHolds lists the held channels.
func (s *Store) ChannelHolds(ctx context.Context) ([]ChannelHold, error) {
	rows, err := s.query(ctx, `SELECT channel, since, reason, probe_at, probes FROM channel_holds ORDER BY channel`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ChannelHold
	for rows.Next() {
		var h ChannelHold
		var since, probe string
		if err := rows.Scan(&h.Channel, &since, &h.Reason, &probe, &h.Probes); err != nil {
			return nil, err
		}
		h.Since, h.ProbeAt = parseTime(since), parseTime(probe)
		out = append(out, h)
	}
	return out, rows.Err()
}

// TakeProbe gives the caller the held channel's next probe when it is due
// (one caller at a time: the probe is put off while it runs). held is
// false when the channel is not held at all.
func (s *Store) TakeProbe(ctx context.Context, channel string, now time.Time) (held, probe bool, err error) {
	res, err := s.exec(ctx, `UPDATE channel_holds SET probe_at=? WHERE channel=? AND probe_at<=?`, formatTime(now.Add(time.Minute)), channel, formatTime(now))
	if err != nil {
		return false, false, err
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, true, nil
	}
	var one int
	err = s.queryRow(ctx, `SELECT 1 FROM channel_holds WHERE channel=?`, channel).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, nil
	}
	return err == nil, false, err
}

// LiftHold ends a channel's hold once the provider accepted a send; it
// answers the hold it ended (found false: none, or another caller's lift).
func (s *Store) LiftHold(ctx context.Context, channel string) (ChannelHold, bool, error) {
	var h ChannelHold
	found := false
	err := s.inTx(ctx, func(t *tx) error {
		var err error
		if h, found, err = t.hold(ctx, channel); err != nil || !found {
			return err
		}
		_, err = t.exec(ctx, `DELETE FROM channel_holds WHERE channel=?`, channel)
		return err
	})
	return h, found, err
}

// ProbeNow brings a held channel's next probe forward to now: an operator
// who fixed the configuration need not wait out the backoff.
func (s *Store) ProbeNow(ctx context.Context, channel string, now time.Time) (bool, error) {
	res, err := s.exec(ctx, `UPDATE channel_holds SET probe_at=? WHERE channel=?`, formatTime(now), channel)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// FirstHoldNotice says whether an incident is yet to be told of a hold
// (once per hold and incident), and records that it now is.
func (s *Store) FirstHoldNotice(ctx context.Context, h ChannelHold, incidentID string) (bool, error) {
	res, err := s.exec(ctx, `INSERT INTO channel_hold_notices (channel, since, incident_id) VALUES (?,?,?) ON CONFLICT DO NOTHING`, h.Channel, formatTime(h.Since), incidentID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// HoldNoticed lists the incidents told of a hold.
func (s *Store) HoldNoticed(ctx context.Context, h ChannelHold) ([]string, error) {
	return queryColumn[string](ctx, s, `SELECT incident_id FROM channel_hold_notices WHERE channel=? AND since=? ORDER BY incident_id`, h.Channel, formatTime(h.Since))
}
