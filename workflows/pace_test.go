package workflows

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/tocsin/tocsin/activities"
	"github.com/tocsin/tocsin/internal/plandata"
	"github.com/tocsin/tocsin/playbooks"
)

// As a campaign starts, the war room hears of each duty to tell people it
// would miss at the configured rates, with the rate that meets it; the
// projection is asked about the unmet duties with a due time and the
// ladder's first rung.
func TestACampaignThatWouldMissADutyWarnsTheWarRoom(t *testing.T) {
	var mu sync.Mutex
	var posts []string
	var asked activities.PaceInput
	due := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	late := "at 4 sms/s the people still waiting are told 18h 17m after kr-individuals (KR) is due at 2026-11-23 08:00 UTC; 5.02 sms/s meets it"
	env := setup(t, 0, overrides{
		assess: &activities.AssessResult{Ladder: [][]string{{"onsite", "email"}, {"sms"}}, ReceiptTimeout: time.Minute, Obligations: []playbooks.Obligation{
			{Name: "kr-individuals", Jurisdiction: "KR", Audience: "individuals", DueAt: due},
			{Name: "kr-pipc", Jurisdiction: "KR", Audience: "regulator", DueAt: due},
		}},
		pace: func(_ context.Context, in activities.PaceInput) (activities.PaceResult, error) {
			mu.Lock()
			defer mu.Unlock()
			asked = in
			return activities.PaceResult{Late: []string{late}}, nil
		},
		post: func(_ context.Context, in activities.PostInput) error {
			mu.Lock()
			defer mu.Unlock()
			posts = append(posts, in.Text)
			return nil
		}})
	approveAllAfterAMinute(t, env)
	env.RegisterDelayedCallback(func() { env.CancelWorkflow() }, 2*time.Hour)
	env.ExecuteWorkflow(IncidentWorkflowName, input())
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []string{"onsite", "email"}, asked.Channels)
	require.Len(t, asked.Duties, 1, "duties to tell people only")
	require.Equal(t, "kr-individuals", asked.Duties[0].Name)
	require.True(t, slicesContain(posts, ":hourglass_flowing_sand: <!here> Late: "+late), "posts: %q", posts)
}

// While a campaign runs, it is projected again every paceWatchEvery at the
// rates it measures; the war room hears once of a duty the measured pace
// misses two projections running (one alone may be a pause's), and the
// watch ends with the campaign.
func TestASlowCampaignWarnsTheWarRoomAtItsMeasuredPace(t *testing.T) {
	var mu sync.Mutex
	var posts []string
	var asked []activities.PaceInput
	warnedAfter := 0 // projections asked for when the war room was warned
	due := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	late := "at the 3.5 sms/s measured lately the people still waiting are told 2h 1m after kr-individuals (KR) is due at 2026-11-23 08:00 UTC; 4.1 sms/s meets it"
	env := setup(t, 0, overrides{
		assess: &activities.AssessResult{Ladder: [][]string{{"sms"}}, ReceiptTimeout: time.Minute, Obligations: []playbooks.Obligation{
			{Name: "kr-individuals", Jurisdiction: "KR", Audience: "individuals", DueAt: due},
		}},
		sendTakes: 55 * time.Minute, // the campaign runs for 55 minutes of the workflow's clock
		pace: func(_ context.Context, in activities.PaceInput) (activities.PaceResult, error) {
			mu.Lock()
			defer mu.Unlock()
			asked = append(asked, in)
			// At the configured rate on time; measured late at 10, on
			// time at 20 (resumed from a pause), late at 30, 40 and 50.
			if !in.Measured || len(asked) == 3 {
				return activities.PaceResult{}, nil
			}
			return activities.PaceResult{Late: []string{late}, Duties: []string{"kr-individuals"}}, nil
		},
		post: func(_ context.Context, in activities.PostInput) error {
			mu.Lock()
			defer mu.Unlock()
			if strings.HasPrefix(in.Text, ":hourglass_flowing_sand: <!here> Late: "+late) {
				warnedAfter = len(asked)
			}
			posts = append(posts, in.Text)
			return nil
		}})
	approveAllAfterAMinute(t, env)
	env.RegisterDelayedCallback(func() { env.CancelWorkflow() }, 3*time.Hour)
	env.ExecuteWorkflow(IncidentWorkflowName, input())
	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, asked)
	require.False(t, asked[0].Measured, "as the campaign starts, at the configured rates")
	for _, in := range asked[1:] {
		require.True(t, in.Measured)
		require.Equal(t, []string{"sms"}, in.Channels)
	}
	require.Len(t, asked, 6, "at 10, 20, 30, 40 and 50 minutes of a 55-minute campaign, then no more")
	var warned int
	for _, p := range posts {
		if strings.HasPrefix(p, ":hourglass_flowing_sand: <!here> Late: "+late) {
			warned++
			require.Contains(t, p, "the pace the campaign keeps, not its configured rate")
		}
	}
	require.Equal(t, 1, warned, "once a duty: posts %q", posts)
	require.Equal(t, 5, warnedAfter, "warned at 40 minutes (the fifth projection, the first as it started), the second late one running, not at 10 or 30")
	var inTimeline bool
	for _, e := range progressOf(t, env).Timeline {
		inTimeline = inTimeline || e.Text == "LATE: "+late
	}
	require.True(t, inTimeline, "the incident's timeline says so too")
}

