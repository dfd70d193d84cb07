package activities

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/tocsin/tocsin/internal/senders"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/store/storetest"
)

// A paused campaign's batch sends nothing and waits to be retried; once
// resumed, the retry sends each notice once.
func TestAPausedCampaignSendsNothingUntilResumed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := newCampaign(t, s)
		_, fresh, err := s.PauseCampaign(ctx, "INC-N", store.Pause{By: "legal@example.com", Reason: "wrong hotline number", At: time.Now()})
		require.NoError(t, err)
		require.True(t, fresh)

		_, err = c.acts.SendBatch(ctx, batch("email", "sms"))
		var appErr *temporal.ApplicationError
		require.ErrorAs(t, err, &appErr)
		require.Equal(t, ErrPaused, appErr.Type())
		require.False(t, appErr.NonRetryable())
		tally, _, err := c.outbox.Tally(ctx, "INC-N")
		require.NoError(t, err)
		require.Empty(t, tally, "nothing goes out while paused")
		_, err = s.GetDelivery(ctx, "INC-N", "u1", "email")
		require.ErrorIs(t, err, store.ErrNotFound, "nobody is claimed or written off")

		_, err = s.ResumeCampaign(ctx, "INC-N")
		require.NoError(t, err)
		res, err := c.acts.SendBatch(ctx, batch("email", "sms"))
		require.NoError(t, err)
		require.Equal(t, 3, res.Attempts)
		tally, repeats, err := c.outbox.Tally(ctx, "INC-N")
		require.NoError(t, err)
		require.Equal(t, map[[2]string]int{{"u1", "email"}: 1, {"u2", "sms"}: 1, {"u3", "sms"}: 1}, tally)
		require.Zero(t, repeats)
		_, err = s.ResumeCampaign(ctx, "INC-N")
		require.ErrorIs(t, err, store.ErrNotFound, "resuming a running campaign says so")
	})
}

// A pause that lands mid-batch stops it before the next send: what went
// out is recorded, the rest is given back, and nothing is lost or sent
// twice when the batch is retried after the resume. One lane, so that the
// next send is certain (with several, those already under way finish).
func TestAPauseMidBatchStopsTheNextSend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := newCampaign(t, s)
		c.acts.PauseFreshness = time.Nanosecond // every send looks
		c.acts.SendLanes = 1
		sent := 0
		c.acts.Senders["email"] = pausingSender{inner: c.acts.Senders["email"], after: func() {
			sent++
			_, _, err := s.PauseCampaign(ctx, "INC-N", store.Pause{By: "admin@example.com", Reason: "law enforcement asked", At: time.Now()})
			require.NoError(t, err)
		}}
		in := batch("email", "sms")
		_, err := c.acts.SendBatch(ctx, in)
		var appErr *temporal.ApplicationError
		require.ErrorAs(t, err, &appErr)
		require.Equal(t, ErrPaused, appErr.Type())
		tally, _, err := c.outbox.Tally(ctx, "INC-N")
		require.NoError(t, err)
		require.Equal(t, map[[2]string]int{{"u1", "email"}: 1}, tally, "the send under way finished; no later one started")

		_, err = s.ResumeCampaign(ctx, "INC-N")
		require.NoError(t, err)
		_, err = c.acts.SendBatch(ctx, in)
		require.NoError(t, err)
		tally, repeats, err := c.outbox.Tally(ctx, "INC-N")
		require.NoError(t, err)
		require.Equal(t, map[[2]string]int{{"u1", "email"}: 1, {"u2", "sms"}: 1, {"u3", "sms"}: 1}, tally)
		require.Zero(t, repeats, "nothing sent twice")
		require.Equal(t, 1, sent)
	})
}

// pausingSender sends through inner, then runs after: a person pausing
// the campaign while a send is under way.
type pausingSender struct {
	inner senders.Sender
	after func()
}

func (p pausingSender) Send(ctx context.Context, m senders.Message) (senders.Result, error) {
	r, err := p.inner.Send(ctx, m)
	p.after()
	return r, err
}

// A law-enforcement hold stops the batch until its time, asks Temporal to
// come back then (no later than holdRecheck), and lifts on its own.
func TestAHoldLiftsOnItsOwnAtItsTime(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := newCampaign(t, s)
		until := time.Now().Add(1500 * time.Millisecond)
		_, _, err := s.PauseCampaign(ctx, "INC-N", store.Pause{By: "legal@example.com", Reason: "investigation", At: time.Now(), Until: until, RequestedBy: "Det. Kim", Duties: []string{"us-ca-individuals"}})
		require.NoError(t, err)
		_, err = c.acts.SendBatch(ctx, batch("email", "sms"))
		var appErr *temporal.ApplicationError
		require.ErrorAs(t, err, &appErr)
		require.Equal(t, ErrPaused, appErr.Type())
		require.LessOrEqual(t, appErr.NextRetryDelay(), 1500*time.Millisecond, "retried when the hold ends")
		require.Eventually(t, func() bool {
			_, err := c.acts.SendBatch(ctx, batch("email", "sms"))
			return err == nil
		}, 10*time.Second, 100*time.Millisecond)
		tally, _, err := c.outbox.Tally(ctx, "INC-N")
		require.NoError(t, err)
		require.Len(t, tally, 3)
	})
}
