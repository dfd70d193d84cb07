package senders_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/senders"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/store/storetest"
)

type countingSender struct{ sent *atomic.Int64 }

func (c countingSender) Send(context.Context, senders.Message) (senders.Result, error) {
	c.sent.Add(1)
	return senders.Result{Ref: "x"}, nil
}

// Two workers with `rates: {sms: 20}` send at most 20 SMS a second
// together: 100 texts take at least four more windows after the first
// (three seconds and a bit), where two workers pacing alone would send
// them in about 1.5 s.
func TestTwoWorkersHoldOneSharedRate(t *testing.T) {
	dsn := storetest.DSN(t, "sqlite")
	var sent atomic.Int64
	regs := make([]senders.Registry, 2)
	for i := range regs {
		st, err := store.Open(dsn) // each worker its own connection, as two processes
		require.NoError(t, err)
		defer st.Close()
		regs[i] = senders.PaceWith(senders.Registry{senders.SMS: countingSender{&sent}}, senders.Rates{senders.SMS: 20},
			func(ch string, r float64) senders.Limiter { return senders.SharedRate{Bucket: st, Name: ch, Rate: r} })
	}
	start := time.Now()
	var wg sync.WaitGroup
	for _, reg := range regs {
		for range 2 { // a worker sends from several activities at once
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 25 {
					_, err := reg[senders.SMS].Send(context.Background(), senders.Message{})
					require.NoError(t, err)
				}
			}()
		}
	}
	wg.Wait()
	require.EqualValues(t, 100, sent.Load())
	require.GreaterOrEqual(t, time.Since(start), 3*time.Second, "100 texts at 20/s for both workers together")
}

// A wait for a full window ends when the activity is cancelled.
func TestASharedRateWaitEndsWithItsActivity(t *testing.T) {
	st := storetest.Open(t, "sqlite")
	l := senders.SharedRate{Bucket: st, Name: "voice", Rate: 0.001} // one call per 1,000 s
	require.NoError(t, l.Wait(context.Background()))
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	require.ErrorIs(t, l.Wait(ctx), context.DeadlineExceeded)
}

// liveRate answers one channel's rate as set at run time.
type liveRate struct {
	channel string
	rate    float64
}

func (l liveRate) RateNow(_ context.Context, channel string) (float64, bool) {
	return l.rate, channel == l.channel
}

// A rate an admin set at run time paces in place of the configured one:
// configured at 100 SMS a second, set to 2, six texts take three windows
// (more than one second: two window boundaries).
func TestARateSetAtRunTimePacesInPlaceOfTheConfiguredOne(t *testing.T) {
	st := storetest.Open(t, "sqlite")
	var sent atomic.Int64
	reg := senders.PaceWith(senders.Registry{senders.SMS: countingSender{&sent}}, senders.Rates{senders.SMS: 100},
		func(ch string, r float64) senders.Limiter {
			return senders.SharedRate{Bucket: st, Name: ch, Rate: r, Live: liveRate{channel: senders.SMS, rate: 2}}
		})
	start := time.Now()
	for range 6 {
		_, err := reg[senders.SMS].Send(context.Background(), senders.Message{})
		require.NoError(t, err)
	}
	require.EqualValues(t, 6, sent.Load())
	require.GreaterOrEqual(t, time.Since(start), time.Second, "6 texts at 2/s, not 100/s")
}
