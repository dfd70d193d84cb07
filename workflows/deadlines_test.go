package workflows

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/store"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/activities"
	"github.com/tocsin/tocsin/internal/plandata"
	"github.com/tocsin/tocsin/playbooks"
)

// Deadlines are durable timers: a reminder before each due time, overdue
// when it passes unfiled, a late filing only with reasons, Singapore's
// individual notice held until the PDPC is told, and the incident open until
// every mandatory duty is filed.
func TestDeadlinesRemindEscalateAndGateNotice(t *testing.T) {
	detected := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	obligations := []playbooks.Obligation{
		{Name: "eu-authority", Jurisdiction: "EU", Audience: "regulator", Owner: "legal", AnchorAt: detected, DueAt: detected.Add(2 * time.Hour), LateReasons: true, Sources: []string{"GDPR art. 33(1)"}},
		{Name: "sg-pdpc", Jurisdiction: "SG", Audience: "regulator", Owner: "government-relations", AnchorAt: detected, DueAt: detected.Add(72 * time.Hour)},
		{Name: "sg-individuals", Jurisdiction: "SG", Audience: "individuals", After: "sg-pdpc", AnchorAt: detected},
		{Name: "hk-pcpd", Jurisdiction: "HK", Audience: "regulator", Voluntary: true, AnchorAt: detected},
	}
	var posts []string
	env := setup(t, 0, overrides{
		assess: &activities.AssessResult{Obligations: obligations, Ladder: [][]string{{"email"}}, ReceiptTimeout: time.Minute,
			Owners:    map[string]string{"legal": "U-LEGAL"},
			Reminders: map[string][]time.Time{"eu-authority": {detected.Add(time.Hour)}, "sg-pdpc": {detected.Add(36 * time.Hour), detected.Add(71 * time.Hour)}}},
		drafts: func(_ context.Context, in activities.DraftInput) (activities.DraftResult, error) {
			return activities.DraftResult{Drafts: []activities.DraftInfo{
				{Name: "report-sg-pdpc", Kind: activities.KindReport, Revision: 1, Author: in.Author},
				{Name: "notice-en", Kind: activities.KindNotice, Revision: 1, Author: in.Author}}}, nil
		},
		post: func(_ context.Context, in activities.PostInput) error {
			posts = append(posts, in.Text)
			return nil
		},
	})
	env.SetStartTime(detected)
	legal := Actor{Identity: "legal@example.com", Role: "legal"}
	responder := Actor{Identity: "responder@example.com", Role: "responder"}
	query := func() Progress { return progressOf(t, env) }
	var early, lateNoReason, late, viewer, unapproved, filed *updateResult
	env.RegisterDelayedCallback(func() {
		unapproved = update(env, UpdateSubmit, SubmitInput{Actor: responder, Obligation: "sg-pdpc", Reference: "PDPC-1"})
		update(env, UpdateApprove, ApproveInput{Actor: legal, Draft: "notice-en"})
		update(env, UpdateApprove, ApproveInput{Actor: legal, Draft: "report-sg-pdpc"})
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		p := query()
		require.Equal(t, StageAwaitFiling, p.Status, "notice waits for the PDPC")
		require.Equal(t, FilingPending, p.Filings["eu-authority"].Status)
		require.Equal(t, 1, p.Filings["eu-authority"].Reminders, "half-time reminder at +1h")
		early = update(env, UpdateSubmit, SubmitInput{Actor: responder, Obligation: "sg-individuals", Reference: "x"})
	}, 90*time.Minute)
	env.RegisterDelayedCallback(func() {
		p := query()
		require.Equal(t, FilingOverdue, p.Filings["eu-authority"].Status)
		lateNoReason = update(env, UpdateSubmit, SubmitInput{Actor: legal, Obligation: "eu-authority", Reference: "DPC-77"})
		late = update(env, UpdateSubmit, SubmitInput{Actor: legal, Obligation: "eu-authority", Reference: "DPC-77", LateReason: "scope confirmed only at 09:30"})
	}, 3*time.Hour)
	env.RegisterDelayedCallback(func() {
		p := query()
		require.Equal(t, 1, p.Filings["sg-pdpc"].Reminders)
		require.Equal(t, StageAwaitFiling, p.Status)
		viewer = update(env, UpdateSubmit, SubmitInput{Actor: Actor{Identity: "v@example.com", Role: "viewer"}, Obligation: "sg-pdpc", Reference: "PDPC-1"})
		filed = update(env, UpdateSubmit, SubmitInput{Actor: responder, Obligation: "sg-pdpc", Reference: "PDPC-1"})
	}, 40*time.Hour)
	env.ExecuteWorkflow(IncidentWorkflowName, input())
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())

	require.ErrorContains(t, unapproved.rejected, "legal must approve it before it is filed")
	require.ErrorContains(t, early.rejected, "sg-individuals is met by telling people", "the duty to tell people is never filed by hand")
	require.ErrorContains(t, lateNoReason.rejected, "the law asks for the reasons for the delay")
	require.NoError(t, late.rejected)
	require.ErrorContains(t, viewer.rejected, "forbidden")
	require.NoError(t, filed.rejected)

	p := query()
	require.Equal(t, StageClosed, p.Status)
	require.Equal(t, "scope confirmed only at 09:30", p.Filings["eu-authority"].LateReason)
	require.Equal(t, "responder@example.com", p.Filings["sg-pdpc"].By)
	require.Equal(t, FilingSubmitted, p.Filings["sg-individuals"].Status, "met by the campaign")
	require.Equal(t, "tocsin", p.Filings["sg-individuals"].By)
	require.Equal(t, FilingPending, p.Filings["hk-pcpd"].Status, "voluntary: does not hold the incident open")
	require.Contains(t, posts, ":alarm_clock: <@U-LEGAL> eu-authority: regulator to EU is due in 1h0m0s (2026-11-20 10:00 UTC).")
	found := false
	for _, s := range posts {
		if s == ":rotating_light: <!here> OVERDUE: regulator to EU was due at 2026-11-20 10:00 UTC. <@U-LEGAL> file it now and record the reasons for the delay." {
			found = true
		}
	}
	require.True(t, found, "overdue escalation posted: %q", posts)
}

