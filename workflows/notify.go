package workflows

import (
	"github.com/tocsin/tocsin/internal/channel"
	"github.com/tocsin/tocsin/internal/plandata"

	"fmt"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tocsin/tocsin/activities"
	"github.com/tocsin/tocsin/playbooks"
)

// Campaign sizing defaults. A partition is one NotifyWorkflow; a batch is one
// SendBatch activity. Histories stay small: the incident's carries one child
// per partition, a partition's a few events per batch and continues as new
// long before Temporal's limits.
const (
	DefaultBatchSize     = 250
	DefaultPartitionSize = 20000
	DefaultBatchWindow   = 16
	// legacyBatchWindow is the default of campaigns started before
	// changeWiderBatchWindow: 4 batches at once.
	legacyBatchWindow      = 4
	DefaultPartitionWindow = 4
	notifyHeartbeat        = 10 * time.Second
	// slowestProviderCall bounds one send: connect (15 s) plus the SMTP
	// answer (30 s), the longest of the providers' own timeouts.
	slowestProviderCall = 45 * time.Second
)

// NotifyInput is one partition of a campaign: the whole ladder for the
// subjects in Range.
type NotifyInput struct {
	IncidentID     string
	Partition      int
	Range          plandata.Range
	Ladder         [][]string
	BatchSize      int
	Window         int
	DefaultLocale  string
	Notices        map[string]int
	Quiet          playbooks.Quiet
	ReceiptTimeout time.Duration
	ReceiptPoll    time.Duration
	// BounceWindow is how long after a rung's last e-mail its bounces are
	// awaited before the rung is resolved (0: not awaited).
	BounceWindow time.Duration `json:",omitempty"`
	// NoVoicemail: a call an answering machine took reached nobody.
	NoVoicemail bool `json:",omitempty"`
	// Lawful are the channels each duty to individuals accepts; empty in
	// partitions started before people were told only by those.
	Lawful []playbooks.Lawful `json:",omitempty"`
	// Regions: only their residents are sent to (none: everyone).
	Regions []string `json:",omitempty"`
	// SendOnly sends the first rung and stops: no wait for the morning,
	// receipts or resolution (the earliest due, ahead of the campaign,
	// which does those for them).
	SendOnly bool `json:",omitempty"`
	// MaxBatchesPerRun continues as new after this many batches even when
	// Temporal does not suggest it yet (0: only when suggested).
	MaxBatchesPerRun int
	// Where a continued run picks up: the rung (0-based) and the last subject
	// already batched in it; Totals so far.
	Rung   int
	Cursor string
	Totals NotifyResult
	// HeldUntil carries calls held for quiet hours in batches the previous
	// run sent: the earliest time they may be placed.
	HeldUntil time.Time
}

// NotifyResult counts a partition's sends.
type NotifyResult struct {
	Attempts  int
	Failed    int
	Skipped   int
	Recovered int
	Deferred  int
	Reached   []int // by rung
	Runs      int   // 1 + how many times it continued as new
}

