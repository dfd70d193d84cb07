package senders

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"golang.org/x/time/rate"
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

// Rates are messages (or calls) per second per channel, for this worker.
type Rates map[string]float64

// Paced waits for its limiter before each send: the wait blocks on a timer,
// never spins, and ends when the activity is cancelled.
type Paced struct {
	Sender
	Limiter *rate.Limiter
}

// Send waits for a token, then sends.
func (p Paced) Send(ctx context.Context, m Message) (Result, error) {
	if err := p.Limiter.Wait(ctx); err != nil {
		return Result{}, notSent(err)
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

// Pace wraps every channel that has a rate. A burst of one second's worth
// lets a batch start without waiting while keeping the average.
func Pace(reg Registry, rates Rates) Registry {
	out := Registry{}
	for ch, s := range reg {
		if r := rates[ch]; r > 0 {
			s = Paced{Sender: s, Limiter: rate.NewLimiter(rate.Limit(r), max(1, int(r)))}
		}
		out[ch] = s
	}
	return out
}
