package main

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/store"
)

func view(contacted, delivered int, events ...string) api.View {
	v := api.View{ID: "INC-1", Status: api.StageNotifying, Campaign: &api.CampaignView{Subjects: 1000, Partitions: 2, Contacted: contacted, PerSecond: 250, ETA: "3s",
		Channels: map[string]store.ChannelCounts{"email": {Queued: 50, Delivered: delivered}, "sms": {Sent: 7, Delivered: 3, Failed: 1, Segments: 8}}}}
	for _, e := range events {
		v.Timeline = append(v.Timeline, api.EventView{At: time.Now(), Stage: api.StageNotifying, Text: e})
	}
	return v
}

func TestWatchRedrawsTheBarInPlaceWithLiveCounts(t *testing.T) {
	var out bytes.Buffer
	w := &watcher{out: &out, tty: true}
	w.draw(view(250, 200, "campaign: 1000 people"))
	first := out.String()
	for _, want := range []string{"campaign: 1000 people", "[#######.......................]  25.0%  250/1000 people contacted  250 msg/s  partitions 0/2  ETA 3s",
		"email   queued 50      sent 0       delivered 200", "sms     queued 0       sent 7       delivered 3        failed 1  (8 SMS segments)"} {
		if !strings.Contains(first, want) {
			t.Fatalf("first draw lacks %q:\n%s", want, first)
		}
	}
	out.Reset()
	w.draw(view(500, 450, "campaign: 1000 people"))
	second := out.String()
	if !strings.HasPrefix(second, "\x1b[3A\x1b[J") {
		t.Fatalf("the bar must be redrawn over the old one, got %q", second)
	}
	if strings.Contains(second, "campaign: 1000 people") {
		t.Fatal("a timeline line is printed once")
	}
	if !strings.Contains(second, "50.0%  500/1000") || !strings.Contains(second, "delivered 450") {
		t.Fatalf("the counts moved: %s", second)
	}
}

func TestWatchWritesOneLinePerRefreshWhenNotATerminal(t *testing.T) {
	var out bytes.Buffer
	w := &watcher{out: &out}
	w.draw(view(250, 200))
	w.draw(view(600, 550))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[1], "60.0%  600/1000") || !strings.Contains(lines[1], "email 50/0/550/0") || strings.Contains(out.String(), "\x1b") {
		t.Fatalf("want two plain progress lines, got:\n%s", out.String())
	}
}

// Calls held for people's quiet hours are said, with when they will be
// placed, instead of a campaign that looks stuck at 98% with an ETA of 1s.
func TestWatchSaysWhichCallsAreHeldAndUntilWhen(t *testing.T) {
	v := view(990, 900)
	v.Campaign.ETA = "9h30m0s"
	from, to := time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC), time.Date(2026, 12, 2, 16, 0, 0, 0, time.UTC)
	v.Campaign.Held = &api.HeldView{Calls: 12, From: from, To: to, FromLocal: "2026-12-02 08:00 CST Asia/Shanghai", ToLocal: "2026-12-02 08:00 PST America/Los_Angeles"}
	want := "12 calls held for quiet hours, placed from 2026-12-02 08:00 CST Asia/Shanghai (2026-12-02 00:00 UTC) to 2026-12-02 08:00 PST America/Los_Angeles (2026-12-02 16:00 UTC)"
	for _, tty := range []bool{true, false} {
		var out bytes.Buffer
		(&watcher{out: &out, tty: tty}).draw(v)
		if !strings.Contains(out.String(), want) || !strings.Contains(out.String(), "ETA 9h30m0s") {
			t.Fatalf("tty=%v: want the held calls and the ETA they make:\n%s", tty, out.String())
		}
	}
}

// Sends whose outcome was once unknown are counted where responders look:
// e-mails possibly delivered twice, sends still unknown, and the ones
// settled once.
func TestShowCountsSendsThatWereInDoubt(t *testing.T) {
	v := view(1000, 990)
	v.Campaign.Channels["email"] = store.ChannelCounts{Delivered: 990, PossiblyTwice: 3, Unknown: 1}
	v.Campaign.Channels["sms"] = store.ChannelCounts{Delivered: 10, Recovered: 2}
	var out bytes.Buffer
	printView(&out, v)
	text := out.String()
	for _, want := range []string{"3 possibly delivered twice (sent again after an interrupted send); 1 unknown (interrupted; the provider may have it)", "2 interrupted and settled once"} {
		if !strings.Contains(text, want) {
			t.Fatalf("incident show lacks %q:\n%s", want, text)
		}
	}
}

// incident show says where individual notice stands: under way while the
// campaign runs (not "0 reached map[]"), and the outcome by channel once done.
func TestShowSaysWhereNoticeStands(t *testing.T) {
	running := view(250, 200)
	var out bytes.Buffer
	printView(&out, running)
	if !strings.Contains(out.String(), "notifications: under way") || strings.Contains(out.String(), "map[") {
		t.Fatalf("a running campaign's notifications line:\n%s", out.String())
	}
	done := view(1000, 1000)
	done.Status = api.StageClosed
	done.Notifications = api.NotificationsView{Done: true, Reached: 990, ByChannel: map[string]int{"sms": 40, "email": 950}, Failed: 10}
	out.Reset()
	printView(&out, done)
	if want := "notifications: 990 reached (email 950, sms 40), 10 not reachable"; !strings.Contains(out.String(), want) {
		t.Fatalf("want %q in:\n%s", want, out.String())
	}
	waiting := api.View{ID: "INC-1", Status: api.StageAwaitApproval}
	out.Reset()
	printView(&out, waiting)
	if !strings.Contains(out.String(), "notifications: not begun") {
		t.Fatalf("before notice:\n%s", out.String())
	}
}

// Revising a rejected draft answers with the revision to come, not the
// rejected one's status.
func TestReviseSaysANewRevisionWaitsForLegal(t *testing.T) {
	got := decisionLine("revise", "notice-en", api.DraftView{Name: "notice-en", Revision: 2, Status: api.DraftRejected})
	if strings.Contains(got, "rejected") || !strings.Contains(got, "revision 3 asked for") || !strings.Contains(got, "waits for legal") {
		t.Fatalf("revise said %q", got)
	}
	if got := decisionLine("approve", "notice-en", api.DraftView{Revision: 2, Status: api.DraftApproved}); got != "notice-en revision 2 is now approved" {
		t.Fatalf("approve said %q", got)
	}
}

// A view the plan did not answer for says, in show and in watch, that it
// is the state recorded at a time, and watch keeps watching.
func TestShowAndWatchSayAStateIsAsRecorded(t *testing.T) {
	v := view(1000, 400)
	at := time.Date(2026, 12, 5, 22, 40, 0, 0, time.UTC)
	v.LastKnown = &api.LastKnownView{RecordedAt: at, Reason: "the plan did not answer: context deadline exceeded"}
	var out bytes.Buffer
	printView(&out, v)
	if want := "shown as recorded at 2026-12-05T22:40:00Z (the plan did not answer: context deadline exceeded); the incident runs on"; !strings.Contains(out.String(), want) {
		t.Fatalf("incident show lacks %q:\n%s", want, out.String())
	}
	for _, tty := range []bool{true, false} {
		out.Reset()
		(&watcher{out: &out, tty: tty}).draw(v)
		if want := "(as recorded at " + at.Local().Format("15:04:05") + ": the plan did not answer"; !strings.Contains(out.String(), want) {
			t.Fatalf("tty=%v: watch lacks %q:\n%s", tty, want, out.String())
		}
	}
}