// NotifyWorkflow runs the ladder over one partition: per rung, batches of
// unreached subjects with a bounded window in flight, calls held for quiet
// hours, receipts awaited (and swept), and the rung resolved before the next.
func NotifyWorkflow(ctx workflow.Context, in NotifyInput) (NotifyResult, error) {
	// Batches heartbeat per person and the other steps take seconds: a worker
	// that died is noticed in seconds and its work retried elsewhere.
	ctx = workflow.WithHeartbeatTimeout(activityOptions(ctx), notifyHeartbeat)
	in.BatchSize = max(in.BatchSize, 1)
	in.Window = max(in.Window, 1)
	tot := in.Totals
	tot.Runs++
	if len(tot.Reached) < len(in.Ladder) {
		tot.Reached = append(tot.Reached, make([]int, len(in.Ladder)-len(tot.Reached))...)
	}
	batches := 0
	// Batches go on past calls that hang, and a step per rung settles what
	// they left in doubt, so a bad day at a provider does not set the pace.
	settleLater := workflow.GetVersion(ctx, changeSettleRung, workflow.DefaultVersion, 1) >= 1
	// And the next rung goes to those a settling rung can no longer reach
	// while it settles.
	goAhead := settleLater && workflow.GetVersion(ctx, changeGoAhead, workflow.DefaultVersion, 1) >= 1
	slotFreed := false
	for rung := in.Rung; rung < len(in.Ladder); rung++ {
		channels := in.Ladder[rung]
		from := in.Range.After
		if rung == in.Rung && in.Cursor != "" {
			from = in.Cursor
		}
		pass := passInput{rung: rung, channels: channels, r: plandata.Range{After: from, Upto: in.Range.Upto}, settleLater: settleLater}
		held := time.Time{}
		if rung == in.Rung {
			held = in.HeldUntil
		}
		for {
			res, err := sendPass(ctx, in, pass, &tot, &batches)
			if err != nil {
				return tot, err
			}
			if !held.IsZero() {
				res.deferred++
				if res.resumeAt.IsZero() || held.Before(res.resumeAt) {
					res.resumeAt = held
				}
				held = time.Time{}
			}
			if res.cut != "" {
				next := in
				next.Rung, next.Cursor, next.Totals, next.HeldUntil = rung, res.cut, tot, time.Time{}
				if res.deferred > 0 {
					next.HeldUntil = res.resumeAt
				}
				return tot, workflow.NewContinueAsNewError(ctx, NotifyWorkflow, next)
			}
			if rung == 0 && !in.SendOnly && !slotFreed {
				// The first rung has gone to everyone: what is left is
				// mostly waiting, and the campaign may start another
				// partition in this one's place.
				slotFreed = true
				if workflow.GetVersion(ctx, changeFirstRungSlot, workflow.DefaultVersion, 1) >= 1 {
					firstRungSent(ctx)
				}
			}
			if res.deferred == 0 || in.SendOnly {
				break
			}
			// Calls held for the night: wait for the earliest morning, or
			// for legal's release of the incident's calls, then place the
			// calls that are now due (the ledger skips the rest).
			if wait := res.resumeAt.Sub(workflow.Now(ctx)); wait > 0 {
				if err := awaitMorning(ctx, wait); err != nil {
					return tot, err
				}
			}
			var ringing []string
			for _, ch := range channels {
				if channel.Is(ch, channel.RingsPeople) {
					ringing = append(ringing, ch)
				}
			}
			pass = passInput{rung: rung, channels: ringing, r: plandata.Range{After: in.Range.After, Upto: in.Range.Upto}, settleLater: settleLater}
		}
		// A pass ahead of the campaign leaves what it did not settle to the
		// campaign's own partitions, which take everyone and settle after.
		if settleLater && !in.SendOnly {
			ahead := goAhead && mayGoAhead(in.Ladder, rung)
			if err := settleRung(ctx, in, rung, channels, &tot, ahead, &batches); err != nil {
				return tot, err
			}
		}
		if in.SendOnly {
			continue
		}
		// Bounces are awaited like receipts: a bounced e-mail reached
		// nobody, and its person must be moved on by this rung's resolution.
		bounced := workflow.GetVersion(ctx, changeAwaitBounces, workflow.DefaultVersion, 1) >= 1 && in.BounceWindow > 0 && channel.Any(channels, channel.MayBeBounced)
		if channel.Any(channels, channel.AwaitsReceipt) || bounced {
			rin := activities.ReceiptsInput{IncidentID: in.IncidentID, Rung: rung + 1, Range: in.Range, Timeout: in.ReceiptTimeout, Poll: in.ReceiptPoll}
			if bounced {
				rin.BounceWindow = in.BounceWindow
			}
			rctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: in.ReceiptTimeout + rin.BounceWindow + 10*time.Minute, HeartbeatTimeout: notifyHeartbeat})
			var rr activities.ReceiptsResult
			if err := workflow.ExecuteActivity(rctx, a.AwaitReceipts, rin).Get(ctx, &rr); err != nil {
				return tot, fmt.Errorf("receipts rung %d: %w", rung+1, err)
			}
		}
		var resolved activities.ResolveResult
		if err := workflow.ExecuteActivity(ctx, a.ResolveRung, activities.ResolveInput{IncidentID: in.IncidentID, Rung: rung + 1, Range: in.Range, Channels: channels, NoVoicemail: in.NoVoicemail}).Get(ctx, &resolved); err != nil {
			return tot, fmt.Errorf("resolve rung %d: %w", rung+1, err)
		}
		tot.Reached[rung] += resolved.Reached
	}
	return tot, nil
}