// Legal waives a duty that does not apply, with the reason: it stops
// reminding, no longer holds notice or the incident's close, and shows as
// waived. Nobody else may waive, a waiver needs a reason, and a filed duty
// is not waived afterwards.
func TestLegalWaivesADutyWithAReason(t *testing.T) {
	detected := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	obligations := []playbooks.Obligation{
		{Name: "sg-pdpc", Jurisdiction: "SG", Audience: "regulator", AnchorAt: detected, DueAt: detected.Add(72 * time.Hour)},
		{Name: "sg-individuals", Jurisdiction: "SG", Audience: "individuals", After: "sg-pdpc", AnchorAt: detected},
		{Name: "eu-authority", Jurisdiction: "EU", Audience: "regulator", AnchorAt: detected, DueAt: detected.Add(72 * time.Hour)},
	}
	var posts []string
	env := setup(t, 0, overrides{
		assess: &activities.AssessResult{Obligations: obligations, Ladder: [][]string{{"email"}}, ReceiptTimeout: time.Minute,
			Reminders: map[string][]time.Time{"sg-pdpc": {detected.Add(36 * time.Hour)}}},
		post: func(_ context.Context, in activities.PostInput) error {
			posts = append(posts, in.Text)
			return nil
		},
	})
	env.SetStartTime(detected)
	legal := Actor{Identity: "legal@example.com", Role: "legal"}
	responder := Actor{Identity: "responder@example.com", Role: "responder"}
	reason := "the data was encrypted and the key was not taken (PDPA s26D(5))"
	var byResponder, noReason, waived, twice, filedFirst, waiveFiled *updateResult
	env.RegisterDelayedCallback(func() {
		update(env, UpdateApprove, ApproveInput{Actor: legal, Draft: "notice-en"})
		byResponder = update(env, UpdateWaive, WaiveInput{Actor: responder, Obligation: "sg-pdpc", Reason: reason})
		noReason = update(env, UpdateWaive, WaiveInput{Actor: legal, Obligation: "sg-pdpc", Reason: "  "})
		filedFirst = update(env, UpdateSubmit, SubmitInput{Actor: legal, Obligation: "eu-authority", Reference: "DPC-1"})
		waiveFiled = update(env, UpdateWaive, WaiveInput{Actor: legal, Obligation: "eu-authority", Reason: reason})
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		waived = update(env, UpdateWaive, WaiveInput{Actor: legal, Obligation: "sg-pdpc", Reason: reason})
		twice = update(env, UpdateWaive, WaiveInput{Actor: legal, Obligation: "sg-pdpc", Reason: reason})
	}, 2*time.Hour)
	env.ExecuteWorkflow(IncidentWorkflowName, input())
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())

	require.ErrorContains(t, byResponder.rejected, "only legal may waive")
	require.ErrorContains(t, noReason.rejected, "needs the reason")
	require.NoError(t, filedFirst.rejected)
	require.ErrorContains(t, waiveFiled.rejected, "already filed")
	require.NoError(t, waived.rejected)
	require.ErrorContains(t, twice.rejected, "was waived by legal@example.com")

	p := progressOf(t, env)
	require.Equal(t, StageClosed, p.Status, "a waived duty holds neither notice nor the close")
	f := p.Filings["sg-pdpc"]
	require.Equal(t, FilingWaived, f.Status)
	require.Equal(t, "legal@example.com", f.By)
	require.Equal(t, reason, f.WaivedBecause)
	require.Equal(t, detected.Add(2*time.Hour), f.At.UTC())
	require.Zero(t, f.Reminders, "no reminder after the waiver")
	require.Equal(t, FilingSubmitted, p.Filings["sg-individuals"].Status, "notice went ahead once the PDPC duty was waived")
	require.Contains(t, posts, ":no_entry_sign: regulator to SG waived by legal@example.com: "+reason+".")
	found := false
	for _, e := range p.Timeline {
		found = found || e.Text == "sg-pdpc waived by legal@example.com: "+reason
	}
	require.True(t, found, "the waiver is on the timeline")
}

