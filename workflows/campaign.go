// The notification campaign: partitions as child workflows, and the
// rung-by-rung loop kept for incidents begun before them.

package workflows

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tocsin/tocsin/activities"
	"github.com/tocsin/tocsin/internal/channel"
	"github.com/tocsin/tocsin/internal/pacing"
	"github.com/tocsin/tocsin/internal/plandata"
	"github.com/tocsin/tocsin/internal/senders"
	"github.com/tocsin/tocsin/playbooks"
)

// campaign splits the affected set into partitions and runs a NotifyWorkflow
// for each, PartitionWindow at a time.
//
// A follow-up wave (wave > 1) runs the same campaign over the people not
// yet reached: the ledger's rows keep everyone told before from being
// told twice, and its children have IDs of their own.
func (s *plan) campaign(ctx workflow.Context, plan activities.AssessResult, notices map[string]int, wave int) error {
	id := s.in.IncidentID
	if workflow.GetVersion(ctx, changePaceWarning, workflow.DefaultVersion, 1) >= 1 {
		s.warnPace(ctx, plan)
	}
	if workflow.GetVersion(ctx, changePaceWatch, workflow.DefaultVersion, 1) >= 1 {
		defer s.watchPace(ctx, plan)()
	}
	size := s.in.PartitionSize
	if size <= 0 {
		size = DefaultPartitionSize
	}
	var split activities.SplitResult
	if err := workflow.ExecuteActivity(ctx, a.SplitRange, activities.SplitInput{IncidentID: id, Size: size, Unreached: wave > 1}).Get(ctx, &split); err != nil {
		return fmt.Errorf("split campaign: %w", err)
	}
	c := &CampaignState{StartedAt: workflow.Now(ctx), Subjects: split.Subjects, Partitions: len(split.Ranges)}
	s.p.Campaign = c
	batch := s.in.BatchSize
	if batch <= 0 {
		batch = DefaultBatchSize
	}
	window, bwindow := s.in.PartitionWindow, s.in.BatchWindow
	if window <= 0 {
		window = DefaultPartitionWindow
	}
	if bwindow <= 0 {
		bwindow = legacyBatchWindow
		if workflow.GetVersion(ctx, changeWiderBatchWindow, workflow.DefaultVersion, 1) >= 1 {
			bwindow = DefaultBatchWindow
		}
	}
	s.event(ctx, fmt.Sprintf("campaign: %d people in %d partitions of up to %d, batches of %d", split.Subjects, len(split.Ranges), size, batch))
	// Each person is told only by channels every duty to them accepts
	// (with their consent where the law asks for it).
	var lawful []playbooks.Lawful
	if workflow.GetVersion(ctx, changeLawfulChannels, workflow.DefaultVersion, 1) >= 1 {
		lawful = playbooks.LawfulRules(plan.Obligations)
	}
	base := NotifyInput{IncidentID: id, Ladder: plan.Ladder, BatchSize: batch, Window: bwindow, DefaultLocale: plan.DefaultLocale,
		Notices: notices, Quiet: plan.Quiet, ReceiptTimeout: plan.ReceiptTimeout, ReceiptPoll: s.in.ReceiptPoll, BounceWindow: plan.BounceWindow, NoVoicemail: plan.NoVoicemail, Lawful: lawful}
	if workflow.GetVersion(ctx, changeEarliestDueFirst, workflow.DefaultVersion, 1) >= 1 {
		if err := s.earliestDueFirst(ctx, base, wave, size, window, split.Subjects); err != nil {
			return err
		}
	}
	runs := make([]partitionRun, len(split.Ranges))
	for i, r := range split.Ranges {
		runs[i] = partitionRun{child: fmt.Sprintf("%s-notify-%d", id, i+1), in: base}
		if wave > 1 {
			runs[i].child = fmt.Sprintf("%s-wave%d-notify-%d", id, wave, i+1)
		}
		runs[i].in.Partition, runs[i].in.Range = i+1, r
	}
	reached := make([]int, len(plan.Ladder))
	err := s.runPartitions(ctx, window, runs, func(res NotifyResult) {
		c.PartitionsDone++
		c.Attempts += res.Attempts
		c.Failed += res.Failed
		c.Recovered += res.Recovered
		c.Deferred += res.Deferred
		for k, n := range res.Reached {
			if k < len(reached) {
				reached[k] += n
			}
		}
	})
	if err != nil {
		return err
	}
	for i, channels := range plan.Ladder {
		s.event(ctx, fmt.Sprintf("rung %d (%s) reached %d people", i+1, strings.Join(channels, "+"), reached[i]))
	}
	if c.Recovered > 0 {
		s.event(ctx, fmt.Sprintf("%d sends interrupted by a crash were recovered without sending twice", c.Recovered))
	}
	return nil
}

