package app

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/activities"
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

// texans are affected people in Texas only, whose law lets a
// law-enforcement request delay their notice (60 days from determination).
const texans = "subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems,consent_electronic\n" +
	"tx1,Ann Lee,tx1@example.com,,,en,US-TX,1980,account-db,yes\n" +
	"tx2,Bo Tan,tx2@example.com,,,en,US-TX,1990,account-db,yes\n"

// TestAHoldForLawEnforcementMovesTheDutysDueTime: legal holds Texas's
// notice at the police's request past its 60 days: the duty's due time
// moves to the hold's end (its reminders and overdue alert with it), the
// view says who asked; lifted early, the due time is the assessed one
// again, and the incident goes on to close. With TOCSIN_RECORD_HISTORY_DELAY
// set, the run's history is written there for the workflows replay test.
func TestAHoldForLawEnforcementMovesTheDutysDueTime(t *testing.T) {
	ctx := context.Background()
	notices := func(d api.DraftView) bool { return d.Kind == activities.KindNotice }
	r := runSample(t, sampleOptions{subjects: texans, leave: notices, done: func(v api.View) bool {
		if v.Status != api.StageAwaitApproval {
			return false
		}
		for _, d := range v.Drafts {
			if !notices(d) && d.Status == api.DraftPending {
				return false
			}
		}
		return true
	}})
	duty := func(v api.View) api.ObligationView {
		for _, o := range v.Obligations {
			if o.Name == "us-tx-individuals" {
				return o
			}
		}
		t.Fatalf("no us-tx-individuals in %+v", v.Obligations)
		return api.ObligationView{}
	}
	assessed := *duty(r.view).DueAt
	until := assessed.Add(30 * 24 * time.Hour).Truncate(time.Second)
	require.NoError(t, r.legal.Do(ctx, "POST", "/api/v1/incidents/"+r.id+"/hold",
		api.HoldRequest{Until: until, Reason: "the suspect must not be alerted", RequestedBy: "Det. Ruiz, Austin PD"}, nil))
	v := waitStatus(t, r.legal, r.id, api.StageAwaitApproval)
	held := duty(v)
	require.Equal(t, until, held.DueAt.UTC(), "due when the delay ends")
	require.Equal(t, until, held.Filing.DelayedUntil.UTC())
	require.Equal(t, "Det. Ruiz, Austin PD", held.Filing.DelayRequestedBy)
	require.Contains(t, timelineText(v), "us-tx-individuals held for law enforcement (Det. Ruiz, Austin PD)")

	require.NoError(t, r.legal.Do(ctx, "POST", "/api/v1/incidents/"+r.id+"/resume", nil, nil))
	v = waitStatus(t, r.legal, r.id, api.StageAwaitApproval)
	require.Equal(t, assessed, duty(v).DueAt.UTC(), "lifted early: due as assessed")

	r.pilot = &autopilot.Pilot{Responder: r.responder, Legal: r.legal}
	r.until(t, func(v api.View) bool { return v.Status == api.StageClosed })
	if path := os.Getenv("TOCSIN_RECORD_HISTORY_DELAY"); path != "" {
		recordHistory(t, r.dev, r.id, path)
		recordKeys(t, filepath.Join(r.dir, DevCodecKeyFile), filepath.Join(filepath.Dir(path), "codec.keys"))
	}
}

func timelineText(v api.View) string {
	var b strings.Builder
	for _, e := range v.Timeline {
		b.WriteString(e.Text + "\n")
	}
	return b.String()
}