// SignalFirstRungSent tells a campaign, with a partition's workflow ID,
// that the partition has sent its first rung to everyone in it.
const SignalFirstRungSent = "first-rung-sent"

// firstRungSent signals the partition's campaign, if it has one. A signal
// that fails only leaves the slot taken until the partition ends, as
// before: it is not worth failing a partition over.
func firstRungSent(ctx workflow.Context) {
	info := workflow.GetInfo(ctx)
	if info.ParentWorkflowExecution == nil {
		return
	}
	err := workflow.SignalExternalWorkflow(ctx, info.ParentWorkflowExecution.ID, "", SignalFirstRungSent, info.WorkflowExecution.ID).Get(ctx, nil)
	if err != nil {
		workflow.GetLogger(ctx).Warn("the campaign was not told the first rung was sent", "error", err)
	}
}

type passInput struct {
	rung     int
	channels []string
	r        plandata.Range
	// settleLater: settleRung follows the pass.
	settleLater bool
	// whileSettling: the pass goes ahead of this rung's (1-based)
	// resolution, to the people it can no longer reach.
	whileSettling int
}

// settleRung finishes the sends the rung's batches left unsettled over the
// partition's range, before anyone is moved down the ladder. With ahead
// set, the next rung goes meanwhile to the people this one can no longer
// reach (every send to them failed, or they had none): its own pass after
// the resolution finds them in the ledger and sends nobody twice.
func settleRung(ctx workflow.Context, in NotifyInput, rung int, channels []string, tot *NotifyResult, ahead bool, batches *int) error {
	sin := activities.BatchInput{IncidentID: in.IncidentID, Rung: rung + 1, Channels: channels, Range: in.Range, DefaultLocale: in.DefaultLocale, Notices: in.Notices, Lawful: in.Lawful, Regions: in.Regions}
	// Every send it finishes may wait out its hold and its provider's
	// timeout; the heartbeat is what notices a dead worker.
	sctx := workflow.WithStartToCloseTimeout(ctx, max(10*time.Minute, time.Duration(in.BatchSize)*slowestProviderCall))
	settled := workflow.ExecuteActivity(sctx, a.SettleRung, sin)
	var aheadErr error
	if ahead {
		// The next rung's pass counts its failures and the people without
		// a contact again: only the sends made here are added.
		var scratch NotifyResult
		next := passInput{rung: rung + 1, channels: in.Ladder[rung+1], r: in.Range, settleLater: true, whileSettling: rung + 1}
		// A cut (time to continue as new) only ends this pass early: the
		// next rung's own pass sends the rest.
		_, aheadErr = sendPass(ctx, in, next, &scratch, batches)
		if aheadErr == nil && workflow.GetVersion(ctx, changeSettleAhead, workflow.DefaultVersion, 1) >= 1 {
			// What the pass ahead left in doubt is settled now, beside
			// this rung: nothing else of the next rung runs until its
			// own pass, which waits for this.
			ain := sin
			ain.Rung, ain.Channels = rung+2, in.Ladder[rung+1]
			var ares activities.BatchResult
			if err := workflow.ExecuteActivity(sctx, a.SettleRung, ain).Get(ctx, &ares); err != nil {
				aheadErr = fmt.Errorf("settle rung %d ahead: %w", rung+2, err)
			}
			scratch.Attempts += ares.Attempts
			scratch.Recovered += ares.Recovered
		}
		tot.Attempts += scratch.Attempts
		tot.Recovered += scratch.Recovered
	}
	var res activities.BatchResult
	if err := settled.Get(ctx, &res); err != nil {
		return fmt.Errorf("settle rung %d: %w", rung+1, err)
	}
	tot.Attempts += res.Attempts
	tot.Failed += res.Failed
	tot.Recovered += res.Recovered
	return aheadErr
}