// Waiving the duty to tell a jurisdiction's people before notice begins
// withholds notice from its residents alone (and notice no longer waits for
// the filing that duty waited on); once notice has begun, the duty to tell
// people cannot be waived.
func TestWaivingADutyToTellPeopleWithholdsNoticeFromItsResidents(t *testing.T) {
	detected := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	obligations := []playbooks.Obligation{
		{Name: "sg-pdpc", Jurisdiction: "SG", Audience: "regulator", AnchorAt: detected, DueAt: detected.Add(72 * time.Hour)},
		{Name: "sg-individuals", Jurisdiction: "SG", Audience: "individuals", After: "sg-pdpc", AnchorAt: detected},
		{Name: "eu-individuals", Jurisdiction: "EU", Audience: "individuals", AnchorAt: detected},
	}
	var withheld []activities.WithholdInput
	var posts []string
	env := setup(t, 0, overrides{
		assess: &activities.AssessResult{Obligations: obligations, Ladder: [][]string{{"email"}}, ReceiptTimeout: time.Minute},
		scope:  &plandata.ScopeSummary{Subjects: 6, Regions: map[string]plandata.RegionFacts{"SG": {Subjects: 2}, "DE": {Subjects: 1}, "CN": {Subjects: 3}}},
		withhold: func(_ context.Context, in activities.WithholdInput) (activities.WithholdResult, error) {
			withheld = append(withheld, in)
			return activities.WithholdResult{Subjects: 2}, nil
		},
		reach: &activities.ReachResult{Reach: plandata.Reach{Reached: 3, Unreached: 1, Withheld: 2, ByChannel: map[string]int{"email": 3}},
			ByJurisdiction: map[string]plandata.RegionReach{"SG": {Withheld: 2}, "EU": {Reached: 1}, "CN": {Reached: 2, Unreached: 1}}},
		post: func(_ context.Context, in activities.PostInput) error {
			posts = append(posts, in.Text)
			return nil
		},
	})
	env.SetStartTime(detected)
	legal := Actor{Identity: "legal@example.com", Role: "legal"}
	reason := "the data was encrypted and the key was not taken (PDPA s26D(5))"
	var before, noReason, late *updateResult
	env.RegisterDelayedCallback(func() {
		noReason = update(env, UpdateWaive, WaiveInput{Actor: legal, Obligation: "sg-individuals"})
		before = update(env, UpdateWaive, WaiveInput{Actor: legal, Obligation: "sg-individuals", Reason: reason})
		update(env, UpdateApprove, ApproveInput{Actor: legal, Draft: "notice-en"})
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		// Notice is done but for the announcement for the one unreached.
		late = update(env, UpdateWaive, WaiveInput{Actor: legal, Obligation: "eu-individuals", Reason: reason})
		update(env, UpdateApprove, ApproveInput{Actor: legal, Draft: "announcement"})
		update(env, UpdateSubmit, SubmitInput{Actor: legal, Obligation: "sg-pdpc", Reference: "PDPC-1"})
	}, 2*time.Hour)
	env.ExecuteWorkflow(IncidentWorkflowName, input())
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())

	require.ErrorContains(t, noReason.rejected, "needs the reason")
	require.NoError(t, before.rejected)
	require.ErrorContains(t, late.rejected, "individual notice has begun")
	require.Equal(t, []activities.WithholdInput{{IncidentID: "INC-1", Regions: []string{"SG"}}}, withheld, "Singapore's residents only, once")

	p := progressOf(t, env)
	require.Equal(t, StageClosed, p.Status)
	require.Equal(t, FilingWaived, p.Filings["sg-individuals"].Status, "the campaign does not mark a waived duty met")
	require.Equal(t, FilingSubmitted, p.Filings["eu-individuals"].Status)
	require.Equal(t, "individual notice: 1 reached, 0 by public announcement", p.Filings["eu-individuals"].Reference)
	require.True(t, p.Announcement.Published, "for the one person not reached")
	require.Equal(t, 2, p.Reach.Withheld)
	require.Equal(t, 1, p.Reach.Unreached, "the withheld are not unreached: no announcement is owed them")
	var notified, withheldAt time.Time
	for _, e := range p.Timeline {
		switch e.Text {
		case "notifying affected people":
			notified = e.At
		case "individual notice withheld from 2 people in SG: sg-individuals waived":
			withheldAt = e.At
		}
	}
	require.False(t, withheldAt.IsZero(), "the withholding is on the timeline")
	require.True(t, notified.Before(detected.Add(2*time.Hour)), "notice did not wait for the PDPC filing the waived duty waited on")
	require.Contains(t, posts, ":no_bell: Individual notice withheld from 2 people in SG: sg-individuals waived.")
}