// partitionRun is one child of a campaign: its workflow ID and input.
type partitionRun struct {
	child string
	in    NotifyInput
}

// partitionsPerSlot bounds the partitions in flight, window slots of them
// sending their first rung, at this many per slot: the others wait for
// settling, receipts and their later rungs.
const partitionsPerSlot = 4

// runPartitions runs a NotifyWorkflow per run, window at a time, and hands
// each result to done; after a failure it starts no more and returns the
// first. A partition that has sent its first rung gives its place to the
// next (SignalFirstRungSent), up to partitionsPerSlot times window in flight.
func (s *plan) runPartitions(ctx workflow.Context, window int, runs []partitionRun, done func(NotifyResult)) error {
	var firstErr error
	inflight := 0
	sel := workflow.NewSelector(ctx)
	// sending are the partitions in flight that have not yet sent their
	// first rung; without the change, a partition is sending until it ends.
	sending := map[string]bool{}
	most := window
	if workflow.GetVersion(ctx, changeFirstRungSlot, workflow.DefaultVersion, 1) >= 1 {
		most = window * partitionsPerSlot
		sent := workflow.GetSignalChannel(ctx, SignalFirstRungSent)
		sel.AddReceive(sent, func(c workflow.ReceiveChannel, _ bool) {
			var child string
			c.Receive(ctx, &child)
			delete(sending, child) // a stale one (another campaign's) names none
		})
		defer func() {
			var child string
			for sent.ReceiveAsync(&child) {
			}
		}()
	}
	for _, run := range runs {
		for inflight >= most || len(sending) >= window {
			sel.Select(ctx)
			s.campaignProgress(ctx)
		}
		if firstErr != nil {
			break
		}
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: run.child})
		partition, child := run.in.Partition, run.child
		inflight++
		sending[child] = true
		sel.AddFuture(workflow.ExecuteChildWorkflow(cctx, NotifyWorkflow, run.in), func(f workflow.Future) {
			inflight--
			delete(sending, child)
			var res NotifyResult
			if err := f.Get(ctx, &res); err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("notify partition %d: %w", partition, err)
				}
				return
			}
			done(res)
		})
	}
	for inflight > 0 {
		sel.Select(ctx)
		s.campaignProgress(ctx)
	}
	return firstErr
}