// mayGoAhead says whether the rung after rung may start while rung
// settles. Not where either rings people: a call held for the night or
// answered by a machine is resolved only by the rung's own steps.
func mayGoAhead(ladder [][]string, rung int) bool {
	return rung+1 < len(ladder) && !channel.Any(ladder[rung], channel.RingsPeople) && !channel.Any(ladder[rung+1], channel.RingsPeople)
}

type passResult struct {
	deferred int
	resumeAt time.Time
	// cut is set when the run must continue as new: every subject up to it
	// has been batched.
	cut string
}

// sendPass sends one rung's channels to the unreached subjects of a range,
// Window batches at a time.
func sendPass(ctx workflow.Context, in NotifyInput, p passInput, tot *NotifyResult, batches *int) (passResult, error) {

	var split activities.SplitResult
	if err := workflow.ExecuteActivity(ctx, a.SplitRange, activities.SplitInput{IncidentID: in.IncidentID, Range: p.r, Size: in.BatchSize, Unreached: true, Regions: in.Regions, MovedOn: p.whileSettling}).Get(ctx, &split); err != nil {
		return passResult{}, fmt.Errorf("split rung %d: %w", p.rung+1, err)
	}
	var out passResult
	var firstErr error
	inflight := 0
	sel := workflow.NewSelector(ctx)
	for i, r := range split.Ranges {
		for inflight >= in.Window {
			sel.Select(ctx)
		}
		if firstErr != nil {
			break
		}
		bin := activities.BatchInput{IncidentID: in.IncidentID, Rung: p.rung + 1, Channels: p.channels, Range: r, DefaultLocale: in.DefaultLocale, Notices: in.Notices, Quiet: in.Quiet, Lawful: in.Lawful, Regions: in.Regions, SettleLater: p.settleLater, WhileSettling: p.whileSettling}
		inflight++
		// A batch may take its size times the slowest provider call (an SMTP
		// relay's 30 s answer after a 15 s connect); the heartbeat, not this
		// bound, is what notices a dead worker.
		bctx := workflow.WithStartToCloseTimeout(ctx, max(5*time.Minute, time.Duration(in.BatchSize)*slowestProviderCall))
		sel.AddFuture(workflow.ExecuteActivity(bctx, a.SendBatch, bin), func(f workflow.Future) {
			inflight--
			var br activities.BatchResult
			if err := f.Get(ctx, &br); err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("notify rung %d: %w", p.rung+1, err)
				}
				return
			}
			tot.Attempts += br.Attempts
			tot.Failed += br.Failed
			tot.Skipped += br.Skipped
			tot.Recovered += br.Recovered
			tot.Deferred += br.Deferred
			if br.Deferred > 0 {
				out.deferred += br.Deferred
				if out.resumeAt.IsZero() || br.ResumeAt.Before(out.resumeAt) {
					out.resumeAt = br.ResumeAt
				}
			}
		})
		*batches++
		if i < len(split.Ranges)-1 && (in.MaxBatchesPerRun > 0 && *batches >= in.MaxBatchesPerRun || workflow.GetInfo(ctx).GetContinueAsNewSuggested()) {
			out.cut = r.Upto
			break
		}
	}
	for inflight > 0 {
		sel.Select(ctx)
	}
	return out, firstErr
}

// SignalReleaseCalls wakes a partition whose calls wait for quiet hours to
// end: legal or an admin released them (the store keeps who and why, and
// SendBatch reads it there, so a signal someone else sends only wakes the
// partition to find its calls still held).
const SignalReleaseCalls = "release-calls"

// awaitMorning waits until the quiet hours end, or a release arrives. The
// timer is the command Sleep made, and cancelling it follows only a signal
// no older history carries: no change ID.
func awaitMorning(ctx workflow.Context, wait time.Duration) error {
	tctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	timer := workflow.NewTimer(tctx, wait)
	var err error
	sel := workflow.NewSelector(ctx)
	sel.AddFuture(timer, func(f workflow.Future) { err = f.Get(ctx, nil) })
	sel.AddReceive(workflow.GetSignalChannel(ctx, SignalReleaseCalls), func(c workflow.ReceiveChannel, _ bool) {
		c.Receive(ctx, nil)
	})
	sel.Select(ctx)
	return err
}
