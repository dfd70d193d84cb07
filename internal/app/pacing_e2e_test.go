package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/activities"
	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/devtools/autopilot"
	"github.com/tocsin/tocsin/internal/senders"
)

// TestACampaignThatWouldMissADutySaysSoAndNamesTheRate: 200 Koreans,
// detected now (Korea's notice is due in 72 hours), and e-mail configured
// at 0.0005 a second: their notice would take 111 hours. While legal
// reads the notices, the incident's view says the campaign would miss the
// Korean duty, by how much, and the rate that meets it.
func TestACampaignThatWouldMissADutySaysSoAndNamesTheRate(t *testing.T) {
	r, detected := slowKoreanCampaign(t)
	p := r.view.Pacing
	require.Len(t, p.Misses, 1)
	m := p.Misses[0]
	require.Equal(t, "kr-individuals", m.Duty)
	require.Equal(t, "email", m.Channel)
	require.Equal(t, detected.Add(72*time.Hour), m.DueAt.UTC())
	// 200 e-mails at 0.0005/s take 400,000 s (111 h 7 m): 39 h late.
	require.InDelta(t, (111*time.Hour + 7*time.Minute - 72*time.Hour).Seconds(), float64(m.LateSeconds), 120)
	require.InDelta(t, 200/(72*3600.0), m.Need, 0.000001, "200 people in 72 hours")
	require.GreaterOrEqual(t, m.Need, 200/(72*3600.0), "never below the rate that meets it")
	require.Contains(t, m.Text, "at 0.0005 email/s the people still waiting are told 1d 15h after kr-individuals (KR) is due")
	require.Contains(t, m.Text, "0.000772 email/s meets it")
	require.Equal(t, "email", p.Finishes[0].Channel)
	require.Equal(t, 200, p.Finishes[0].Remaining)

	// Once legal approves every draft, the notices too (the view may have
	// said so before the drafts were written), the campaign starts, and
	// the war room is told before the first e-mail goes.
	r.pilot = &autopilot.Pilot{Responder: r.responder, Legal: r.legal}
	r.until(t, func(api.View) bool {
		for _, msg := range r.dev.SlackPeer.Messages(senders.ChannelName(r.id)) {
			if strings.Contains(msg.Text, "Late: at 0.0005 email/s the people still waiting are told") && strings.Contains(msg.Text, "0.000772 email/s meets it") {
				return true
			}
		}
		return false
	})
}

// The responder's way out of a late campaign: an admin raises e-mail's
// rate, within the ceiling the config names, to the rate the projection
// named, and the campaign is on time. Above the ceiling, or asked by a
// responder, nothing changes.
func TestAnAdminRaisesARateWithinItsCeilingAndTheCampaignIsOnTime(t *testing.T) {
	r, _ := slowKoreanCampaignCapped(t, senders.Rates{"email": 0.001})
	ctx := context.Background()
	admin := as(r.dev, "TOCSIN_TOKEN_ADMIN")
	err := r.responder.Do(ctx, "PUT", "/api/v1/channels/email/rate", api.SetRateRequest{PerSecond: 0.0008}, nil)
	require.ErrorContains(t, err, "may not do this; it needs one of: admin")
	err = admin.Do(ctx, "PUT", "/api/v1/channels/email/rate", api.SetRateRequest{PerSecond: 0.01}, nil)
	require.ErrorContains(t, err, "0.01/s is over email's ceiling of 0.001/s")
	err = admin.Do(ctx, "PUT", "/api/v1/channels/sms/rate", api.SetRateRequest{PerSecond: 5}, nil)
	require.ErrorContains(t, err, "sms is not paced")
	r.until(t, func(v api.View) bool { return v.Pacing != nil && len(v.Pacing.Misses) == 1 })

	var set api.RateView
	require.NoError(t, admin.Do(ctx, "PUT", "/api/v1/channels/email/rate", api.SetRateRequest{PerSecond: 0.0008}, &set))
	require.Equal(t, 0.0008, set.PerSecond)
	require.Equal(t, 0.0005, set.Configured)
	r.until(t, func(v api.View) bool { return v.Pacing != nil && len(v.Pacing.Misses) == 0 })
	require.Equal(t, 0.0008, r.view.Pacing.Finishes[0].Rate, "projected at the rate set")
	var rates []api.RateView
	require.NoError(t, r.legal.Do(ctx, "GET", "/api/v1/channels/rates", nil, &rates))
	require.Len(t, rates, 1)
	require.Equal(t, "admin@example.com", rates[0].SetBy)
	require.Equal(t, 0.001, rates[0].Ceiling)
}