// earliestDueFirst sends the ladder's first rung to the residents of the
// regions whose duty to be told falls due first, before anyone else is
// sent anything: when a provider's rate bounds the campaign, they are the
// people a late notice wrongs first. It does not wait for their receipts
// or resolve the rung: the campaign that follows takes everyone, finds
// their first-rung sends in the ledger (none goes twice), and carries them
// down the ladder with the others. Nothing is done when no duty has a due
// time or its regions hold nobody or everybody.
func (s *plan) earliestDueFirst(ctx workflow.Context, base NotifyInput, wave, size, window, everyone int) error {
	regions, duties, due := DueFirst(s.p.Scope, PaceDuties(s.p))
	if len(regions) == 0 {
		return nil
	}
	var split activities.SplitResult
	if err := workflow.ExecuteActivity(ctx, a.SplitRange, activities.SplitInput{IncidentID: base.IncidentID, Size: size, Unreached: wave > 1, Regions: regions}).Get(ctx, &split); err != nil {
		return fmt.Errorf("split the earliest due: %w", err)
	}
	if split.Subjects == 0 || split.Subjects >= everyone {
		return nil
	}
	// Fewer people than a window of full partitions are spread over the
	// whole window: one partition alone would send them with a quarter of
	// the batches the campaign runs at once.
	if spread := (split.Subjects + window - 1) / window; len(split.Ranges) < window && spread > base.BatchSize && spread < size {
		if err := workflow.ExecuteActivity(ctx, a.SplitRange, activities.SplitInput{IncidentID: base.IncidentID, Size: spread, Unreached: wave > 1, Regions: regions}).Get(ctx, &split); err != nil {
			return fmt.Errorf("split the earliest due: %w", err)
		}
	}
	s.event(ctx, fmt.Sprintf("earliest due first: the %d people in %s, whose %s falls due at %s, are sent the first rung before the other %d",
		split.Subjects, strings.Join(regions, ", "), strings.Join(duties, ", "), due.UTC().Format("2006-01-02 15:04 UTC"), everyone-split.Subjects))
	runs := make([]partitionRun, len(split.Ranges))
	for i, r := range split.Ranges {
		runs[i] = partitionRun{child: fmt.Sprintf("%s-first-%d", base.IncidentID, i+1), in: base}
		if wave > 1 {
			runs[i].child = fmt.Sprintf("%s-wave%d-first-%d", base.IncidentID, wave, i+1)
		}
		in := &runs[i].in
		in.Partition, in.Range, in.Regions, in.SendOnly = i+1, r, regions, true
		in.Ladder = base.Ladder[:1]
	}
	// Failures, people without a contact and held calls are counted by the
	// campaign that follows, which meets them again.
	c := s.p.Campaign
	return s.runPartitions(ctx, window, runs, func(res NotifyResult) {
		c.Attempts += res.Attempts
		c.Recovered += res.Recovered
	})
}

// DueFirst names the affected regions under the duties to tell people
// that fall due first, those duties, and when: the people a campaign
// sends its first rung to before anyone else.
func DueFirst(scope *plandata.ScopeSummary, duties []pacing.Duty) (regions, names []string, due time.Time) {
	if scope == nil || len(duties) == 0 {
		return nil, nil, time.Time{}
	}
	due = duties[0].DueAt
	for _, d := range duties {
		if d.DueAt.Before(due) {
			due = d.DueAt
		}
	}
	var jurisdictions []string
	for _, d := range duties {
		if d.DueAt.Equal(due) {
			names = append(names, d.Name)
			jurisdictions = append(jurisdictions, d.Jurisdiction)
		}
	}
	// Sorted before use, so the map's order does not matter.
	//workflowcheck:ignore
	for region := range scope.Regions {
		for _, j := range playbooks.JurisdictionsOf(region) {
			if slices.Contains(jurisdictions, j) {
				regions = append(regions, region)
				break
			}
		}
	}
	slices.Sort(regions)
	slices.Sort(names)
	return regions, names, due
}

// withholdWaived takes out of the campaign the residents of every region
// whose duties to be told legal all waived.
func (s *plan) withholdWaived(ctx workflow.Context) error {
	regions, duties := withheldRegions(s.p.Scope, s.p.Obligations, s.p.Filings)
	if len(regions) == 0 {
		return nil
	}
	var res activities.WithholdResult
	if err := workflow.ExecuteActivity(ctx, a.WithholdNotice, activities.WithholdInput{IncidentID: s.in.IncidentID, Regions: regions}).Get(ctx, &res); err != nil {
		return fmt.Errorf("withhold notice: %w", err)
	}
	text := fmt.Sprintf("individual notice withheld from %d people in %s: %s waived", res.Subjects, strings.Join(regions, ", "), strings.Join(duties, ", "))
	s.event(ctx, text)
	s.post(ctx, ":no_bell: "+strings.ToUpper(text[:1])+text[1:]+".")
	return nil
}

