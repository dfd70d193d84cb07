package pacing

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestACampaignThatFinishesAfterADutyIsDueSaysSoAndNamesTheRate(t *testing.T) {
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	duties := []Duty{
		{Name: "kr-individuals", Jurisdiction: "KR", DueAt: now.Add(72 * time.Hour)},
		{Name: "us-tx-individuals", Jurisdiction: "US-TX", DueAt: now.Add(60 * 24 * time.Hour)},
	}
	// 1.3 million texts at 4/s take 90 h 16 m.
	p := Project(now, duties, []Load{{Channel: "sms", Remaining: 1_300_000, Rate: 4}, {Channel: "email", Remaining: 900_000, Rate: 0}}, Ahead{})
	require.Len(t, p.Misses, 1, "Texas's 60 days are met")
	m := p.Misses[0]
	require.Equal(t, "kr-individuals", m.Duty)
	require.Equal(t, "sms", m.Channel)
	require.Equal(t, 18*time.Hour+16*time.Minute+40*time.Second, m.Late)
	require.InDelta(t, 5.02, m.Need, 0.01, "1.3 million in 72 h")
	require.Equal(t, "at 4 sms/s the people still waiting are told 18h 17m after kr-individuals (KR) is due at 2026-12-08 00:00 UTC; 5.02 sms/s meets it", m.Say())
	require.Equal(t, "sms", p.Finishes[0].Channel, "the slowest channel first")

	// At 6/s everything is on time.
	require.Empty(t, Project(now, duties, []Load{{Channel: "sms", Remaining: 1_300_000, Rate: 6}}, Ahead{}).Misses)
	// Past its due time, no rate meets it.
	late := Project(now, []Duty{{Name: "x", Jurisdiction: "KR", DueAt: now.Add(-time.Hour)}}, []Load{{Channel: "sms", Remaining: 10, Rate: 1}}, Ahead{})
	require.Zero(t, late.Misses[0].Need)
	require.Contains(t, late.Misses[0].Say(), "no rate meets it now")
	// Unpaced channels and a campaign with nobody waiting project nothing late.
	require.Empty(t, Project(now, duties, []Load{{Channel: "email", Remaining: 5, Rate: 0}, {Channel: "sms", Remaining: 0, Rate: 1}}, Ahead{}).Misses)
}

// The people under the earliest due time go first: their duty is met or
// missed by their own sends, not everyone's.
func TestTheEarliestDueAreMeasuredByTheirOwnFinish(t *testing.T) {
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	duties := []Duty{
		{Name: "kr-individuals", Jurisdiction: "KR", DueAt: now.Add(72 * time.Hour)},
		{Name: "us-tx-individuals", Jurisdiction: "US-TX", DueAt: now.Add(30 * 24 * time.Hour)},
	}
	everyone := []Load{{Channel: "sms", Remaining: 1_300_000, Rate: 4}}
	// 10,000 Koreans first at 4/s: 41 h 40 m, inside their 72 hours,
	// though everyone's 90 h are not.
	p := Project(now, duties, everyone, Ahead{Duties: []string{"kr-individuals"}, Loads: []Load{{Channel: "sms", Remaining: 10_000, Rate: 4}}})
	require.Empty(t, p.Misses)
	require.Equal(t, 1_300_000, p.Finishes[0].Remaining, "the drawing shows everyone's finish")

	// 1.2 million Koreans first at 4/s: 83 h 20 m, late on their own.
	p = Project(now, duties, everyone, Ahead{Duties: []string{"kr-individuals"}, Loads: []Load{{Channel: "sms", Remaining: 1_200_000, Rate: 4}}})
	require.Len(t, p.Misses, 1)
	m := p.Misses[0]
	require.True(t, m.Ahead)
	require.Equal(t, 11*time.Hour+20*time.Minute, m.Late)
	require.InDelta(t, 4.63, m.Need, 0.01, "1.2 million in 72 h")
	require.Equal(t, "at 4 sms/s its people, sent first, are told 11h 20m after kr-individuals (KR) is due at 2026-12-08 00:00 UTC; 4.63 sms/s meets it", m.Say())
}

// Nobody goes ahead when the earliest due are everyone waiting.
func TestNobodyIsAheadWhenTheEarliestDueAreEveryone(t *testing.T) {
	rates := map[string]float64{"sms": 4}
	all := map[string]int{"phone": 10, "email": 3}
	require.Empty(t, AheadOf([]string{"kr-individuals"}, []string{"sms"}, all, all, rates, nil).Duties)
	a := AheadOf([]string{"kr-individuals"}, []string{"sms"}, map[string]int{"phone": 4}, all, rates, map[string]float64{"sms": 3})
	require.Equal(t, []string{"kr-individuals"}, a.Duties)
	require.Equal(t, []Load{{Channel: "sms", Remaining: 4, Rate: 4, Measured: 3}}, a.Loads)
}

