package senders

import (
	"errors"
	"net"
)

// A failed send is one of three things, and only the sender can tell which:
// permanent (the person moves on: PermanentError), certainly not sent (the
// claim may be given back and the send retried: NotSentError, or a
// RetryAfterError), or in doubt: the request may have reached the provider
// before the timeout or reset, so whoever retries must ask the provider, or
// send again only under the same idempotency key, and say so.

// NotSentError is a failure that happened before the provider could have
// taken the message: the provider answered with a refusal, the connection
// was never made, the wait for the rate limiter ended.
type NotSentError struct{ Err error }

func (e *NotSentError) Error() string { return e.Err.Error() }
func (e *NotSentError) Unwrap() error { return e.Err }

func notSent(err error) error {
	if err == nil {
		return nil
	}
	return &NotSentError{Err: err}
}

// NotSent reports whether err certainly left the message unsent: anything
// else a send returns leaves the message in doubt.
func NotSent(err error) bool {
	var ns *NotSentError
	var ra *RetryAfterError
	return errors.As(err, &ns) || errors.As(err, &ra) || IsPermanent(err) || Misconfigured(err)
}

// neverConnected is a failure to open the connection: nothing was written.
func neverConnected(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