// withheldRegions lists, in order, the affected regions some duty to
// individuals covers and whose every such duty is waived, with those duties.
// A region no duty covers is still told (the company chose to): only a
// waiver withholds notice.
func withheldRegions(scope *plandata.ScopeSummary, obligations []playbooks.Obligation, filings map[string]*Filing) (regions, duties []string) {
	if scope == nil {
		return nil, nil
	}
	// Both lists are sorted before use, so the map's order does not matter.
	//workflowcheck:ignore
	for region := range scope.Regions {
		covered, waived := 0, []string{}
		for _, j := range playbooks.JurisdictionsOf(region) {
			for _, o := range obligations {
				if o.Audience != "individuals" || o.Jurisdiction != j {
					continue
				}
				covered++
				if f := filings[o.Name]; f != nil && f.Status == FilingWaived {
					waived = append(waived, o.Name)
				}
			}
		}
		if covered > 0 && len(waived) == covered {
			regions = append(regions, region)
			for _, d := range waived {
				if !slices.Contains(duties, d) {
					duties = append(duties, d)
				}
			}
		}
	}
	slices.Sort(regions)
	slices.Sort(duties)
	return regions, duties
}

// campaignProgress tells the war room each time another quarter of the
// campaign's partitions is done.
func (s *plan) campaignProgress(ctx workflow.Context) {
	c := s.p.Campaign
	if !s.buttons || c == nil || c.Partitions == 0 {
		return
	}
	quarter := c.PartitionsDone * 4 / c.Partitions
	if quarter <= s.postedQuarter {
		return
	}
	s.postedQuarter = quarter
	s.post(ctx, fmt.Sprintf(":mega: Individual notice: %d of %d partitions done (%d%% of %d people), %d sends so far, %d failed.",
		c.PartitionsDone, c.Partitions, c.PartitionsDone*100/c.Partitions, c.Subjects, c.Attempts, c.Failed))
}

func (s *plan) notifyRung(ctx workflow.Context, rung int, channels []string, plan activities.AssessResult, notices map[string]int) error {
	id := s.in.IncidentID
	cursor := ""
	for {
		var res activities.BatchResult
		in := activities.BatchInput{IncidentID: id, Rung: rung, Channels: channels, After: cursor, Limit: s.in.BatchSize, DefaultLocale: plan.DefaultLocale, Notices: notices}
		if err := workflow.ExecuteActivity(ctx, a.SendBatch, in).Get(ctx, &res); err != nil {
			return fmt.Errorf("notify rung %d: %w", rung, err)
		}
		if res.Done {
			break
		}
		cursor = res.Next
	}
	if channel.Any(channels, channel.AwaitsReceipt) {
		rctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: plan.ReceiptTimeout + time.Minute, HeartbeatTimeout: time.Minute})
		var rr activities.ReceiptsResult
		if err := workflow.ExecuteActivity(rctx, a.AwaitReceipts, activities.ReceiptsInput{IncidentID: id, Rung: rung, Timeout: plan.ReceiptTimeout, Poll: s.in.ReceiptPoll}).Get(ctx, &rr); err != nil {
			return fmt.Errorf("receipts rung %d: %w", rung, err)
		}
		if rr.Pending > 0 {
			s.event(ctx, fmt.Sprintf("%d %s receipts never came; those people move down the ladder", rr.Pending, strings.Join(channels, "+")))
		}
	}
	var resolved activities.ResolveResult
	if err := workflow.ExecuteActivity(ctx, a.ResolveRung, activities.ResolveInput{IncidentID: id, Rung: rung, Channels: channels, NoVoicemail: plan.NoVoicemail}).Get(ctx, &resolved); err != nil {
		return fmt.Errorf("resolve rung %d: %w", rung, err)
	}
	s.event(ctx, fmt.Sprintf("rung %d (%s) reached %d people", rung, strings.Join(channels, "+"), resolved.Reached))
	return nil
}