// TestTheEarliestDueAreProjectedByTheirOwnFinish: 200 Koreans and 400
// Britons, e-mail at 0.001 a second. Everyone takes 166 hours, but the
// Koreans go first and are told within 56 of their 72: the view says
// nobody is late, and draws everyone's finish.
func TestTheEarliestDueAreProjectedByTheirOwnFinish(t *testing.T) {
	var b strings.Builder
	b.WriteString("subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems,consent_electronic\n")
	for i := range 600 {
		if i%3 == 0 {
			fmt.Fprintf(&b, "p%03d,Kim %d,kr%03d@example.com,,,ko,KR,1980,account-db,yes\n", i, i, i)
		} else {
			fmt.Fprintf(&b, "p%03d,Ann %d,gb%03d@example.com,,,en,GB,1980,account-db,yes\n", i, i, i)
		}
	}
	detected := time.Now().UTC().Truncate(time.Second)
	notices := func(d api.DraftView) bool { return d.Kind == activities.KindNotice }
	r := runSample(t, sampleOptions{subjects: b.String(), rates: senders.Rates{"email": 0.001}, leave: notices,
		incident: func(yaml string) string {
			return strings.Replace(yaml, "detected_at: 2026-11-20T08:00:00Z", "detected_at: "+detected.Format(time.RFC3339), 1)
		},
		done: func(v api.View) bool {
			// Projected once the Korean duty's due time is known.
			for _, o := range v.Obligations {
				if o.Name == "kr-individuals" && o.DueAt != nil {
					return v.Pacing != nil && len(v.Pacing.Finishes) > 0
				}
			}
			return false
		}})
	p := r.view.Pacing
	require.Empty(t, p.Misses, "the Koreans, sent first, are on time")
	require.Equal(t, "email", p.Finishes[0].Channel)
	require.Equal(t, 600, p.Finishes[0].Remaining, "the drawing shows everyone's finish")
	require.True(t, p.Finishes[0].At.After(detected.Add(72*time.Hour)), "everyone's is past the Korean due time")
}

// TestACampaignSlowerThanConfiguredIsProjectedAtItsMeasuredPace: e-mail
// is configured at 10 a second, which tells 120 Koreans in 12 s, well
// inside the 5 minutes left of their 72 hours. But the relay takes 5 s an
// e-mail (a bad day), and the campaign keeps about 0.2 a second. Once it
// has sent for half a minute, the view projects e-mail at the measured
// rate, says so, and names the duty it will miss.
func TestACampaignSlowerThanConfiguredIsProjectedAtItsMeasuredPace(t *testing.T) {
	var b strings.Builder
	b.WriteString("subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems,consent_electronic\n")
	for i := range 120 {
		fmt.Fprintf(&b, "kr%03d,Kim %d,kr%03d@example.com,,,ko,KR,1980,account-db,yes\n", i, i, i)
	}
	detected := time.Now().UTC().Add(-72*time.Hour + 5*time.Minute).Truncate(time.Second)
	var before api.View
	r := runSample(t, sampleOptions{subjects: b.String(), rates: senders.Rates{"email": 10}, faults: "smtp.latency=5s@1", narrow: true,
		incident: func(yaml string) string {
			return strings.Replace(yaml, "detected_at: 2026-11-20T08:00:00Z", "detected_at: "+detected.Format(time.RFC3339), 1)
		},
		done: func(v api.View) bool {
			if v.Campaign == nil && v.Pacing != nil && len(v.Pacing.Finishes) > 0 {
				before = v
			}
			return v.Pacing != nil && len(v.Pacing.Misses) > 0
		}})
	require.NotNil(t, before.Pacing, "projected at the configured rate before the campaign sent")
	require.Empty(t, before.Pacing.Misses, "at 10 a second nobody is late")
	require.False(t, before.Pacing.Finishes[0].Measured)

	p := r.view.Pacing
	require.Len(t, p.Misses, 1)
	m := p.Misses[0]
	require.Equal(t, "kr-individuals", m.Duty)
	require.Equal(t, "email", m.Channel)
	require.True(t, m.Measured)
	require.Less(t, m.Rate, 1.0, "the relay's pace, not the configured 10")
	require.Greater(t, m.Need, m.Rate, "the rate that meets it is above the measured one")
	require.Contains(t, m.Text, "email/s measured lately the people still waiting are told")
	require.Contains(t, m.Text, "after kr-individuals (KR) is due")
	require.True(t, p.Finishes[0].Measured)
}

