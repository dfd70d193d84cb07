package app

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/devtools/autopilot"
	"github.com/tocsin/tocsin/internal/devtools/devpeers"
	"github.com/tocsin/tocsin/internal/inventory/synth"
)

// TestASlowMailRelayGetsEachNoticeOnce: an SMTP relay that answers each
// message after 11 s (inside SMTP's 30 s, longer than the batches' 10 s
// heartbeat timeout) once made Temporal retry batches that were still
// sending, and people received the same notice many times. Each person must
// get exactly one e-mail, and the campaign must finish.
func TestASlowMailRelayGetsEachNoticeOnce(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	d, err := StartDev(ctx, DevConfig{DataDir: dir, Listen: "127.0.0.1:0", SMTPListen: "127.0.0.1:0", BatchSize: 16, ReceiptPoll: 50 * time.Millisecond,
		PlaybookDir: anyHourPlaybooks(t), PeerFaults: mustFaults(t, "smtp.latency=11s@1"), Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))})
	require.NoError(t, err)
	defer d.Stop()
	responder, legal := importSynthetic(t, d, 5, 7)
	id := openIncident(t, responder, autopilot.Incident(synth.LeakedSystem, time.Now()))

	pilot := &autopilot.Pilot{Responder: responder, Legal: legal}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		v, err := pilot.View(ctx, id)
		require.NoError(c, err)
		require.NoError(c, pilot.Step(ctx, v))
		require.Equal(c, api.StageClosed, v.Status)
	}, 4*time.Minute, 500*time.Millisecond)

	tally, repeats, err := d.Outbox.Tally(ctx, id)
	require.NoError(t, err)
	emails := 0
	for k, n := range tally {
		require.Equal(t, 1, n, "%s got %d %s notices", k[0], n, k[1])
		if k[1] == "email" {
			emails++
		}
	}
	t.Logf("%d e-mails through the slow relay, %d repeats", emails, repeats)
	require.GreaterOrEqual(t, emails, 2, "a batch sends several e-mails one after the other")
	require.Zero(t, repeats, "no message reached the relay twice")

	// No batch attempt was given up on while it was still sending: every
	// SendBatch ran once, heartbeating through the slow answers.
	it := d.Temporal.GetWorkflowHistory(ctx, id+"-notify-1", "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	batches := 0
	for it.HasNext() {
		ev, err := it.Next()
		require.NoError(t, err)
		if a := ev.GetActivityTaskStartedEventAttributes(); a != nil {
			require.EqualValues(t, 1, a.GetAttempt(), "an activity of the partition was retried: %v", ev)
			batches++
		}
		require.Nil(t, ev.GetActivityTaskTimedOutEventAttributes(), "an activity timed out: %v", ev)
	}
	require.NotZero(t, batches)
}

func mustFaults(t testing.TB, spec string) *devpeers.Faults {
	t.Helper()
	f, err := devpeers.ParseFaults(spec, 1)
	require.NoError(t, err)
	return f
}
