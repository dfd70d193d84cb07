package workflows

import (
	"github.com/tocsin/tocsin/internal/plandata"

	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"github.com/tocsin/tocsin/activities"
)

// batchRanges are n consecutive ranges with upper bounds "aa", "ab", ...
func batchRanges(n int) []plandata.Range {
	out := make([]plandata.Range, n)
	after := ""
	for i := range out {
		upto := string(rune('a'+i/26)) + string(rune('a'+i%26))
		out[i] = plandata.Range{After: after, Upto: upto}
		after = upto
	}
	out[n-1].Upto = ""
	return out
}

// batchRecorder is what a partition's mocked activities saw.
type batchRecorder struct {
	mu             sync.Mutex
	sent           map[string]int // "rung/upto"
	inflight, peak int
	order          []string
	// waitedOn: batches told to wait for every call (no settling step).
	waitedOn int
	settled  []plandata.Range
	// settledRungs: the rung of each settling step, in order.
	settledRungs []int
	// ahead: batches of a rung sent while the one before it settled;
	// aheadWhileSettling: rung 1's settling step saw one while it ran.
	ahead              map[string]int
	aheadSplits        []activities.SplitInput
	aheadWhileSettling bool
}

func (r *batchRecorder) env(s *testsuite.WorkflowTestSuite, all []plandata.Range) *testsuite.TestWorkflowEnvironment {
	env := s.NewTestWorkflowEnvironment()
	var a *activities.Activities
	env.RegisterActivity(a)
	env.RegisterWorkflow(NotifyWorkflow)
	env.OnActivity(a.SplitRange, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.SplitInput) (activities.SplitResult, error) {
		var out []plandata.Range
		for _, r := range all {
			if r.Upto == "" || r.Upto > in.Range.After {
				out = append(out, r)
			}
		}
		if len(out) > 0 {
			out[0].After = in.Range.After
		}
		if in.MovedOn > 0 {
			r.mu.Lock()
			r.aheadSplits = append(r.aheadSplits, in)
			r.mu.Unlock()
		}
		return activities.SplitResult{Ranges: out}, nil
	})
	env.OnActivity(a.SendBatch, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.BatchInput) (activities.BatchResult, error) {
		r.mu.Lock()
		r.inflight++
		r.peak = max(r.peak, r.inflight)
		key := string(rune('0'+in.Rung)) + "/" + in.Range.Upto
		switch {
		case in.WhileSettling > 0:
			r.ahead[key+" while "+string(rune('0'+in.WhileSettling))+" settles"]++
			r.order = append(r.order, "ahead")
		default:
			r.sent[key]++
			r.order = append(r.order, "send")
		}
		if !in.SettleLater {
			r.waitedOn++
		}
		r.mu.Unlock()
		time.Sleep(time.Millisecond)
		r.mu.Lock()
		r.inflight--
		r.mu.Unlock()
		return activities.BatchResult{Attempts: 2, Failed: 1}, nil
	})
	env.OnActivity(a.AwaitReceipts, mock.Anything, mock.Anything).Return(activities.ReceiptsResult{}, nil)
	env.OnActivity(a.SettleRung, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.BatchInput) (activities.BatchResult, error) {
		r.mu.Lock()
		r.order = append(r.order, "settle")
		r.settled = append(r.settled, in.Range)
		r.settledRungs = append(r.settledRungs, in.Rung)
		r.mu.Unlock()
		if in.Rung == 1 {
			// A long settling step: the next rung's pass ahead of it, if
			// any, has time to start.
			for deadline := time.Now().Add(2 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
				r.mu.Lock()
				seen := len(r.ahead) > 0
				r.aheadWhileSettling = r.aheadWhileSettling || seen
				r.mu.Unlock()
				if seen {
					break
				}
			}
		}
		return activities.BatchResult{Recovered: 1}, nil
	})
	env.OnActivity(a.ResolveRung, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.ResolveInput) (activities.ResolveResult, error) {
		r.mu.Lock()
		r.order = append(r.order, "resolve")
		r.mu.Unlock()
		return activities.ResolveResult{Reached: 7 * in.Rung}, nil
	})
	return env
}

