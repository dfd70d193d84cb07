package app

import (
	"context"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/devtools/autopilot"
	"github.com/tocsin/tocsin/internal/inventory/synth"
)

// TestAPausedCampaignSendsNothingUntilResumed: legal pauses a 10,000-person
// campaign once it is sending; within seconds nothing more goes out, and
// nothing does while it stays paused; a responder may not resume it; once
// legal resumes it the campaign finishes, everyone told, nobody twice.
func TestAPausedCampaignSendsNothingUntilResumed(t *testing.T) {
	ctx := context.Background()
	const n = 10000
	d, err := StartDev(ctx, DevConfig{DataDir: t.TempDir(), Listen: "127.0.0.1:0", BatchSize: 100, ReceiptPoll: 100 * time.Millisecond, PlaybookDir: anyHourPlaybooks(t),
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelError}))})
	require.NoError(t, err)
	t.Cleanup(d.Stop)
	responder, legal := importSynthetic(t, d, n, 11)
	id := openIncident(t, responder, autopilot.Incident(synth.LeakedSystem, time.Now()))
	pilot := &autopilot.Pilot{Responder: responder, Legal: legal}
	sent := func() int {
		c, err := d.Outbox.Count(ctx, id)
		require.NoError(t, err)
		return c
	}
	view := func() api.View {
		var v api.View
		require.NoError(t, responder.Do(ctx, "GET", "/api/v1/incidents/"+id, nil, &v))
		require.Empty(t, v.Error)
		return v
	}
	require.Eventually(t, func() bool {
		v := view()
		require.NoError(t, pilot.Step(ctx, v))
		return v.Status == api.StageNotifying && sent() > 0
	}, 3*time.Minute, 50*time.Millisecond, "the campaign starts sending")

	var pv api.PauseView
	require.NoError(t, legal.Do(ctx, "POST", "/api/v1/incidents/"+id+"/pause", api.PauseRequest{Reason: "the notice names the wrong hotline"}, &pv))
	require.Equal(t, "legal@example.com", pv.By)
	prev := -1
	require.Eventually(t, func() bool { cur := sent(); still := cur == prev; prev = cur; return still }, 15*time.Second, 500*time.Millisecond,
		"the sends under way finish and no new one starts")
	settled := prev
	require.Less(t, settled, n, "paused mid-campaign")
	require.Never(t, func() bool { return sent() > settled }, 3*time.Second, 200*time.Millisecond, "nothing goes out while paused")
	v := view()
	require.Equal(t, api.StageNotifying, v.Status)
	require.NotNil(t, v.Paused)
	require.Equal(t, "the notice names the wrong hotline", v.Paused.Reason)

	err = responder.Do(ctx, "POST", "/api/v1/incidents/"+id+"/resume", nil, nil)
	require.ErrorContains(t, err, "may not do this; it needs one of: legal, admin")
	require.Equal(t, settled, sent())

	require.NoError(t, legal.Do(ctx, "POST", "/api/v1/incidents/"+id+"/resume", nil, &pv))
	require.Eventually(t, func() bool {
		v = view()
		require.NoError(t, pilot.Step(ctx, v))
		return v.Status == api.StageClosed
	}, 5*time.Minute, 100*time.Millisecond, "the campaign finishes once resumed")
	require.Nil(t, v.Paused)
	require.Equal(t, n, v.Notifications.Reached+v.Notifications.Failed, "everyone accounted for")
	tally, repeats, err := d.Outbox.Tally(ctx, id)
	require.NoError(t, err)
	for k, c := range tally {
		require.Equal(t, 1, c, "%v told twice", k)
	}
	require.Zero(t, repeats, "no provider got the same message twice")
	var audit []struct {
		Action, Outcome, Actor string
	}
	require.NoError(t, legal.Do(ctx, "GET", "/api/v1/incidents/"+id+"/audit", nil, &audit))
	var actions []string
	for _, a := range audit {
		actions = append(actions, a.Action+" "+a.Outcome+" "+a.Actor)
	}
	require.Contains(t, actions, "pause campaign done legal@example.com")
	require.Contains(t, actions, "resume campaign done legal@example.com")
}