// Notice waiting on a filing for the duty to tell people goes ahead once
// that duty is waived, without the filing.
func TestWaivingTheDutyNoticeWaitedForReleasesIt(t *testing.T) {
	detected := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	obligations := []playbooks.Obligation{
		{Name: "sg-pdpc", Jurisdiction: "SG", Audience: "regulator", AnchorAt: detected, DueAt: detected.Add(72 * time.Hour)},
		{Name: "sg-individuals", Jurisdiction: "SG", Audience: "individuals", After: "sg-pdpc", AnchorAt: detected},
	}
	env := setup(t, 0, overrides{
		assess: &activities.AssessResult{Obligations: obligations, Ladder: [][]string{{"email"}}, ReceiptTimeout: time.Minute},
		scope:  &plandata.ScopeSummary{Subjects: 2, Regions: map[string]plandata.RegionFacts{"SG": {Subjects: 2}}},
	})
	env.SetStartTime(detected)
	legal := Actor{Identity: "legal@example.com", Role: "legal"}
	var waiting incident.Stage
	env.RegisterDelayedCallback(func() { update(env, UpdateApprove, ApproveInput{Actor: legal, Draft: "notice-en"}) }, time.Minute)
	env.RegisterDelayedCallback(func() {
		p := progressOf(t, env)
		waiting = p.Status
		update(env, UpdateWaive, WaiveInput{Actor: legal, Obligation: "sg-individuals", Reason: "encrypted, key not taken"})
	}, 30*time.Minute)
	env.RegisterDelayedCallback(func() {
		update(env, UpdateSubmit, SubmitInput{Actor: legal, Obligation: "sg-pdpc", Reference: "PDPC-1"})
	}, 2*time.Hour)
	env.ExecuteWorkflow(IncidentWorkflowName, input())
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, StageAwaitFiling, waiting, "notice waited for the PDPC")
	p := progressOf(t, env)
	for _, e := range p.Timeline {
		if e.Text == "notifying affected people" {
			require.Equal(t, detected.Add(30*time.Minute), e.At.UTC(), "notice went ahead at the waiver, not at the filing")
			return
		}
	}
	require.Fail(t, "notice never began")
}