// runToEnd runs a partition through every run it continues as new into:
// the test environment ends such a run with that error, and the next run
// starts from its input, as the server would.
func (r *batchRecorder) runToEnd(t *testing.T, s *testsuite.WorkflowTestSuite, all []plandata.Range, in NotifyInput) NotifyResult {
	t.Helper()
	env := r.env(s, all)
	env.ExecuteWorkflow(NotifyWorkflow, in)
	for runs := 1; env.GetWorkflowError() != nil; runs++ {
		var can *workflow.ContinueAsNewError
		require.ErrorAs(t, env.GetWorkflowError(), &can, "run %d", runs)
		var next NotifyInput
		require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(can.Input, &next))
		require.Less(t, runs, 10, "a partition must finish")
		env = r.env(s, all)
		env.ExecuteWorkflow(NotifyWorkflow, next)
	}
	var res NotifyResult
	require.NoError(t, env.GetWorkflowResult(&res))
	return res
}

// TestNotifyWorkflowKeepsAWindowAndContinuesAsNew runs a partition of 10
// batches with a window of 3 and a run limit of 4 batches: every batch is sent
// exactly once across the runs, never more than 3 at a time, and the ladder
// moves on only after the rung is resolved. (Its second rung calls, so no
// pass goes ahead of the first's resolution: the next test's subject.)
func TestNotifyWorkflowKeepsAWindowAndContinuesAsNew(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	all := batchRanges(10)
	rec := &batchRecorder{sent: map[string]int{}, ahead: map[string]int{}}
	in := NotifyInput{IncidentID: "INC-1", Ladder: [][]string{{"email"}, {"voice"}}, BatchSize: 25, Window: 3, MaxBatchesPerRun: 4, ReceiptTimeout: time.Minute}
	res := rec.runToEnd(t, &s, all, in)
	require.Len(t, rec.sent, 20, "10 batches on each of 2 rungs")
	for k, n := range rec.sent {
		require.Equal(t, 1, n, "batch %s sent %d times", k, n)
	}
	require.LessOrEqual(t, rec.peak, 3, "the window bounds batches in flight")
	require.Greater(t, rec.peak, 1, "batches run side by side")
	require.Equal(t, 40, res.Attempts, "totals survive continue-as-new")
	require.Equal(t, []int{7, 14}, res.Reached)
	require.Equal(t, 5, res.Runs, "20 batches at 4 a run")
	require.Equal(t, []string{"settle", "resolve"}, rec.order[10:12], "rung 1 is settled and resolved after its 10 batches and before rung 2 starts")
	require.Zero(t, rec.waitedOn, "every batch goes on past calls that hang: the settling step finishes them")
	require.Equal(t, []plandata.Range{in.Range, in.Range}, rec.settled, "each rung settled once, over the whole partition")
	require.Equal(t, 2, res.Recovered, "what the settling steps recovered is counted")
}