func slicesContain(posts []string, prefix string) bool {
	for _, p := range posts {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

// A drill whose campaign was projected to miss a duty hands that to its
// report, which fails it: the real campaign would be late.
func TestADrillIsGradedOnTheCampaignsPace(t *testing.T) {
	due := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	late := "at 4 sms/s the people still waiting are told 18h 17m after kr-individuals (KR) is due"
	env := setup(t, 0, overrides{
		assess: &activities.AssessResult{Ladder: [][]string{{"onsite", "email"}}, ReceiptTimeout: time.Minute, Obligations: []playbooks.Obligation{
			{Name: "kr-individuals", Jurisdiction: "KR", Audience: "individuals", DueAt: due},
		}},
		pace: func(context.Context, activities.PaceInput) (activities.PaceResult, error) {
			return activities.PaceResult{Late: []string{late}}, nil
		}})
	var a *activities.Activities
	spec := input().Spec
	spec.Drill = true
	env.OnActivity(a.PrepareDrill, mock.Anything, mock.Anything).Return(activities.DrillSetup{IncidentID: "DRILL-1", Spec: spec}, nil)
	var finished activities.FinishInput
	env.OnActivity(a.FinishDrill, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.FinishInput) (plandata.DrillReport, error) {
		finished = in
		return plandata.DrillReport{}, nil
	})
	env.ExecuteWorkflow(DrillWorkflow, DrillRequest{DrillID: "DR-1", RequestedBy: "responder@example.com", ApprovalDelay: time.Minute})
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, []string{late}, finished.Late)
}

// A campaign's partitions run 16 batches at once unless the deployment
// configures a window: a batch lasts as long as its slowest provider call,
// so on a provider's bad day the window is what bounds the rate.
func TestACampaignRunsSixteenBatchesAtOnceUnlessConfigured(t *testing.T) {
	for _, tc := range []struct{ configured, want int }{{0, 16}, {3, 3}} {
		var mu sync.Mutex
		var windows []int
		env := setup(t, 0)
		env.OnWorkflow(NotifyWorkflow, mock.Anything, mock.Anything).Return(func(_ workflow.Context, in NotifyInput) (NotifyResult, error) {
			mu.Lock()
			defer mu.Unlock()
			windows = append(windows, in.Window)
			return NotifyResult{Reached: make([]int, len(in.Ladder))}, nil
		})
		env.RegisterDelayedCallback(func() {
			for _, d := range progressOf(t, env).Drafts {
				update(env, UpdateApprove, ApproveInput{Actor: Actor{Identity: "legal@example.com", Role: "legal"}, Draft: d.Name})
			}
		}, time.Minute)
		env.RegisterDelayedCallback(func() { env.CancelWorkflow() }, 2*time.Hour)
		in := input()
		in.BatchWindow = tc.configured
		env.ExecuteWorkflow(IncidentWorkflowName, in)
		mu.Lock()
		require.Equal(t, []int{tc.want}, windows, "configured %d", tc.configured)
		mu.Unlock()
	}
}

