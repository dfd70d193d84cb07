package senders

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// RetryAfterError is a provider asking us to slow down (HTTP 429). The
// caller hands the wait to Temporal's retry rather than sleeping on it.
type RetryAfterError struct {
	Provider string
	After    time.Duration
}

func (e *RetryAfterError) Error() string {
	return fmt.Sprintf("%s is rate limiting us: retry after %s", e.Provider, e.After)
}

// parseRetryAfter reads a Retry-After header (seconds or an HTTP date);
// without one, a second is a polite guess.
func parseRetryAfter(h string, now time.Time) time.Duration {
	if s, err := strconv.Atoi(h); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(h); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return time.Second
}

// retryAfterTransport turns a 429 into a RetryAfterError: SDKs such as
// twilio-go drop response headers when they build their own errors.
type retryAfterTransport struct {
	provider string
	next     http.RoundTripper
}

func (t retryAfterTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests {
		return resp, err
	}
	resp.Body.Close()
	return nil, &RetryAfterError{Provider: t.provider, After: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
}

// Rates are messages (or calls) per second per channel.
type Rates map[string]float64

// Limiter paces one channel's sends; Wait ends with the context.
type Limiter interface {
	Wait(ctx context.Context) error
}

// Paced waits for its limiter before each send: the wait blocks on a timer,
// never spins, and ends when the activity is cancelled.
type Paced struct {
	Sender
	Limiter Limiter
}

// Send waits for a token, then sends.
func (p Paced) Send(ctx context.Context, m Message) (Result, error) {
	w := watchOf(ctx)
	if w != nil {
		w.Pacing()
	}
	if err := p.Limiter.Wait(ctx); err != nil {
		return Result{}, notSent(err)
	}
	if w != nil {
		w.Calling()
	}
	return p.Sender.Send(ctx, m)
}

// Find passes through to the paced sender's Finder, if it has one.
func (p Paced) Find(ctx context.Context, m Message, since time.Time, theirs func(ref string) bool) (Result, bool, error) {
	if f, ok := p.Sender.(Finder); ok {
		return f.Find(ctx, m, since, theirs)
	}
	return Result{}, false, ErrNoFinder
}

// PaceWith wraps every channel that has a rate with the limiter newLimiter
// makes for it (SharedRate: one rate for all workers; a *rate.Limiter is
// a Limiter too, for one process alone).
func PaceWith(reg Registry, rates Rates, newLimiter func(channel string, perSecond float64) Limiter) Registry {
	out := Registry{}
	for ch, s := range reg {
		if r := rates[ch]; r > 0 {
			s = Paced{Sender: s, Limiter: newLimiter(ch, r)}
		}
		out[ch] = s
	}
	return out
}

// RateBucket counts sends per time window where every worker sees them
// (Tocsin's store).
type RateBucket interface {
	TakeRate(ctx context.Context, name string, window int64, limit int) (bool, error)
}

// SharedRate is one provider limit for every worker of a deployment: each
// send takes a slot of the current window from the bucket, and a full
// window waits for the next. A rate of r per second is r slots a second, or
// for r < 1 one slot every 1/r seconds.
type SharedRate struct {
	Bucket RateBucket
	Name   string
	Rate   float64
	// Live, when set, may answer a rate set at run time in Rate's place.
	Live RateSource
}

// RateSource answers a channel's rate as set at run time (ok false: the
// configured one stands).
type RateSource interface {
	RateNow(ctx context.Context, channel string) (perSecond float64, ok bool)
}

func window(rate float64) (time.Duration, int) {
	if rate >= 1 {
		return time.Second, int(rate)
	}
	return time.Duration(float64(time.Second) / rate), 1
}

// Wait takes a slot, sleeping to the next window while the current is full.
// A store that cannot be reached is an error (nothing was sent).
func (l SharedRate) Wait(ctx context.Context) error {
	for {
		rate := l.Rate
		if l.Live != nil {
			if r, ok := l.Live.RateNow(ctx, l.Name); ok && r > 0 {
				rate = r
			}
		}
		length, limit := window(rate)
		idx := time.Now().UnixNano() / int64(length)
		ok, err := l.Bucket.TakeRate(ctx, l.Name, idx, limit)
		if err != nil {
			return fmt.Errorf("shared %s rate: %w", l.Name, err)
		}
		if ok {
			return nil
		}
		// Workers woken together would all meet the window's first
		// instant; a little spread keeps them from queueing on one row.
		next := time.Unix(0, (idx+1)*int64(length)).Add(time.Duration(rand.Int64N(int64(length) / 20)))
		t := time.NewTimer(time.Until(next))
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