// While a rung settles, the next goes ahead to the people it can no
// longer reach; after its resolution the next rung's own pass goes to
// everyone left (the ledger skips those sent ahead). Not into a rung that
// calls: a call is resolved only by its rung's own steps. A run that must
// continue as new in the middle of a pass ahead ends that pass there, and
// every batch of every rung's own pass is still sent exactly once.
func TestTheNextRungGoesAheadWhileARungSettles(t *testing.T) {
	for _, limit := range []int{0, 6} {
		var s testsuite.WorkflowTestSuite
		all := batchRanges(4)
		rec := &batchRecorder{sent: map[string]int{}, ahead: map[string]int{}}
		in := NotifyInput{IncidentID: "INC-1", Ladder: [][]string{{"onsite", "email"}, {"sms"}, {"voice"}}, BatchSize: 25, Window: 2, MaxBatchesPerRun: limit, ReceiptTimeout: time.Minute}
		res := rec.runToEnd(t, &s, all, in)
		require.Len(t, rec.sent, 12, "4 batches on each of 3 rungs, limit %d", limit)
		for k, n := range rec.sent {
			require.Equal(t, 1, n, "batch %s sent %d times, limit %d", k, n, limit)
		}
		require.True(t, rec.aheadWhileSettling, "rung 2 went ahead while rung 1 settled, limit %d", limit)
		aheadCalls := 0
		for k, n := range rec.ahead {
			require.Equal(t, 1, n, "batch %s sent ahead %d times", k, n)
			require.Contains(t, k, " while 1 settles", "only the texts go ahead: not the calls after them")
			aheadCalls += n
		}
		require.NotEmpty(t, rec.aheadSplits)
		for _, sp := range rec.aheadSplits {
			require.Equal(t, 1, sp.MovedOn, "the pass ahead counts only those rung 1 can no longer reach")
		}
		count := func(order []string, what string) int {
			return len(slices.DeleteFunc(slices.Clone(order), func(o string) bool { return o != what }))
		}
		first := slices.Index(rec.order, "resolve")
		require.Equal(t, 4, count(rec.order[:first], "send"), "rung 1's own batches, then rung 1 settles: %v", rec.order)
		require.Equal(t, aheadCalls, count(rec.order[:first], "ahead"), "rung 2 goes ahead before rung 1 resolves: %v", rec.order)
		require.Equal(t, 2, count(rec.order[:first], "settle"), "what went ahead is settled beside rung 1, before it resolves: %v", rec.order)
		require.Equal(t, []int{1, 2}, rec.settledRungs[:2])
		firstSettle := slices.Index(rec.order, "settle")
		secondSettle := firstSettle + 1 + slices.Index(rec.order[firstSettle+1:], "settle")
		require.Equal(t, aheadCalls, count(rec.order[:secondSettle], "ahead"), "rung 2's settling ahead follows its pass ahead: %v", rec.order)
		require.Equal(t, 2*(12+aheadCalls), res.Attempts, "the sends made ahead are counted")
		require.Equal(t, 12, res.Failed, "a failure met again by the rung's own pass is counted once")
		if limit == 0 {
			require.Equal(t, 4, aheadCalls, "the whole pass went ahead")
		} else {
			require.Equal(t, 2, aheadCalls, "the pass ahead ended where the run had to continue as new")
		}
	}
}

// nightPartition is one partition started at 22:00 UTC, in one range,
// whose rung reaches four people; its batches and receipts are the test's.
func nightPartition() (*testsuite.TestWorkflowEnvironment, *activities.Activities, time.Time) {
	env, a, start := partitionAtNight()
	env.OnActivity(a.SplitRange, mock.Anything, mock.Anything).Return(activities.SplitResult{Ranges: []plandata.Range{{}}}, nil)
	env.OnActivity(a.SettleRung, mock.Anything, mock.Anything).Return(activities.BatchResult{}, nil)
	env.OnActivity(a.ResolveRung, mock.Anything, mock.Anything).Return(activities.ResolveResult{Reached: 4}, nil)
	return env, a, start
}

// partitionAtNight is a partition's test environment at 22:00 UTC, its
// activities not yet answered.
func partitionAtNight() (*testsuite.TestWorkflowEnvironment, *activities.Activities, time.Time) {
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	var a *activities.Activities
	env.RegisterActivity(a)
	env.RegisterWorkflow(NotifyWorkflow)
	start := time.Date(2026, 11, 23, 22, 0, 0, 0, time.UTC)
	env.SetStartTime(start)
	return env, a, start
}

// callingPartition texts and then calls, in one rung.
var callingPartition = NotifyInput{IncidentID: "INC-1", Ladder: [][]string{{"sms", "voice"}}, BatchSize: 10, Window: 2, ReceiptTimeout: time.Minute}