// A regulator duty legal waived has a report nobody will file: notice does
// not wait for legal to approve it. The drafts are the real ones (reports
// and notices rendered into a store), not a mock that leaves the report out.
func TestWaivingARegulatorDutyReleasesNoticeFromItsReport(t *testing.T) {
	detected := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	obligations := []playbooks.Obligation{
		{Name: "eu-authority", Jurisdiction: "EU", Audience: "regulator", Regulator: "the lead supervisory authority", AnchorAt: detected, DueAt: detected.Add(72 * time.Hour)},
	}
	st, err := store.Open(filepath.Join(t.TempDir(), "t.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	real := &activities.Activities{Store: st}
	var rendered []string
	env := setup(t, 0, overrides{
		assess: &activities.AssessResult{Obligations: obligations, Ladder: [][]string{{"email"}}, ReceiptTimeout: time.Minute, DefaultLocale: "en"},
		scope:  &plandata.ScopeSummary{Subjects: 2, Regions: map[string]plandata.RegionFacts{"DE": {Subjects: 2}}},
		drafts: func(ctx context.Context, in activities.DraftInput) (activities.DraftResult, error) {
			res, err := real.RenderDrafts(ctx, in)
			for _, d := range res.Drafts {
				rendered = append(rendered, d.Name)
			}
			return res, err
		},
	})
	env.SetStartTime(detected)
	legal := Actor{Identity: "legal@example.com", Role: "legal"}
	var waitingForReport incident.Stage
	env.RegisterDelayedCallback(func() {
		for _, d := range progressOf(t, env).Drafts {
			if d.Kind == activities.KindNotice {
				update(env, UpdateApprove, ApproveInput{Actor: legal, Draft: d.Name, Revision: d.Revision})
			}
		}
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		waitingForReport = progressOf(t, env).Status
		update(env, UpdateWaive, WaiveInput{Actor: legal, Obligation: "eu-authority", Reason: "no risk to the people: the data was encrypted"})
	}, time.Hour)
	env.RegisterDelayedCallback(func() { env.CancelWorkflow() }, 24*time.Hour)
	env.ExecuteWorkflow(IncidentWorkflowName, input())
	require.Contains(t, rendered, activities.ReportDraftName("eu-authority"), "the real drafts include the authority's report")
	require.Equal(t, StageAwaitApproval, waitingForReport, "before the waiver, notice waits for the report")
	p := progressOf(t, env)
	require.Equal(t, StageClosed, p.Status, "notice went ahead and the incident closed without the waived duty's report")
	for _, d := range p.Drafts {
		if d.Name == activities.ReportDraftName("eu-authority") {
			require.Equal(t, DraftPending, d.Status, "the report was never approved")
		}
	}
}

// Whoever opened the incident does not waive its duties, and nobody files
// a duty to tell people by hand: the campaign records it with its figures.
func TestTheOpenerCannotWaiveAndNobodyFilesNoticeByHand(t *testing.T) {
	detected := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	obligations := []playbooks.Obligation{
		{Name: "eu-authority", Jurisdiction: "EU", Audience: "regulator", AnchorAt: detected, DueAt: detected.Add(72 * time.Hour)},
		{Name: "eu-individuals", Jurisdiction: "EU", Audience: "individuals", AnchorAt: detected},
	}
	env := setup(t, 0, overrides{assess: &activities.AssessResult{Obligations: obligations, Ladder: [][]string{{"email"}}, ReceiptTimeout: time.Minute}})
	env.SetStartTime(detected)
	var openerWaives, handFiled, legalHandFiled *updateResult
	env.RegisterDelayedCallback(func() {
		// The opener holds the legal role too: still not theirs to waive.
		openerWaives = update(env, UpdateWaive, WaiveInput{Actor: Actor{Identity: "Responder@example.com", Role: "legal"}, Obligation: "eu-authority", Reason: "not needed"})
		handFiled = update(env, UpdateSubmit, SubmitInput{Actor: Actor{Identity: "other@example.com", Role: "responder"}, Obligation: "eu-individuals", Reference: "we told them"})
		legalHandFiled = update(env, UpdateSubmit, SubmitInput{Actor: Actor{Identity: "legal@example.com", Role: "legal"}, Obligation: "eu-individuals", Reference: "done"})
	}, time.Minute)
	env.RegisterDelayedCallback(func() { env.CancelWorkflow() }, time.Hour)
	env.ExecuteWorkflow(IncidentWorkflowName, input())
	require.ErrorContains(t, openerWaives.rejected, "opened this incident and cannot waive")
	for _, u := range []*updateResult{handFiled, legalHandFiled} {
		require.ErrorContains(t, u.rejected, "eu-individuals is met by telling people")
	}
	p := progressOf(t, env)
	require.False(t, p.Filings["eu-authority"].Met(), "not waived")
	require.False(t, p.Filings["eu-individuals"].Met(), "not filed by hand")
}

// A law-enforcement delay moves the duties whose law allows one: their
// reminder and overdue alert follow the new due time, the delay is on
// the filing's record, and a duty whose law allows none cannot be moved.
func TestALawEnforcementDelayMovesTheDueTimeItsLawAllows(t *testing.T) {
	detected := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	until := detected.Add(48 * time.Hour)
	obligations := []playbooks.Obligation{
		{Name: "us-ca-individuals", Jurisdiction: "US-CA", Audience: "individuals", AnchorAt: detected, DueAt: detected.Add(10 * time.Hour), LawEnforcementDelay: "Cal. Civ. Code 1798.82(c)"},
		{Name: "sg-individuals", Jurisdiction: "SG", Audience: "individuals", AnchorAt: detected, DueAt: detected.Add(10 * time.Hour)},
	}
	var posts []string
	env := setup(t, 0, overrides{
		assess: &activities.AssessResult{Obligations: obligations, Ladder: [][]string{{"email"}}, ReceiptTimeout: time.Minute,
			Reminders: map[string][]time.Time{"us-ca-individuals": {detected.Add(5 * time.Hour)}}},
		post: func(_ context.Context, in activities.PostInput) error {
			posts = append(posts, in.Text)
			return nil
		},
	})
	env.SetStartTime(detected)
	legal := Actor{Identity: "legal@example.com", Role: "legal"}
	query := func() Progress { return progressOf(t, env) }
	var held, noLaw, responder *updateResult
	env.RegisterDelayedCallback(func() {
		responder = update(env, UpdateDelay, DelayInput{Actor: Actor{Identity: "r@example.com", Role: "responder"}, Duties: []string{"us-ca-individuals"}, Until: until, RequestedBy: "FBI SA Doe"})
		noLaw = update(env, UpdateDelay, DelayInput{Actor: legal, Duties: []string{"sg-individuals"}, Until: until, RequestedBy: "FBI SA Doe"})
		held = update(env, UpdateDelay, DelayInput{Actor: legal, Duties: []string{"us-ca-individuals"}, Until: until, RequestedBy: "FBI SA Doe"})
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		p := query()
		require.NoError(t, held.rejected)
		require.Equal(t, FilingOverdue, p.Filings["sg-individuals"].Status, "no law moved it")
		require.Equal(t, FilingPending, p.Filings["us-ca-individuals"].Status, "held: not due yet")
		require.Equal(t, 0, p.Filings["us-ca-individuals"].Reminders, "its reminder moved with it")
		require.Equal(t, until, p.Filings["us-ca-individuals"].DelayedUntil)
		require.Equal(t, "FBI SA Doe", p.Filings["us-ca-individuals"].DelayRequestedBy)
		for _, o := range p.Obligations {
			if o.Name == "us-ca-individuals" {
				require.Equal(t, until, o.DueAt)
			}
		}
	}, 11*time.Hour)
	env.RegisterDelayedCallback(func() {
		p := query()
		require.Equal(t, 1, p.Filings["us-ca-individuals"].Reminders)
		require.Equal(t, FilingOverdue, p.Filings["us-ca-individuals"].Status, "due when the delay ends")
		update(env, UpdateApprove, ApproveInput{Actor: legal, Draft: "notice-en"})
	}, 49*time.Hour)
	env.ExecuteWorkflow(IncidentWorkflowName, input())
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	require.ErrorContains(t, responder.rejected, "forbidden")
	require.ErrorContains(t, noLaw.rejected, "sg-individuals: its law lets no law-enforcement request delay it")
	require.NoError(t, held.rejected)
	require.Contains(t, posts, ":alarm_clock: us-ca-individuals: individuals to US-CA is due in 5h0m0s (2026-11-22 08:00 UTC).")
}