// A carrier's bad day: texts configured at 60 a second go out at 4. The
// projection takes the slower rate the campaign keeps, says it is the
// measured one, and names the rate that meets the duty; an unpaced
// channel is projected at its measured pace rather than finishing "now".
func TestARunningCampaignIsProjectedAtTheSlowerRateItMeasures(t *testing.T) {
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	duties := []Duty{{Name: "kr-individuals", Jurisdiction: "KR", DueAt: now.Add(72 * time.Hour)}}
	// At 60/s, 1.3 million texts take 6 h: on time.
	require.Empty(t, Project(now, duties, []Load{{Channel: "sms", Remaining: 1_300_000, Rate: 60}}, Ahead{}).Misses)

	p := Project(now, duties, []Load{{Channel: "sms", Remaining: 1_300_000, Rate: 60, Measured: 4}}, Ahead{})
	require.Len(t, p.Misses, 1)
	m := p.Misses[0]
	require.True(t, m.Measured)
	require.Equal(t, 4.0, m.Rate)
	require.Equal(t, 18*time.Hour+16*time.Minute+40*time.Second, m.Late)
	require.Equal(t, "at the 4 sms/s measured lately the people still waiting are told 18h 17m after kr-individuals (KR) is due at 2026-12-08 00:00 UTC; 5.02 sms/s meets it", m.Say())
	require.True(t, p.Finishes[0].Measured)

	// Faster than configured (the limiter's burst) is not the pace.
	f := Project(now, duties, []Load{{Channel: "sms", Remaining: 600, Rate: 2, Measured: 9}}, Ahead{}).Finishes[0]
	require.False(t, f.Measured)
	require.Equal(t, now.Add(5*time.Minute), f.At)

	// Unpaced e-mail at the 53 a second a small pool carries on a bad day.
	f = Project(now, duties, []Load{{Channel: "email", Remaining: 53 * 3600, Measured: 53}}, Ahead{}).Finishes[0]
	require.True(t, f.Measured)
	require.Equal(t, now.Add(time.Hour), f.At)
}

func TestAChannelsRateIsMeasuredOverTheLastMinutesUntilNow(t *testing.T) {
	now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	steady := func(from, to time.Duration, perSecond int) []Point {
		var pts []Point
		n := 0
		for at := from; at <= to; at += time.Second {
			n += perSecond
			pts = append(pts, Point{At: now.Add(at), Sent: n})
		}
		return pts
	}
	got := Measured(now, map[string][]Point{
		"sms":     steady(-10*time.Minute, 0, 10),               // ten a second for ten minutes
		"email":   steady(-10*time.Minute, -150*time.Second, 8), // stopped two and a half minutes ago
		"onsite":  steady(-20*time.Second, 0, 100),              // began 20 s ago: its ramp
		"voice":   steady(-20*time.Minute, -6*time.Minute, 1),   // nothing within the window
		"unknown": nil,
	}, 5*time.Minute)
	require.InDelta(t, 10, got["sms"], 0.01)
	require.InDelta(t, 4, got["email"], 0.01, "half the window at 8, half at nothing")
	require.NotContains(t, got, "onsite")
	require.NotContains(t, got, "voice")
	require.NotContains(t, got, "unknown")

	// A campaign that began 100 s ago is measured over those 100 s.
	got = Measured(now, map[string][]Point{"sms": steady(-100*time.Second, 0, 3)}, 5*time.Minute)
	require.InDelta(t, 3, got["sms"], 0.05)
}

func TestAResumedCampaignIsMeasuredFromItsResume(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	require.Equal(t, MeasureWindow, WindowSince(now, time.Time{}), "never paused")
	require.Equal(t, 90*time.Second, WindowSince(now, now.Add(-90*time.Second)))
	require.Equal(t, MeasureWindow, WindowSince(now, now.Add(-time.Hour)))
	require.Zero(t, WindowSince(now, now.Add(time.Second)), "a resume a clock's skew ahead")

	// Ten a second before a pause of three minutes, ten a second for the
	// minute since: the pause is not in the rate.
	var pts []Point
	n := 0
	for at := -10 * time.Minute; at <= 0; at += time.Second {
		if at <= -4*time.Minute || at > -time.Minute {
			n += 10
		}
		pts = append(pts, Point{At: now.Add(at), Sent: n})
	}
	sent := map[string][]Point{"sms": pts}
	require.InDelta(t, 4, Measured(now, sent, MeasureWindow)["sms"], 0.05, "over five minutes, three of them paused")
	require.InDelta(t, 10, Measured(now, sent, WindowSince(now, now.Add(-time.Minute)))["sms"], 0.05)
	require.NotContains(t, Measured(now, sent, WindowSince(now, now.Add(-20*time.Second))), "sms", "resumed 20 s ago: its ramp")
}