// TestNotifyWorkflowHoldsCallsUntilMorning: a batch that defers calls for
// quiet hours makes the partition sleep until ResumeAt, then place them, and
// only then wait for receipts.
func TestNotifyWorkflowHoldsCallsUntilMorning(t *testing.T) {
	env, a, start := nightPartition()
	morning := start.Add(10 * time.Hour)
	var calls []time.Time
	var channels [][]string
	env.OnActivity(a.SendBatch, mock.Anything, mock.Anything).Return(func(ctx context.Context, in activities.BatchInput) (activities.BatchResult, error) {
		now := env.Now()
		calls = append(calls, now)
		channels = append(channels, in.Channels)
		if now.Before(morning) {
			return activities.BatchResult{Attempts: 1, Deferred: 3, ResumeAt: morning}, nil
		}
		return activities.BatchResult{Attempts: 3}, nil
	})
	var receiptsAt time.Time
	env.OnActivity(a.AwaitReceipts, mock.Anything, mock.Anything).Return(func(context.Context, activities.ReceiptsInput) (activities.ReceiptsResult, error) {
		receiptsAt = env.Now()
		return activities.ReceiptsResult{}, nil
	})
	env.ExecuteWorkflow(NotifyWorkflow, callingPartition)
	require.NoError(t, env.GetWorkflowError())
	require.Len(t, calls, 2)
	require.Equal(t, []string{"voice"}, channels[1], "the morning pass places only the held calls")
	require.False(t, calls[1].Before(morning), "no call before the quiet hours end")
	require.False(t, receiptsAt.Before(morning), "receipts are awaited after the held calls")
	var res NotifyResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, 3, res.Deferred)
	require.Equal(t, 4, res.Attempts)
}

// Legal releases an incident's calls from quiet hours: the partition
// asleep until morning wakes and places them at once.
func TestReleasedCallsAreNotHeldUntilMorning(t *testing.T) {
	env, a, start := nightPartition()
	morning := start.Add(10 * time.Hour)
	released := start.Add(time.Hour)
	var calls []time.Time
	env.OnActivity(a.SendBatch, mock.Anything, mock.Anything).Return(func(ctx context.Context, in activities.BatchInput) (activities.BatchResult, error) {
		now := env.Now()
		calls = append(calls, now)
		if now.Before(released) { // as the store says: held until the release
			return activities.BatchResult{Attempts: 1, Deferred: 3, ResumeAt: morning}, nil
		}
		return activities.BatchResult{Attempts: 3}, nil
	})
	env.OnActivity(a.AwaitReceipts, mock.Anything, mock.Anything).Return(activities.ReceiptsResult{}, nil)
	env.RegisterDelayedCallback(func() { env.SignalWorkflow(SignalReleaseCalls, nil) }, time.Hour)
	env.ExecuteWorkflow(NotifyWorkflow, callingPartition)
	require.NoError(t, env.GetWorkflowError())
	require.Len(t, calls, 2)
	require.Equal(t, released, calls[1].UTC(), "the held calls were placed at the release, not in the morning")
}

