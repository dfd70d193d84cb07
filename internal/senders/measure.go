package senders

import (
	"context"
	"errors"
	"time"
)

// Outcome names what a send's error means, for metrics: accepted, refused
// (permanent: the person moves on), rate_limited, not_sent or in_doubt.
func Outcome(err error) string {
	var ra *RetryAfterError
	switch {
	case err == nil:
		return "accepted"
	case IsPermanent(err):
		return "refused"
	case errors.As(err, &ra):
		return "rate_limited"
	case NotSent(err):
		return "not_sent"
	default:
		return "in_doubt"
	}
}

// Measured reports each send's outcome and how long the provider took.
type Measured struct {
	Sender
	Channel string
	Record  func(channel, outcome string, took time.Duration)
}

// Send sends and records.
func (m Measured) Send(ctx context.Context, msg Message) (Result, error) {
	start := time.Now()
	res, err := m.Sender.Send(ctx, msg)
	m.Record(m.Channel, Outcome(err), time.Since(start))
	return res, err
}

// Find passes through to the measured sender's Finder, if it has one.
func (m Measured) Find(ctx context.Context, msg Message, since time.Time, theirs func(ref string) bool) (Result, bool, error) {
	if f, ok := m.Sender.(Finder); ok {
		return f.Find(ctx, msg, since, theirs)
	}
	return Result{}, false, ErrNoFinder
}

// Measure wraps every channel with Measured; a nil record leaves reg as it is.
func Measure(reg Registry, record func(channel, outcome string, took time.Duration)) Registry {
	if record == nil {
		return reg
	}
	out := Registry{}
	for ch, s := range reg {
		out[ch] = Measured{Sender: s, Channel: ch, Record: record}
	}
	return out
}