// slowKoreanCampaign opens the sample breach over 200 Koreans, detected
// now, with e-mail paced at 0.0005 a second, and waits (the notices left
// to legal) until the view says the campaign would be late.
func slowKoreanCampaign(t *testing.T) (sampleRun, time.Time) {
	return slowKoreanCampaignCapped(t, nil)
}

// slowKoreanCampaignCapped is slowKoreanCampaign with the providers'
// ceilings in the config.
func slowKoreanCampaignCapped(t *testing.T, ceilings senders.Rates) (sampleRun, time.Time) {
	t.Helper()
	var b strings.Builder
	b.WriteString("subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems,consent_electronic\n")
	for i := range 200 {
		fmt.Fprintf(&b, "kr%03d,Kim %d,kr%03d@example.com,,,ko,KR,1980,account-db,yes\n", i, i, i)
	}
	detected := time.Now().UTC().Truncate(time.Second)
	notices := func(d api.DraftView) bool { return d.Kind == activities.KindNotice }
	r := runSample(t, sampleOptions{subjects: b.String(), rates: senders.Rates{"email": 0.0005}, ceilings: ceilings, leave: notices,
		incident: func(yaml string) string {
			return strings.Replace(yaml, "detected_at: 2026-11-20T08:00:00Z", "detected_at: "+detected.Format(time.RFC3339), 1)
		},
		done: func(v api.View) bool { return v.Pacing != nil && len(v.Pacing.Misses) > 0 }})
	return r, detected
}

// TestTheConsoleDrawsDueTimesAgainstTheProjectedFinish: the incident page
// draws, without a script, each duty's due time, now, and e-mail's
// projected finish, red where it passes the Korean duty.
func TestTheConsoleDrawsDueTimesAgainstTheProjectedFinish(t *testing.T) {
	ctx := browser(t)
	r, _ := slowKoreanCampaign(t)
	signIn(t, ctx, r.dev.URL, "legal@example.com")
	var labels []string
	var lateBars, dues int
	run(t, ctx, "the timeline", emulation.SetScriptExecutionDisabled(true), chromedp.Navigate(r.dev.URL+"/incidents/"+r.id),
		chromedp.WaitVisible(`#timeline svg`, chromedp.ByQuery),
		chromedp.Evaluate(`Array.from(document.querySelectorAll('#timeline svg text')).map(e => e.textContent)`, &labels),
		chromedp.Evaluate(`document.querySelectorAll('#timeline svg rect.finish[fill="#cf222e"]').length`, &lateBars),
		chromedp.Evaluate(`document.querySelectorAll('#timeline svg path.due').length`, &dues),
		chromedp.ScrollIntoView(`#pacing`, chromedp.ByQuery))
	screenshot(t, ctx, "07-pacing-timeline")
	require.Equal(t, 1, lateBars, "e-mail's finish, red: it passes a due time")
	require.GreaterOrEqual(t, dues, 1)
	joined := strings.Join(labels, "\n")
	require.Contains(t, joined, "kr-individuals due ")
	require.Contains(t, joined, "UTC)", "each due time in its jurisdiction's time and UTC")
	require.Contains(t, joined, "email: 200 left at 0.0005/s, done ")
	require.Contains(t, joined, "now")
	var text string
	run(t, ctx, "the page's words", chromedp.Text(`#pacing`, &text, chromedp.ByQuery))
	require.Contains(t, text, "Late: at 0.0005 email/s the people still waiting are told")
}

