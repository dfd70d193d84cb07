package app

import (
	"context"
	"errors"
	"log/slog"

	"go.temporal.io/sdk/temporal"

	"github.com/tocsin/tocsin/activities"
)

// pausedAttempts logs a batch's attempt that failed only because legal
// paused or held the campaign at Info, not as the SDK's ERROR "Activity
// error.": the pause is deliberate, reported where it was made and in the
// war room, and every batch in flight retries it every few seconds, which
// would fill the log with errors nobody must act on. A held channel
// (Tocsin's own misconfiguration) stays an error.
type pausedAttempts struct{ slog.Handler }

func (h pausedAttempts) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelError || !pausedError(r) {
		return h.Handler.Handle(ctx, r)
	}
	if !h.Handler.Enabled(ctx, slog.LevelInfo) {
		return nil
	}
	demoted := slog.NewRecord(r.Time, slog.LevelInfo, r.Message, r.PC)
	r.Attrs(func(a slog.Attr) bool {
		demoted.AddAttrs(a)
		return true
	})
	return h.Handler.Handle(ctx, demoted)
}

// Enabled lets an error record through for Handle to judge, whatever the
// level it would be demoted to.
func (h pausedAttempts) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelError || h.Handler.Enabled(ctx, l)
}

func (h pausedAttempts) WithAttrs(as []slog.Attr) slog.Handler {
	return pausedAttempts{h.Handler.WithAttrs(as)}
}

func (h pausedAttempts) WithGroup(name string) slog.Handler {
	return pausedAttempts{h.Handler.WithGroup(name)}
}

// pausedError says whether the record's error is a paused campaign's.
func pausedError(r slog.Record) bool {
	paused := false
	r.Attrs(func(a slog.Attr) bool {
		if err, ok := a.Value.Any().(error); ok {
			var app *temporal.ApplicationError
			paused = errors.As(err, &app) && app.Type() == activities.ErrPaused
		}
		return !paused
	})
	return paused
}
