package app

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/apiclient"
	"github.com/tocsin/tocsin/internal/devtools/autopilot"
	"github.com/tocsin/tocsin/internal/inventory/synth"
	"github.com/tocsin/tocsin/internal/store"
)

// A fault of Tocsin's own configuration is no fact about a person. Mid-
// campaign the mail relay stops letting Tocsin's sender send (553 on MAIL
// FROM) and the on-site service's secret is rotated (401); once they are
// held and probed, they are mended, and Twilio's auth token is rotated
// (401, 20003) as the SMS rung begins, then mended too. Each channel is held
// while its provider refuses Tocsin, the war room is told, the holds lift
// by themselves, everyone gets exactly one notice per channel, and nobody
// is marked failed for it.
func TestAMisconfiguredProviderHoldsItsChannelAndWritesNobodyOff(t *testing.T) {
	ctx := context.Background()
	// Slow peers, one send at a time in each of 4 batches: the campaign
	// lasts long enough for the providers to change their minds mid-way.
	d, err := StartDev(ctx, DevConfig{DataDir: t.TempDir(), Listen: "127.0.0.1:0", SMTPListen: "127.0.0.1:0", BatchSize: 8, ReceiptPoll: 50 * time.Millisecond,
		BatchWindow: 4, SendLanes: 1,
		PlaybookDir: anyHourPlaybooks(t), PeerFaults: mustFaults(t, "smtp.latency=200ms@1,onsite.latency=200ms@1"),
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))})
	require.NoError(t, err)
	defer d.Stop()
	responder, legal := importSynthetic(t, d, 60, 11)
	id := openIncident(t, responder, autopilot.Incident(synth.LeakedSystem, time.Now()))
	pilot := &autopilot.Pilot{Responder: responder, Legal: legal}

	sent := func(channel string) int {
		entries, err := d.Outbox.List(ctx, id)
		require.NoError(t, err)
		n := 0
		for _, e := range entries {
			if e.Channel == channel {
				n++
			}
		}
		return n
	}
	holds := func() map[string]store.ChannelHold {
		hs, err := d.Store.ChannelHolds(ctx)
		require.NoError(t, err)
		m := map[string]store.ChannelHold{}
		for _, h := range hs {
			m[h.Channel] = h
		}
		return m
	}
	step := func(c *assert.CollectT) api.View {
		v, err := pilot.View(ctx, id)
		require.NoError(c, err)
		require.NoError(c, pilot.Step(ctx, v))
		return v
	}

	// Mid-campaign: the first e-mails are out.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		step(c)
		require.Positive(c, sent("email"))
	}, 2*time.Minute, 50*time.Millisecond)
	d.SMTPPeer.RefuseSender.Store(true)
	d.OnsitePeer.Rotated.Store(true)
	d.TwilioPeer.Rotated.Store(true)
	mailBefore, onsiteBefore := sent("email"), sent("onsite")

	// Held, told, and probed once more in vain.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		step(c)
		h := holds()
		require.Contains(c, h, "email")
		require.Contains(c, h, "onsite")
		require.Positive(c, h["email"].Probes, "a probe was refused")
		require.Positive(c, h["onsite"].Probes, "a probe was refused")
	}, 2*time.Minute, 200*time.Millisecond)
	require.Contains(t, holds()["email"].Reason, "smtp 553")
	require.Contains(t, holds()["onsite"].Reason, "onsite 401")
	v, err := apiclient.New(responder).Incident(ctx, id)
	require.NoError(t, err)
	require.Equal(t, api.StageNotifying, v.Status, "the campaign waits; it does not move everyone down the ladder")
	require.NotEmpty(t, v.HeldChannels, "incident show says which channels are held")

	d.SMTPPeer.RefuseSender.Store(false)
	d.OnsitePeer.Rotated.Store(false)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		step(c)
		h := holds()
		require.NotContains(c, h, "email")
		require.NotContains(c, h, "onsite")
		require.Contains(c, h, "sms", "the SMS rung met the rotated Twilio token")
	}, 3*time.Minute, 200*time.Millisecond)
	require.Greater(t, sent("email"), mailBefore, "the e-mails that waited went out")
	require.Greater(t, sent("onsite"), onsiteBefore)
	d.TwilioPeer.Rotated.Store(false)

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		v := step(c)
		require.Equal(c, api.StageClosed, v.Status)
	}, 4*time.Minute, 200*time.Millisecond)
	require.Empty(t, holds())

	tally, repeats, err := d.Outbox.Tally(ctx, id)
	require.NoError(t, err)
	for k, n := range tally {
		require.Equal(t, 1, n, "%s got %d %s notices", k[0], n, k[1])
	}
	require.Zero(t, repeats)
	var ledger bytes.Buffer
	require.NoError(t, apiclient.New(responder).Deliveries(ctx, id, &ledger))
	// Every synthetic person is reachable: no delivery failed at all, least
	// of all for the providers' refusals of Tocsin.
	require.NotContains(t, ledger.String(), ",failed,", "a delivery was written off")
	for _, refused := range []string{"failure 553", "failure 401", "failure 20003", "smtp 553", "onsite 401", "twilio 20003"} {
		require.NotContains(t, ledger.String(), refused, "a delivery was written off for Tocsin's own configuration")
	}
	var posts []string
	entries, err := d.Outbox.List(ctx, id)
	require.NoError(t, err)
	for _, e := range entries {
		if e.Channel == "slack" {
			posts = append(posts, e.Body)
		}
	}
	all := strings.Join(posts, "\n")
	for _, want := range []string{"email held since", "onsite held since", "sms held since", "email resumed after", "onsite resumed after", "sms resumed after"} {
		require.Contains(t, all, want, "the war room is told")
	}
}