// TestTheEarliestDueAreToldFirst: 24 Koreans (their notice is due 72
// hours after detection, now) and 24 Britons (as soon as practicable: no
// fixed time) in one campaign. Every Korean's notice is claimed before any
// Briton's, each person gets one e-mail, and the timeline says why. With
// TOCSIN_RECORD_HISTORY_DUE_FIRST set, the run's history is written there
// for the workflows' replay test.
func TestTheEarliestDueAreToldFirst(t *testing.T) {
	var b strings.Builder
	b.WriteString("subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems,consent_electronic\n")
	for i := range 24 {
		// Interleaved in subject order, so order alone would mix them.
		fmt.Fprintf(&b, "p%03da,Kim %d,kr%03d@example.com,,,ko,KR,1980,account-db,yes\n", i, i, i)
		fmt.Fprintf(&b, "p%03db,Ann %d,gb%03d@example.com,,,en,GB,1980,account-db,yes\n", i, i, i)
	}
	detected := time.Now().UTC().Truncate(time.Second)
	r := runSample(t, sampleOptions{subjects: b.String(),
		incident: func(yaml string) string {
			return strings.Replace(yaml, "detected_at: 2026-11-20T08:00:00Z", "detected_at: "+detected.Format(time.RFC3339), 1)
		},
		done: func(v api.View) bool { return v.Status == api.StageClosed }})

	ctx := context.Background()
	rows, err := r.dev.Store.LedgerPage(ctx, r.id, "", "", 1000)
	require.NoError(t, err)
	var lastKorean, firstBriton time.Time
	sent := map[string]int{}
	for _, row := range rows {
		require.Equal(t, "email", row.Channel)
		sent[row.SubjectID]++
		at, err := time.Parse(time.RFC3339Nano, row.ClaimedAt)
		require.NoError(t, err, row.ClaimedAt)
		if strings.HasSuffix(row.SubjectID, "a") && at.After(lastKorean) {
			lastKorean = at
		}
		if strings.HasSuffix(row.SubjectID, "b") && (firstBriton.IsZero() || at.Before(firstBriton)) {
			firstBriton = at
		}
	}
	require.Len(t, sent, 48, "everyone told")
	for id, n := range sent {
		require.Equal(t, 1, n, "%s sent %d e-mails", id, n)
	}
	require.True(t, lastKorean.Before(firstBriton), "the last Korean's e-mail (%s) is claimed before the first Briton's (%s)", lastKorean, firstBriton)
	tally, repeats, err := r.dev.Outbox.Tally(ctx, r.id)
	require.NoError(t, err)
	require.Zero(t, repeats)
	for k, n := range tally {
		if k[1] == "email" {
			require.Equal(t, 1, n, "%s got %d e-mails at the relay", k[0], n)
		}
	}
	var said []string
	for _, e := range r.view.Timeline {
		said = append(said, e.Text)
	}
	require.Contains(t, strings.Join(said, "\n"), "earliest due first: the 24 people in KR, whose kr-individuals falls due at "+detected.Add(72*time.Hour).Format("2006-01-02 15:04 UTC")+", are sent the first rung before the other 24")
	if path := os.Getenv("TOCSIN_RECORD_HISTORY_DUE_FIRST"); path != "" {
		recordHistory(t, r.dev, r.id, path)
		recordKeys(t, filepath.Join(r.dir, DevCodecKeyFile), filepath.Join(filepath.Dir(path), "codec.keys"))
	}
}
