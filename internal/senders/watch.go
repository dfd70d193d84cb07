package senders

import "context"

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