// warnPace tells the war room, as a campaign starts, of each duty to tell
// people it would miss at the configured rates, and the rate that meets
// it: raised in time, it is met.
func (s *plan) warnPace(ctx workflow.Context, plan activities.AssessResult) {
	if len(plan.Ladder) == 0 {
		return
	}
	duties := PaceDuties(s.p)
	if len(duties) == 0 {
		return
	}
	res, err := s.projectPace(ctx, plan, duties, false)
	if err != nil {
		workflow.GetLogger(ctx).Warn("pace projection failed", "error", err)
		return
	}
	for _, late := range res.Late {
		s.late = append(s.late, late)
		s.event(ctx, "LATE: "+late)
		s.post(ctx, ":hourglass_flowing_sand: <!here> Late: "+senders.SlackEscape(late)+". An admin can raise the channel's rate up to the provider's ceiling: `tocsin channel rate CHANNEL PER-SECOND`.")
	}
}

// projectPace asks ProjectPace about the campaign of plan against duties,
// those due first measured by their own finish; measured: at the rates the
// running campaign keeps.
func (s *plan) projectPace(ctx workflow.Context, plan activities.AssessResult, duties []pacing.Duty, measured bool) (activities.PaceResult, error) {
	pctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute, RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 3}})
	ahead, aheadDuties, _ := DueFirst(s.p.Scope, duties)
	in := activities.PaceInput{IncidentID: s.in.IncidentID, Channels: plan.Ladder[0], Duties: duties, AheadRegions: ahead, AheadDuties: aheadDuties, Measured: measured}
	var res activities.PaceResult
	err := workflow.ExecuteActivity(pctx, a.ProjectPace, in).Get(ctx, &res)
	return res, err
}

// paceWatchEvery is how often a running campaign is projected again at
// the rates it measures: a provider's bad day shows within minutes, and a
// duty's due time is hours or days away.
const paceWatchEvery = 10 * time.Minute

// watchPace projects the running campaign every paceWatchEvery at the
// rates it has measured, slower than the configured ones, and tells the
// war room, once a duty, of each it would miss two projections running:
// the warning as the campaign started could only use the configured
// rates. One projection alone can be a pause's (a campaign paused, or
// resumed minutes ago, has sent less in the last minutes than its pace).
// It returns the function that stops it, when the campaign ends.
func (s *plan) watchPace(ctx workflow.Context, plan activities.AssessResult) (stop func()) {
	if len(plan.Ladder) == 0 || len(PaceDuties(s.p)) == 0 {
		return func() {}
	}
	wctx, cancel := workflow.WithCancel(ctx)
	warned, lateBefore := map[string]bool{}, map[string]bool{}
	workflow.Go(wctx, func(ctx workflow.Context) {
		for {
			if err := workflow.NewTimer(ctx, paceWatchEvery).Get(ctx, nil); err != nil {
				return // the campaign ended
			}
			duties := PaceDuties(s.p) // a duty met meanwhile is no longer watched
			if len(duties) == 0 {
				return
			}
			res, err := s.projectPace(ctx, plan, duties, true)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				workflow.GetLogger(ctx).Warn("pace projection failed", "error", err)
				continue
			}
			lateNow := map[string]bool{}
			for i, late := range res.Late {
				if i >= len(res.Duties) {
					continue
				}
				duty := res.Duties[i]
				lateNow[duty] = true
				if warned[duty] || !lateBefore[duty] {
					continue
				}
				warned[duty] = true
				s.late = append(s.late, late)
				s.event(ctx, "LATE: "+late)
				s.post(ctx, ":hourglass_flowing_sand: <!here> Late: "+senders.SlackEscape(late)+". That is the pace the campaign keeps, not its configured rate: where the provider is what is slow, raising the rate will not help.")
			}
			lateBefore = lateNow
		}
	})
	return cancel
}

// PaceDuties are a plan's unmet duties to tell people that have a due
// time: what a campaign's pace is measured against.
func PaceDuties(p Progress) []pacing.Duty {
	var duties []pacing.Duty
	for _, o := range p.Obligations {
		if o.Audience == "individuals" && !o.DueAt.IsZero() && !p.Filings[o.Name].Met() {
			duties = append(duties, pacing.Duty{Name: o.Name, Jurisdiction: o.Jurisdiction, DueAt: o.DueAt})
		}
	}
	return duties
}