// The people whose duty to be told falls due first are sent the first
// rung before anyone else: the Koreans (72 hours) ahead of the Britons
// (as soon as practicable, no fixed time). Only the first rung goes ahead,
// without waiting for receipts; the campaign then takes everyone down the
// ladder, the ledger keeping the Koreans' first sends from going twice.
func TestTheEarliestDueAreSentTheFirstRungFirst(t *testing.T) {
	due := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	var splits []activities.SplitInput
	var paced activities.PaceInput
	env := setup(t, 0, overrides{
		pace: func(_ context.Context, in activities.PaceInput) (activities.PaceResult, error) {
			paced = in
			return activities.PaceResult{}, nil
		},
		assess: &activities.AssessResult{Ladder: [][]string{{"onsite", "email"}, {"sms"}}, ReceiptTimeout: time.Minute, Obligations: []playbooks.Obligation{
			{Name: "kr-individuals", Jurisdiction: "KR", Audience: "individuals", DueAt: due},
			{Name: "uk-individuals", Jurisdiction: "UK", Audience: "individuals"},
		}},
		scope: &plandata.ScopeSummary{Subjects: 5, Regions: map[string]plandata.RegionFacts{"KR": {Subjects: 2}, "GB": {Subjects: 3}}},
		split: func(_ context.Context, in activities.SplitInput) (activities.SplitResult, error) {
			mu.Lock()
			defer mu.Unlock()
			splits = append(splits, in)
			if len(in.Regions) > 0 {
				return activities.SplitResult{Ranges: []plandata.Range{{Upto: "kr1"}, {After: "kr1"}}, Subjects: 2}, nil
			}
			return activities.SplitResult{Ranges: []plandata.Range{{}}, Subjects: 5}, nil
		}})
	started := approvedCampaign(t, env, func(in NotifyInput) NotifyResult {
		if in.SendOnly {
			return NotifyResult{Attempts: 2, Failed: 1, Reached: make([]int, len(in.Ladder))}
		}
		return NotifyResult{Attempts: 3, Failed: 1, Reached: []int{4, 0}}
	})
	p := progressOf(t, env)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, started, 3, "two ranges of Koreans first, then the campaign")
	for _, in := range started[:2] {
		require.True(t, in.SendOnly)
		require.Equal(t, []string{"KR"}, in.Regions)
		require.Equal(t, [][]string{{"onsite", "email"}}, in.Ladder, "the first rung only")
	}
	// The two start together: in either order.
	require.ElementsMatch(t, []plandata.Range{{Upto: "kr1"}, {After: "kr1"}}, []plandata.Range{started[0].Range, started[1].Range})
	require.False(t, started[2].SendOnly)
	require.Empty(t, started[2].Regions, "then everyone, the whole ladder")
	require.Len(t, started[2].Ladder, 2)
	require.Equal(t, []string{"KR"}, splits[1].Regions)
	require.Equal(t, []string{"KR"}, paced.AheadRegions, "the projection measures the Koreans' duty by their own finish")
	require.Equal(t, []string{"kr-individuals"}, paced.AheadDuties)
	var said []string
	for _, e := range p.Timeline {
		said = append(said, e.Text)
	}
	require.Contains(t, said, "earliest due first: the 2 people in KR, whose kr-individuals falls due at 2026-11-23 08:00 UTC, are sent the first rung before the other 3")
	require.NotNil(t, p.Campaign)
	require.Equal(t, 2+2+3, p.Campaign.Attempts, "every send counted once")
	require.Equal(t, 1, p.Campaign.Failed, "a failure ahead of the campaign is counted when the campaign meets it")
	require.Equal(t, 1, p.Campaign.Partitions, "the partitions of the campaign itself")
}

// Nobody is sent ahead when the earliest duty covers everyone affected:
// the campaign is theirs.
func TestNobodyGoesAheadWhenTheEarliestDueAreEveryone(t *testing.T) {
	due := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	env := setup(t, 0, overrides{
		assess: &activities.AssessResult{Ladder: [][]string{{"email"}}, ReceiptTimeout: time.Minute, Obligations: []playbooks.Obligation{
			{Name: "kr-individuals", Jurisdiction: "KR", Audience: "individuals", DueAt: due},
		}},
		scope: &plandata.ScopeSummary{Subjects: 3, Regions: map[string]plandata.RegionFacts{"KR": {Subjects: 3}}}})
	started := approvedCampaign(t, env, reachedNobody)
	require.Len(t, started, 1)
	require.False(t, started[0].SendOnly)
}

