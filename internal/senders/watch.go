package senders

import (
	"context"
	"time"
)

// A CallWatch hears when a send waits for its channel's rate limiter and
// when the provider call itself begins: a caller timing how long a call
// takes must not count the wait for a token, which is pacing, not a
// provider that hangs.
type CallWatch interface {
	Pacing()
	Calling()
}

type watchKey struct{}

// WithCallWatch returns ctx carrying w, for the senders under it to tell.
func WithCallWatch(ctx context.Context, w CallWatch) context.Context {
	return context.WithValue(ctx, watchKey{}, w)
}

func watchOf(ctx context.Context) CallWatch {
	w, _ := ctx.Value(watchKey{}).(CallWatch)
	return w
}

type callTimeoutKey struct{}

// WithCallTimeout returns ctx asking the senders under it to wait at most d
// for the provider's answer to this call, where shorter than their own
// timeout. Only the wait for the answer is bounded, not the wait for a
// connection or a rate limiter's token: that is pacing. The e-mail sender
// honours it (its 30 s transaction is the longest wait of all).
func WithCallTimeout(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, callTimeoutKey{}, d)
}

// CallTimeout is the wait WithCallTimeout asked of ctx's calls (0: none).
func CallTimeout(ctx context.Context) time.Duration {
	d, _ := ctx.Value(callTimeoutKey{}).(time.Duration)
	return d
}