// A partition sent ahead of the campaign (the earliest due) sends its
// first rung to its regions' residents and stops: no wait for the morning
// for calls held at night, no receipts awaited, nothing settled, no rung
// resolved, all of which the campaign that follows does for them.
func TestASendOnlyPartitionSendsItsRegionsFirstRungAndStops(t *testing.T) {
	env, a, start := partitionAtNight()
	var mu sync.Mutex
	var batches []activities.BatchInput
	var splits []activities.SplitInput
	var resolved, awaited, settled bool
	env.OnActivity(a.SettleRung, mock.Anything, mock.Anything).Return(func(context.Context, activities.BatchInput) (activities.BatchResult, error) {
		settled = true
		return activities.BatchResult{}, nil
	})
	env.OnActivity(a.ResolveRung, mock.Anything, mock.Anything).Return(func(context.Context, activities.ResolveInput) (activities.ResolveResult, error) {
		resolved = true
		return activities.ResolveResult{}, nil
	})
	env.OnActivity(a.AwaitReceipts, mock.Anything, mock.Anything).Return(func(context.Context, activities.ReceiptsInput) (activities.ReceiptsResult, error) {
		awaited = true
		return activities.ReceiptsResult{}, nil
	})
	env.OnActivity(a.SplitRange, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.SplitInput) (activities.SplitResult, error) {
		mu.Lock()
		defer mu.Unlock()
		splits = append(splits, in)
		return activities.SplitResult{Ranges: []plandata.Range{{}}}, nil
	})
	env.OnActivity(a.SendBatch, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.BatchInput) (activities.BatchResult, error) {
		mu.Lock()
		defer mu.Unlock()
		batches = append(batches, in)
		return activities.BatchResult{Attempts: 1, Deferred: 1, ResumeAt: start.Add(10 * time.Hour)}, nil
	})
	in := callingPartition
	in.Regions, in.SendOnly = []string{"KR"}, true
	env.ExecuteWorkflow(NotifyWorkflow, in)
	require.NoError(t, env.GetWorkflowError())
	var res NotifyResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, 1, res.Attempts)
	require.Equal(t, []int{0}, res.Reached, "the campaign resolves the rung")
	require.Len(t, batches, 1, "no second pass for the held call")
	require.Equal(t, []string{"KR"}, batches[0].Regions)
	require.Equal(t, []string{"KR"}, splits[0].Regions)
	require.False(t, resolved, "no rung resolved")
	require.False(t, awaited, "no receipts awaited")
	require.False(t, settled, "nothing settled: the campaign's partitions meet its sends and settle them")
	require.True(t, batches[0].SettleLater, "its batch goes on past calls that hang")
	require.Less(t, env.Now().Sub(start), time.Hour, "did not wait for the morning")
}

// A partition tells its campaign, by its workflow ID, once its first rung
// has gone to everyone in it: before it settles that rung or goes on.
func TestAPartitionTellsItsCampaignWhenItsFirstRungIsSent(t *testing.T) {
	var s testsuite.WorkflowTestSuite
	rec := &batchRecorder{sent: map[string]int{}, ahead: map[string]int{}}
	env := rec.env(&s, batchRanges(3))
	campaign := func(ctx workflow.Context) ([]string, error) {
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: "INC-1-notify-1"})
		child := workflow.ExecuteChildWorkflow(cctx, NotifyWorkflow, NotifyInput{IncidentID: "INC-1", Ladder: [][]string{{"email"}, {"voice"}}, BatchSize: 25, Window: 2, ReceiptTimeout: time.Minute})
		var seen []string
		sel := workflow.NewSelector(ctx)
		sel.AddReceive(workflow.GetSignalChannel(ctx, SignalFirstRungSent), func(c workflow.ReceiveChannel, _ bool) {
			var id string
			c.Receive(ctx, &id)
			rec.mu.Lock()
			seen = append(seen, id+" after "+strings.Join(rec.order, ","))
			rec.mu.Unlock()
		})
		sel.AddFuture(child, func(workflow.Future) { seen = append(seen, "ended") })
		for len(seen) == 0 || seen[len(seen)-1] != "ended" {
			sel.Select(ctx)
		}
		return seen, child.Get(ctx, nil)
	}
	env.RegisterWorkflowWithOptions(campaign, workflow.RegisterOptions{Name: "campaign"})
	env.ExecuteWorkflow("campaign")
	require.NoError(t, env.GetWorkflowError())
	var seen []string
	require.NoError(t, env.GetWorkflowResult(&seen))
	require.Equal(t, []string{"INC-1-notify-1 after send,send,send", "ended"}, seen)
}