// The earliest due, fewer than a window of full partitions, are spread
// over the whole window: 2,000 Koreans go in four partitions of 500 at
// once, not one of 2,000.
func TestTheEarliestDueAreSpreadOverThePartitionWindow(t *testing.T) {
	due := time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	var sizes []int
	env := setup(t, 0, overrides{
		assess: &activities.AssessResult{Ladder: [][]string{{"email"}}, ReceiptTimeout: time.Minute, Obligations: []playbooks.Obligation{
			{Name: "kr-individuals", Jurisdiction: "KR", Audience: "individuals", DueAt: due},
		}},
		scope: &plandata.ScopeSummary{Subjects: 5000, Regions: map[string]plandata.RegionFacts{"KR": {Subjects: 2000}, "GB": {Subjects: 3000}}},
		split: func(_ context.Context, in activities.SplitInput) (activities.SplitResult, error) {
			mu.Lock()
			defer mu.Unlock()
			if len(in.Regions) == 0 {
				return activities.SplitResult{Ranges: []plandata.Range{{}}, Subjects: 5000}, nil
			}
			sizes = append(sizes, in.Size)
			n := (2000 + in.Size - 1) / in.Size
			return activities.SplitResult{Ranges: batchRanges(n), Subjects: 2000}, nil
		}})
	started := approvedCampaign(t, env, reachedNobody)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []int{DefaultPartitionSize, 500}, sizes, "split again, a quarter each")
	require.Len(t, started, 5, "four partitions of Koreans, then the campaign")
	for _, in := range started[:4] {
		require.True(t, in.SendOnly)
	}
}

// approvedCampaign approves every draft a minute in, runs the incident
// for two hours with each partition answered by result, and returns the
// partitions' inputs in the order they started.
func approvedCampaign(t *testing.T, env *testsuite.TestWorkflowEnvironment, result func(NotifyInput) NotifyResult) []NotifyInput {
	t.Helper()
	var mu sync.Mutex
	var started []NotifyInput
	env.OnWorkflow(NotifyWorkflow, mock.Anything, mock.Anything).Return(func(_ workflow.Context, in NotifyInput) (NotifyResult, error) {
		mu.Lock()
		defer mu.Unlock()
		started = append(started, in)
		return result(in), nil
	})
	approveAllAfterAMinute(t, env)
	env.RegisterDelayedCallback(func() { env.CancelWorkflow() }, 2*time.Hour)
	env.ExecuteWorkflow(IncidentWorkflowName, input())
	mu.Lock()
	defer mu.Unlock()
	return started
}

// approveAllAfterAMinute has legal approve every draft a minute in.
func approveAllAfterAMinute(t *testing.T, env *testsuite.TestWorkflowEnvironment) {
	t.Helper()
	env.RegisterDelayedCallback(func() {
		for _, d := range progressOf(t, env).Drafts {
			update(env, UpdateApprove, ApproveInput{Actor: Actor{Identity: "legal@example.com", Role: "legal"}, Draft: d.Name})
		}
	}, time.Minute)
}

// reachedNobody answers a partition: sent, nobody resolved.
func reachedNobody(in NotifyInput) NotifyResult {
	return NotifyResult{Reached: make([]int, len(in.Ladder))}
}

// A partition that has sent its first rung gives its place in the window
// to the next: what is left of it (settling, receipts, the few its first
// rung did not reach) is mostly waiting, and the sending goes on beside
// it. At most four partitions a slot are in flight. With a window of one
// and six partitions that each take half an hour after their first rung,
// four start at once and the fifth and sixth when the first ends.
func TestAPartitionThatSentItsFirstRungGivesItsPlaceToTheNext(t *testing.T) {
	env := setup(t, 0, overrides{split: func(_ context.Context, in activities.SplitInput) (activities.SplitResult, error) {
		return activities.SplitResult{Ranges: batchRanges(6), Subjects: 6000}, nil
	}})
	var mu sync.Mutex
	var started []time.Time
	env.OnWorkflow(NotifyWorkflow, mock.Anything, mock.Anything).Return(func(ctx workflow.Context, in NotifyInput) (NotifyResult, error) {
		mu.Lock()
		started = append(started, workflow.Now(ctx))
		mu.Unlock()
		firstRungSent(ctx)
		if err := workflow.Sleep(ctx, 30*time.Minute); err != nil {
			return NotifyResult{}, err
		}
		return reachedNobody(in), nil
	})
	approveAllAfterAMinute(t, env)
	env.RegisterDelayedCallback(func() { env.CancelWorkflow() }, 4*time.Hour)
	in := input()
	in.PartitionWindow = 1
	env.ExecuteWorkflow(IncidentWorkflowName, in)
	mu.Lock()
	defer mu.Unlock()
	require.Len(t, started, 6)
	for i, at := range started[1:4] {
		require.Less(t, at.Sub(started[0]), time.Minute, "partition %d starts once the one before it sent its first rung", i+2)
	}
	for i, at := range started[4:] {
		require.GreaterOrEqual(t, at.Sub(started[0]), 30*time.Minute, "partition %d waits: four are in flight", i+5)
	}
}
