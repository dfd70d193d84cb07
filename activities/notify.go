package activities

import (
	"cmp"

	"github.com/tocsin/tocsin/internal/channel"
	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/inventory"
	"github.com/tocsin/tocsin/internal/plandata"
	"github.com/tocsin/tocsin/internal/verify"

	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tocsin/tocsin/internal/redact"

	"go.temporal.io/sdk/temporal"

	"github.com/tocsin/tocsin/internal/senders"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/playbooks"
	"github.com/tocsin/tocsin/templates"
)

// SplitInput asks for the ranges a campaign (or a partition of it) is cut into.
type SplitInput struct {
	IncidentID string
	Range      plandata.Range
	Size       int
	// Unreached counts only subjects no rung has reached yet.
	Unreached bool
	// Regions counts only their residents (none: everyone).
	Regions []string `json:",omitempty"`
	// MovedOn counts only the unreached this rung (1-based) can no longer
	// reach (BatchInput.WhileSettling's people).
	MovedOn int `json:",omitempty"`
}

// SplitResult holds the ranges: IDs only, a few per thousand subjects.
type SplitResult struct {
	Ranges   []plandata.Range
	Subjects int
}

// SplitRange cuts the affected set into ranges of at most Size subjects.
func (a *Activities) SplitRange(ctx context.Context, in SplitInput) (SplitResult, error) {
	var ranges []store.Range
	var n int
	var err error
	if in.MovedOn > 0 {
		ranges, n, err = a.Store.SplitMovedOn(ctx, in.IncidentID, in.Range, in.Regions, max(in.Size, 1), in.MovedOn)
	} else {
		ranges, n, err = a.Store.SplitRange(ctx, in.IncidentID, in.Range, in.Regions, max(in.Size, 1), in.Unreached)
	}
	return SplitResult{Ranges: ranges, Subjects: n}, err
}

// BatchInput is one batch of one rung of the ladder.
type BatchInput struct {
	IncidentID string
	Rung       int // 1-based
	Channels   []string
	// Range is the batch's subjects (SplitRange sized it).
	Range plandata.Range
	// After and Limit page instead of Range: the form of incidents started
	// before campaigns were split, kept so they finish.
	After         string `json:",omitempty"`
	Limit         int    `json:",omitempty"`
	DefaultLocale string
	// Notices maps "notice-<locale>" and regional notices ("notice-us-ca")
	// to the approved revision.
	Notices map[string]int
	// Quiet is when nobody is phoned, in their local time.
	Quiet playbooks.Quiet
	// Lawful are the channels each duty to individuals accepts: a person
	// is told only by channels every duty to them accepts.
	Lawful []playbooks.Lawful `json:",omitempty"`
	// Regions sends only to their residents (none: everyone).
	Regions []string `json:",omitempty"`
	// SettleLater says a settling step (SettleRung) follows the rung's
	// batches: the batch goes on past a call that hangs and leaves its sends
	// in doubt to that step, rather than lasting as long as its slowest call.
	SettleLater bool `json:",omitempty"`
	// WhileSettling is the rung (1-based) still settling when this batch of
	// the next one goes ahead of its resolution: only people it can no
	// longer reach are sent to (store.MovedOnRecipients); the others wait
	// for the rung's resolution and the next rung's own pass.
	WhileSettling int `json:",omitempty"`
}

// BatchResult counts what happened.
type BatchResult struct {
	Next     string `json:",omitempty"`
	Done     bool   `json:",omitempty"`
	Attempts int
	Skipped  int // no contact on this rung's channels
	Failed   int
	// Recovered are sends an earlier attempt was interrupted in: found at
	// the provider, or sent again under the same idempotency key.
	Recovered int
	// Deferred are calls held back for the person's quiet hours, until ResumeAt.
	Deferred int
	ResumeAt time.Time
}

// flushEvery is how many sends are claimed and recorded together: it bounds
// how many may be in doubt after a crash, against two commits per send.
const flushEvery = 50

// SendBatch sends the rung's channels to the batch's subjects not yet
// reached. Each delivery is claimed in the ledger ("sending") before its
// provider call and finished after, in groups; a claim found still
// "sending" was interrupted, and is recovered by asking the provider (SMS,
// voice) or sending again under the same idempotency key (on-site, email).
func (a *Activities) SendBatch(ctx context.Context, in BatchInput) (BatchResult, error) {
	// Reading the batch's people and their notices takes seconds when a
	// wide campaign's batches start at once on one database: the attempt
	// says it is alive from its first step, or Temporal gives up on it
	// before its first send and starts another, which waits the same.
	defer keepAlive(ctx)()
	r, limit := in.Range, 100000
	if in.Limit > 0 {
		r, limit = plandata.Range{After: in.After}, in.Limit
	}
	var recipients []store.Recipient
	var err error
	if in.WhileSettling > 0 {
		recipients, err = a.Store.MovedOnRecipients(ctx, in.IncidentID, r, in.Regions, in.WhileSettling, limit)
	} else {
		recipients, err = a.Store.UnreachedRecipients(ctx, in.IncidentID, r, in.Regions, limit)
	}
	if err != nil {
		return BatchResult{}, err
	}
	drill, err := a.isDrill(ctx, in.IncidentID)
	if err != nil {
		return BatchResult{}, err
	}
	pause := &pauseWatch{a: a, incidentID: in.IncidentID}
	if paused, err := pause.paused(ctx); err != nil || paused {
		return BatchResult{}, cmp.Or(err, pause.err())
	}
	if _, released, err := a.Store.QuietReleased(ctx, in.IncidentID); err != nil {
		return BatchResult{}, err
	} else if released {
		// Legal or an admin judged the harm urgent: calls go out at any hour.
		in.Quiet = playbooks.Quiet{}
	}
	res := BatchResult{Done: in.Limit > 0 && len(recipients) < in.Limit}
	if in.Limit > 0 && len(recipients) > 0 {
		res.Next = recipients[len(recipients)-1].SubjectID
	}
	plan, held, calling, err := a.planSends(ctx, in, recipients, drill, nil, &res)
	if err != nil {
		return res, err
	}
	if err := a.personalize(ctx, in.IncidentID, plan); err != nil {
		return res, err
	}
	// The held calls are kept where incident show can count them (the
	// workflow learns of them only when a partition ends).
	if err := a.Store.HoldCalls(ctx, in.IncidentID, held); err != nil {
		return res, err
	}
	if err := a.Store.ReleaseHeldCalls(ctx, in.IncidentID, calling); err != nil {
		return res, err
	}
	err = a.sendPlan(ctx, drill, in.IncidentID, plan, &res, pause, in.SettleLater)
	return res, err
}

// planSends plans the rung's sends to recipients: each channel the person
// has a contact on and every duty to them accepts, calls held for their
// quiet hours (held, with the subjects now called in calling). With only
// set, just the sends it names are planned, quiet hours or not: claims a
// settling step finishes.
func (a *Activities) planSends(ctx context.Context, in BatchInput, recipients []store.Recipient, drill bool, only map[[2]string]bool, res *BatchResult) (plan []planned, held []store.HeldCall, calling []string, err error) {
	now := a.now()
	drafts := map[string]store.Draft{}
	for _, rcp := range recipients {
		d, locale, err := a.noticeFor(ctx, in, rcp, drafts)
		if err != nil {
			return nil, nil, nil, err
		}
		any := false
		for _, ch := range in.Channels {
			to, guardian := contactFor(rcp, ch)
			if only != nil && !only[[2]string{rcp.SubjectID, ch}] {
				continue
			}
			if to == "" || !playbooks.Allows(in.Lawful, rcp.Region, rcp.Consent, ch) {
				continue
			}
			any = true
			if channel.Is(ch, channel.RingsPeople) && !drill && only == nil { // a drill rings nobody's phone
				if until, quiet := in.Quiet.Until(now.In(inventory.ZoneOf(rcp.Region))); quiet {
					res.Deferred++
					if res.ResumeAt.IsZero() || until.Before(res.ResumeAt) {
						res.ResumeAt = until.UTC()
					}
					held = append(held, store.HeldCall{SubjectID: rcp.SubjectID, Until: until.UTC(), Local: until.Format("2006-01-02 15:04 MST") + " " + until.Location().String()})
					continue
				}
				calling = append(calling, rcp.SubjectID)
			}
			plan = append(plan, planned{
				key: store.Delivery{IncidentID: in.IncidentID, SubjectID: rcp.SubjectID, Channel: ch, Rung: in.Rung, Draft: fmt.Sprintf("%s@%d", d.Name, d.Revision)},
				msg: message(in.IncidentID, rcp, ch, to, locale, d), guardian: guardian,
			})
		}
		if !any && only == nil {
			res.Skipped++
		}
	}
	return plan, held, calling, nil
}

// sendPlan claims, sends and records what a batch planned: notices of a
// rung, or corrections. Their ledger keys say which.
//
// With later set (a settling step follows), a call past its patience goes
// on without the batch and a send left in doubt is left to that step: the
// batch still tries again, in rounds, what was certainly not sent.
func (a *Activities) sendPlan(ctx context.Context, drill bool, incidentID string, plan []planned, res *BatchResult, pause *pauseWatch, later bool) error {
	return a.sendPlanAs(ctx, attemptOwner(ctx), drill, incidentID, plan, res, pause, later)
}

// sendPlanAs is sendPlan with its lanes' owners named after owner: plans
// sent at once in one attempt each need their own.
func (a *Activities) sendPlanAs(ctx context.Context, owner string, drill bool, incidentID string, plan []planned, res *BatchResult, pause *pauseWatch, later bool) error {
	// A provider call may take longer than the heartbeat timeout (an SMTP
	// relay answers within 30 s, Twilio within 15 s, the limiter may wait):
	// the caller's attempt says it is alive while it waits (keepAlive), or
	// Temporal would start a retry while this attempt is still sending. Its
	// claims carry a lease it renews, so a retry that starts anyway waits
	// for them.
	holds := &channelHolds{a: a, incidentID: incidentID, skipped: map[string]bool{}, probing: map[string]bool{}}
	for i := range plan {
		plan[i].seq = i
	}
	var err error
	if !drill { // a drill's sinks never refuse
		if plan, err = holds.check(ctx, plan); err != nil {
			return err
		}
	}
	lk := &leaseKeeper{store: a.Store, owner: owner}
	if len(plan) > 0 {
		lk.lo, lk.hi = plan[0].key.SubjectID, plan[len(plan)-1].key.SubjectID
	}
	defer lk.run(ctx)()
	// The batch's lanes claim, send and record a chunk at a time each: a
	// crash leaves at most one chunk per lane in doubt, and a slow or
	// failing call holds up only its own lane. A send left in doubt (a
	// timeout after the request went out) or refused once does not hold up
	// the others: it is tried again at the end, a send in doubt after its
	// hold, while which the provider may still be working on it.
	again, err := a.runLanes(ctx, drill, lk, plan, res, false, later, holds, pause)
	// What is left is tried again a few rounds (a provider failing a few
	// percent of requests fails some twice); in the last, any failure ends
	// the attempt for Temporal to retry.
	for round := 1; err == nil && len(again) > 0; round++ {
		if later {
			again = slices.DeleteFunc(again, func(p planned) bool { return p.inDoubt })
		}
		again, err = a.runLanes(ctx, drill, lk, holds.keep(again), res, round >= settleRounds, later, holds, pause)
	}
	if err != nil {
		return err
	}
	return holds.err(ctx)
}

// settleRounds is how many times a batch tries the sends left in doubt or
// refused once before it fails for Temporal to retry.
const settleRounds = 3

// DefaultSendLanes is how many sends of one batch are in flight at once.
// A provider call that hangs for its whole timeout (a relay's 30 s) then
// holds up one lane, not the batch; each lane still sends one message at a
// time, which is what lets a retry tell which of a dead lane's e-mails
// may have gone out.
const DefaultSendLanes = 32

// errLaneHalted stops a lane's chunk because another lane of the batch
// failed: its sends not yet tried go back, as when the attempt is cancelled.
var errLaneHalted = errors.New("another lane of the batch failed")

// runLanes sends plan in chunks over the batch's lanes and returns the
// sends to try once more, in plan order. The first lane to fail stops the
// others after their current send; the batch fails with its error.
func (a *Activities) runLanes(ctx context.Context, drill bool, lk *leaseKeeper, plan []planned, res *BatchResult, settling, later bool, holds *channelHolds, pause *pauseWatch) ([]planned, error) {
	if len(plan) == 0 {
		return nil, nil
	}
	lanes := cmp.Or(a.SendLanes, DefaultSendLanes)
	// Chunks small enough that every lane has a few, no bigger than a claim.
	size := max(1, min(flushEvery, (len(plan)+2*lanes-1)/(2*lanes)))
	lanes = min(lanes, (len(plan)+size-1)/size)
	var (
		mu     sync.Mutex
		next   int
		again  []planned
		errs   = make([]error, lanes)
		counts = make([]BatchResult, lanes)
		halt   atomic.Bool
		wg     sync.WaitGroup
	)
	for l := range lanes {
		ln := lk.lane(l)
		wg.Go(func() {
			for !halt.Load() {
				mu.Lock()
				lo := next
				next += size
				mu.Unlock()
				if lo >= len(plan) {
					return
				}
				more, err := a.sendChunk(ctx, drill, ln, holds.keep(plan[lo:min(lo+size, len(plan))]), &counts[l], settling, later && !settling, holds, pause, &halt)
				mu.Lock()
				again = append(again, more...)
				mu.Unlock()
				if err != nil {
					if !onlyCause(err, errLaneHalted) {
						errs[l] = err
						halt.Store(true)
					}
					return
				}
			}
		})
	}
	wg.Wait()
	for _, c := range counts {
		res.Attempts += c.Attempts
		res.Failed += c.Failed
		res.Recovered += c.Recovered
	}
	slices.SortFunc(again, func(x, y planned) int { return x.seq - y.seq })
	// Each failure ends the batch for Temporal to retry; the lowest lane's
	// is the one it reports.
	for _, err := range errs {
		if err != nil {
			return again, err
		}
	}
	return again, nil
}

// onlyCause says whether a stopped chunk's error is cause alone (its
// records all written).
func onlyCause(err, cause error) bool {
	if err == cause {
		return true
	}
	j, ok := err.(interface{ Unwrap() []error })
	return ok && len(j.Unwrap()) == 1 && j.Unwrap()[0] == cause
}

// DefaultDoubtHold is how long a send left in doubt is held before the
// provider is asked about it, on a channel whose provider can be asked (or
// reports by a status callback, which names the ledger row and usually
// settles it first): a request that timed out may still be processed. It
// is the provider's own timeout: as long again as the sender waited.
const DefaultDoubtHold = senders.TwilioTimeout

// DefaultResendTimeout is how long the resend of an e-mail in doubt waits
// for the relay. Its first send hung for the whole 30 s transaction while
// the relay answered other sessions in milliseconds; a resend that takes
// this long has hung again, and is in doubt again at once rather than
// after 30 s more. The sends in doubt a campaign settles last are chains
// of such hung resends, each link as long as this wait.
const DefaultResendTimeout = 10 * time.Second

// resendHold is how long a send in doubt is held on a channel whose
// provider cannot be asked: waiting longer learns nothing (an e-mail is
// sent again, marked possibly twice; on-site, push and letters again under
// the key their provider deduplicates), so it is tried again promptly.
const resendHold = time.Second

// doubtHold is how long a send in doubt on ch waits before it is settled.
func (a *Activities) doubtHold(ch string) time.Duration {
	hold := cmp.Or(a.DoubtHold, DefaultDoubtHold)
	if info, ok := channel.Lookup(ch); ok && info.Resend == channel.ResendFound {
		return hold
	}
	return min(hold, resendHold)
}

// leaveInDoubt marks the owner's claims in doubt, each held as long as its
// channel's provider may still settle it.
func (a *Activities) leaveInDoubt(ctx context.Context, ds []store.Delivery, owner string) error {
	byHold := map[time.Duration][]store.Delivery{}
	for _, d := range ds {
		h := a.doubtHold(d.Channel)
		byHold[h] = append(byHold[h], d)
	}
	var err error
	for h, group := range byHold {
		err = errors.Join(err, a.Store.LeaveInDoubt(ctx, group, owner, a.now().Add(h)))
	}
	return err
}

// sendChunk claims and sends a chunk. It returns the sends to try once
// more at the end of the batch: those left in doubt (held for doubtHold)
// and those refused this once. When settling, any failure ends the attempt
// instead, for Temporal to retry.
//
// With detach set, a call past its patience goes on without the lane
// (deliverOrGoOn) and records its own answer.
func (a *Activities) sendChunk(ctx context.Context, drill bool, ln *lane, chunk []planned, res *BatchResult, settling, detach bool, holds *channelHolds, pause *pauseWatch, halt *atomic.Bool) ([]planned, error) {
	keys := make([]store.Delivery, len(chunk))
	for i, p := range chunk {
		keys[i] = p.key
	}
	existing, err := a.Store.ClaimDeliveries(ctx, keys, ln.lease())
	if err != nil {
		return nil, err
	}
	ln.hold(keys)
	defer ln.hold(nil)
	fresh := func(p planned) bool {
		_, was := existing[[2]string{p.key.SubjectID, p.key.Channel}]
		return !was
	}
	taken := map[[2]string]bool{} // claims of a lapsed attempt this one holds now
	var done, doubt, unsent []store.Delivery
	var again []planned // sent again at the end of the batch
	holdInDoubt := func(ctx context.Context, ds []store.Delivery) error {
		return a.leaveInDoubt(ctx, ds, ln.owner)
	}
	// stop ends the chunk at item i: what went out is recorded, the fresh
	// claims not yet tried are given back for the retry, and claims that may
	// have been sent stay claimed, in doubt, for the retry to ask about.
	// It runs even when ctx has ended.
	stop := func(i int, cause error) error {
		for j, q := range chunk[i:] {
			k := [2]string{q.key.SubjectID, q.key.Channel}
			switch {
			case j == 0 && fresh(q) && (cause == ctx.Err() || cause == errCampaignPaused || cause == errLaneHalted || senders.NotSent(cause)):
				unsent = append(unsent, q.key)
			case j == 0 || taken[k]:
				doubt = append(doubt, q.key)
			case fresh(q):
				unsent = append(unsent, q.key)
			}
		}
		bg := context.WithoutCancel(ctx)
		if cause != ctx.Err() && cause != errCampaignPaused && cause != errLaneHalted {
			cause = retryable(chunk[i].key, cause)
		}
		return errors.Join(cause, a.Store.FinishDeliveries(bg, done), a.Store.ReleaseDeliveries(bg, unsent, ln.owner), holdInDoubt(bg, doubt))
	}
	// leaveQueued gives back the claim of a send on a held channel: a fresh
	// one is queued again; one taken over from an interrupted attempt stays
	// in doubt, for the retry to ask about.
	leaveQueued := func(p planned) error {
		if fresh(p) {
			if err := a.Store.ReleaseDeliveries(ctx, []store.Delivery{p.key}, ln.owner); err != nil {
				unsent = append(unsent, p.key)
				return err
			}
		} else if err := holdInDoubt(ctx, []store.Delivery{p.key}); err != nil {
			doubt = append(doubt, p.key)
			return err
		}
		return nil
	}
	for i, p := range chunk {
		heartbeat(ctx, p.key.SubjectID)
		if ctx.Err() != nil {
			return nil, stop(i, ctx.Err()) // the attempt timed out or was cancelled: send no more
		}
		if halt.Load() {
			return nil, stop(i, errLaneHalted)
		}
		k := [2]string{p.key.SubjectID, p.key.Channel}
		prior, claimedBefore := existing[k]
		neverTried := false
		if claimedBefore && prior.Status == store.StatusSending && detach && prior.Live(time.Now()) {
			// A call still under way, or a send held in doubt: the rung's
			// settling step finishes it, rather than this lane waiting.
			continue
		}
		if claimedBefore && prior.Status == store.StatusSending {
			// Another attempt claimed it (or this one, in doubt): wait while
			// it may still be sending, then take over what is unfinished.
			if prior, err = a.awaitClaim(ctx, prior); err != nil {
				return nil, stop(i, err)
			}
			if prior.Status == store.StatusSending {
				switch {
				case prior.Doubt == store.DoubtUnsent:
					// A late call that came back refused: nothing went out.
					neverTried = true
				case recordAtOnce(p.key.Channel) && prior.Doubt == "":
					// Of a dead lane's unrecorded e-mails only the first it
					// reached can have been taken by the relay; it never
					// tried the others. Which is first is settled before
					// any of them changes hands. (A straggling or
					// interrupted one may have gone out.)
					if neverTried, err = ln.k.neverTried(ctx, prior); err != nil {
						return nil, stop(i, err)
					}
				}
				ok, err := a.Store.TakeOver(ctx, prior, ln.lease())
				if err != nil {
					return nil, stop(i, err)
				}
				if !ok {
					continue // a third attempt got there first; it is that one's
				}
				taken[k] = true
			}
		}
		if claimedBefore && prior.Status != store.StatusSending {
			if store.IsFailure(prior.Status) {
				res.Failed++
			}
			continue
		}
		if holds.isSkipped(p.key.Channel) {
			// Held since this chunk was claimed: the claim goes back, the
			// delivery stays queued for when the provider accepts again.
			if err := leaveQueued(p); err != nil {
				return nil, stop(i+1, err)
			}
			continue
		}
		if paused, err := pause.paused(ctx); err != nil {
			return nil, stop(i, err)
		} else if paused {
			// Paused by legal or an admin: nothing more goes out. What went
			// out is recorded, the claims not tried go back, and the batch
			// waits to be retried once the campaign is resumed.
			if err := stop(i, errCampaignPaused); !onlyPaused(err) {
				return nil, err
			}
			return nil, pause.err()
		}
		interrupted := claimedBefore && !neverTried
		turnDone := holds.probeTurn(p.key.Channel)
		d, err, went := a.deliverOrGoOn(ctx, drill, ln, p, prior, interrupted, fresh(p), detach)
		if went {
			// The call goes on without the lane and records its own answer.
			turnDone()
			res.Attempts++
			if interrupted {
				res.Recovered++
			}
			continue
		}
		if senders.Misconfigured(err) {
			// The provider refuses Tocsin, not this person: nothing was
			// sent. Hold the channel (its deliveries stay queued) and go
			// on with the others.
			herr := holds.hold(ctx, p.key.Channel, err)
			turnDone()
			if herr != nil {
				return nil, stop(i, herr)
			}
			if err := leaveQueued(p); err != nil {
				return nil, stop(i+1, err)
			}
			continue
		}
		if err == nil {
			holds.accepted(ctx, p.key.Channel)
		}
		turnDone()
		var throttled *senders.RetryAfterError
		switch {
		case err == nil, settling, ctx.Err() != nil, errors.As(err, &throttled):
			// A provider asking us to slow down ends the batch, for
			// Temporal to retry when it said.
		case !senders.NotSent(err), !fresh(p):
			// In doubt: go on with the others and ask about this one later.
			// It is marked at once: were this worker to die, the retry must
			// know it for a send that may have gone out, whatever came after.
			// A send taken over from an interrupted one and refused this
			// time stays in doubt too: the first may have gone out.
			if err := holdInDoubt(ctx, []store.Delivery{p.key}); err != nil {
				doubt = append(doubt, p.key)
				return nil, stop(i+1, err)
			}
			p.inDoubt = true
			again = append(again, p)
			continue
		case fresh(p):
			// Refused this once (a greylist, a 451): give the claim back at
			// once and try it again at the end, rather than fail the batch.
			if err := a.Store.ReleaseDeliveries(ctx, []store.Delivery{p.key}, ln.owner); err != nil {
				unsent = append(unsent, p.key)
				return nil, stop(i+1, err)
			}
			again = append(again, p)
			continue
		}
		if err != nil {
			return nil, stop(i, err)
		}
		res.Attempts++
		if interrupted {
			res.Recovered++
		}
		if store.IsFailure(d.Status) {
			res.Failed++
		}
		if recordAtOnce(d.Channel) {
			if err := a.Store.FinishDeliveries(ctx, []store.Delivery{d}); err != nil {
				doubt = append(doubt, p.key) // taken, but not recorded
				return nil, stop(i+1, err)
			}
			continue
		}
		done = append(done, d)
	}
	return again, a.Store.FinishDeliveries(ctx, done)
}

// recordAtOnce says whether a channel's sends are written to the ledger
// one by one rather than a chunk at a time. An e-mail can neither be looked
// up at the relay nor deduplicated by it, so a worker killed between the
// relay's 250 and the ledger's record sends it again: that window is kept
// to one commit. Other channels are recovered by asking Twilio or by the
// on-site Idempotency-Key, and keep the cheaper chunked commit.
func recordAtOnce(ch string) bool {
	return channel.Is(ch, channel.RecordsAtOnce)
}

type planned struct {
	seq int // its place in the batch's plan
	key store.Delivery
	msg senders.Message
	// guardian: the copy goes to the person's guardian, and says so.
	guardian bool
	// inDoubt: its send was left in doubt, held for the provider.
	inDoubt bool
}

// noticeFor picks the approved notice a recipient reads: the form their
// jurisdiction prescribes, else their language's.
func (a *Activities) noticeFor(ctx context.Context, in BatchInput, r store.Recipient, cache map[string]store.Draft) (store.Draft, string, error) {
	locale, _ := templates.NoticeLocaleIn(r.Locale, r.Region, in.DefaultLocale)
	if _, ok := in.Notices["notice-"+locale]; !ok {
		// An incident drafted before notices followed where people live
		// has its notices by language alone.
		locale = templates.NoticeLocale(r.Locale, in.DefaultLocale)
	}
	name := "notice-" + locale
	for _, j := range playbooks.JurisdictionsOf(r.Region) {
		if _, ok := in.Notices[RegionalNoticeName(j)]; ok {
			name, locale = RegionalNoticeName(j), "en"
			break
		}
	}
	rev, approved := in.Notices[name]
	if !approved {
		return store.Draft{}, "", temporal.NewNonRetryableApplicationError(fmt.Sprintf("no approved %s for subject %s", name, r.SubjectID), ErrNoApprovedNotice, errNoDraft)
	}
	// Readers of a notice read in several zones get its times in their
	// own: the variant of the approved revision for their zone, where
	// one was rendered (none for UTC, nor for notices before zones).
	zone, ok := inventory.ZoneName(r.Region)
	if !ok {
		zone = "UTC"
	}
	variant := incident.ZoneVariant(name, zone)
	if d, ok := cache[variant]; ok {
		return d, locale, nil
	}
	d, err := a.Store.GetDraft(ctx, in.IncidentID, variant, rev)
	if errors.Is(err, store.ErrNotFound) {
		d, err = a.Store.GetDraft(ctx, in.IncidentID, name, rev)
	}
	if err != nil {
		return d, "", err
	}
	cache[variant] = d
	return d, locale, nil
}

// personalize makes each person's copies their own, where the approved
// text leaves room for it: their notice code (verify.Mark), stored first
// so a notice that arrives can be checked at once, and their enrolment
// code for the remedy offered (templates.EnrolmentMark), or nothing.
func (a *Activities) personalize(ctx context.Context, incidentID string, plan []planned) error {
	// Each person once, however many of their copies the plan holds.
	var coded, enrolled, described []string
	seenCoded, seenEnrolled, seenDescribed := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, p := range plan {
		text, id := p.msg.Title+p.msg.Body+p.msg.HTML, p.key.SubjectID
		if strings.Contains(text, "[[code") && !seenCoded[id] {
			seenCoded[id] = true
			coded = append(coded, id)
		}
		if strings.Contains(text, templates.EnrolmentMark) && !seenEnrolled[id] {
			seenEnrolled[id] = true
			enrolled = append(enrolled, id)
		}
		if strings.Contains(text, templates.YourDataMark) && !seenDescribed[id] {
			seenDescribed[id] = true
			described = append(described, id)
		}
	}
	if len(coded)+len(enrolled)+len(described) == 0 {
		for i := range plan {
			plan[i].personal(templates.Personal{})
		}
		return nil
	}
	codes := map[string]string{}
	if len(coded) > 0 {
		if len(a.VerifyKey) == 0 {
			err := errors.New("notices carry codes to verify them, and the worker has no key to make them with (it is derived from TOCSIN_ACTOR_KEY)")
			return temporal.NewApplicationError(err.Error(), ErrMisconfigured, err)
		}
		var err error
		codes, err = a.Store.EnsureCodes(ctx, incidentID, coded, func(subject string, attempt int) string {
			return verify.Code(a.VerifyKey, incidentID, subject, attempt)
		})
		if err != nil {
			return err
		}
	}
	enrolment, err := a.Store.EnrolmentCodesOf(ctx, incidentID, enrolled)
	if err != nil {
		return err
	}
	categories, err := a.Store.CategoriesOf(ctx, incidentID, described)
	if err != nil {
		return err
	}
	for i := range plan {
		id := plan[i].key.SubjectID
		e := enrolment[id]
		plan[i].personal(templates.Personal{Code: codes[id], EnrolmentCode: e.Code, EnrolBy: e.EnrolBy, Categories: categories[id]})
	}
	return nil
}

// personal fills the copy's marks with what is its reader's own.
func (p *planned) personal(per templates.Personal) {
	if p.guardian {
		per.GuardianOf = cmp.Or(p.msg.Name, templates.Someone)
	}
	m := &p.msg
	m.Code = per.Code
	m.Title = templates.Personalize(m.Title, m.Locale, per, false)
	m.Body = templates.Personalize(m.Body, m.Locale, per, false)
	m.HTML = templates.Personalize(m.HTML, m.Locale, per, true)
}

func message(incidentID string, rcp store.Recipient, ch, to, locale string, d store.Draft) senders.Message {
	m := senders.Message{IncidentID: incidentID, SubjectID: rcp.SubjectID, Name: rcp.Name, To: to, Locale: locale, Title: d.Title, Body: d.Body}
	info, _ := channel.Lookup(ch)
	switch info.Content {
	case channel.ContentHTML:
		m.HTML = d.HTML
		if m.HTML == "" {
			m.HTML = templates.HTML(d.Body)
		}
	case channel.ContentSMS:
		m.Body = d.SMS
	case channel.ContentVoice:
		m.Body = d.Voice
	case channel.ContentText:
	}
	return m
}

// deliver makes one provider call (or recovers an interrupted one) and
// returns the ledger row to finish. A failure comes back as the sender
// classified it (permanent failures are rows, not errors), for the caller
// to tell "not sent" from "in doubt" before it becomes a retry.
func (a *Activities) deliver(ctx context.Context, drill bool, p planned, prior store.Delivery, interrupted bool) (store.Delivery, error) {
	key := p.key
	sender, ok := a.senderFor(drill, key.Channel)
	if !ok {
		key.Status, key.Error = store.StatusFailed, "no sender configured for "+key.Channel
		return key, nil
	}
	var result senders.Result
	var err error
	found := false
	if interrupted && channel.Is(key.Channel, channel.RingsPeople) {
		// A call carries nothing of ours that Twilio lists: when another
		// affected person shares the number, a call found there may be
		// theirs, and taking it would leave this person never rung. Ring
		// again instead (the household may hear it twice; nobody is left out).
		shared, err := a.Store.SharesPhone(ctx, p.msg.IncidentID, key.SubjectID, p.msg.To)
		if err != nil {
			return key, err
		}
		if shared {
			interrupted, key.Doubt = false, store.DoubtResent
			key.Detail = "called again after an interrupted call: the number is shared with another affected person"
		}
	}
	if interrupted {
		if f, isFinder := sender.(senders.Finder); isFinder {
			since, _ := time.Parse(time.RFC3339Nano, prior.ClaimedAt)
			// A message the ledger already gives to someone else (a family
			// sharing a number) is not this one.
			theirs := func(ref string) bool {
				other, err := a.Store.DeliveryByRef(ctx, ref)
				return err == nil && (other.SubjectID != key.SubjectID || other.Channel != key.Channel || other.IncidentID != key.IncidentID)
			}
			result, found, err = f.Find(ctx, p.msg, since, theirs)
			if err != nil && !errors.Is(err, senders.ErrNoFinder) {
				return key, err
			}
			if found {
				key.Detail, key.Doubt = "recovered: found at the provider after an interrupted send", store.DoubtFound
			}
		}
		if !found {
			key.Doubt = store.DoubtResent
		}
	}
	if !found {
		callCtx := ctx
		if interrupted && channel.Is(key.Channel, channel.MayDuplicate) {
			callCtx = senders.WithCallTimeout(ctx, cmp.Or(a.ResendTimeout, DefaultResendTimeout))
		}
		result, err = sender.Send(callCtx, p.msg)
	}
	switch {
	case senders.IsPermanent(err):
		key.Status, key.Error = store.StatusFailed, err.Error()
		logger(a).Info("notice refused", "incident", key.IncidentID, "subject", key.SubjectID, "channel", key.Channel, "to", redact.Contact(p.msg.To), "reason", redact.Text(err.Error()))
		return key, nil
	case err != nil:
		return key, err
	}
	key.ProviderRef, key.Segments = result.Ref, result.Segments
	key.Status = store.StatusSent
	if result.Final {
		key.Status = store.StatusAccepted
	}
	if result.Delivered {
		key.Status = store.StatusDelivered
	}
	return key, nil
}

// retryable is the error a batch fails with for Temporal to retry. It goes
// into the workflow history and the worker's log, so its message is
// redacted (an SMTP 451 quotes the address) and the provider's own error is
// not attached as its cause.
func retryable(key store.Delivery, err error) error {
	msg := redact.Text(fmt.Sprintf("send %s to subject %s: %v", key.Channel, key.SubjectID, err))
	var ra *senders.RetryAfterError
	if errors.As(err, &ra) {
		return temporal.NewApplicationErrorWithOptions(msg, ErrRateLimited, temporal.ApplicationErrorOptions{NextRetryDelay: ra.After})
	}
	return temporal.NewApplicationError(msg, ErrProviderUnavailable)
}

// contactFor is where a channel reaches a person: their own contact, or
// their guardian's (guardian true) when they are a minor or have none of
// their own and the inventory names one.
func contactFor(r store.Recipient, ch string) (to string, guardian bool) {
	info, ok := channel.Lookup(ch)
	if !ok {
		return "", false
	}
	own := r.Contact(string(info.Contact))
	if g := r.Contact(inventory.GuardianOf(string(info.Contact))); g != "" && (r.Minor || own == "") {
		return g, true
	}
	return own, false
}

// ReceiptsInput waits for SMS and voice receipts of one rung in a range.
type ReceiptsInput struct {
	IncidentID string
	Rung       int
	Range      plandata.Range
	Timeout    time.Duration
	Poll       time.Duration
	// BounceWindow, when set, also waits until this long after the rung's
	// last e-mail, for the bounce mailbox to fail what bounced.
	BounceWindow time.Duration `json:",omitempty"`
}

// ReceiptsResult says how many never reported back.
type ReceiptsResult struct {
	Pending int
	// Swept are receipts learnt by asking the provider when the callback
	// never came.
	Swept int
}

// AwaitReceipts polls the ledger until no delivery of the rung in the range
// still waits for its status callback, or until the timeout; then it asks
// the provider about each one still waiting (a callback can be lost), and
// what the provider cannot confirm stays undelivered, moving that person on.
func (a *Activities) AwaitReceipts(ctx context.Context, in ReceiptsInput) (ReceiptsResult, error) {
	if in.Poll <= 0 {
		in.Poll = 500 * time.Millisecond
	}
	if err := a.awaitBounces(ctx, in); err != nil {
		return ReceiptsResult{}, err
	}
	deadline := time.Now().Add(in.Timeout)
	for {
		rows, err := a.Store.RangeDeliveries(ctx, in.IncidentID, in.Rung, in.Range, store.StatusSent)
		if err != nil {
			return ReceiptsResult{}, err
		}
		heartbeat(ctx, len(rows))
		if len(rows) == 0 {
			return ReceiptsResult{}, nil
		}
		if time.Now().After(deadline) {
			return a.sweep(ctx, rows)
		}
		select {
		case <-ctx.Done():
			return ReceiptsResult{}, ctx.Err()
		case <-time.After(in.Poll):
		}
	}
}

// awaitBounces waits until the bounce window after the rung's last e-mail
// in the range has passed.
func (a *Activities) awaitBounces(ctx context.Context, in ReceiptsInput) error {
	if in.BounceWindow <= 0 {
		return nil
	}
	last, err := a.Store.LastEmailAccepted(ctx, in.IncidentID, in.Rung, in.Range)
	if err != nil || last == "" {
		return err
	}
	at, err := time.Parse(time.RFC3339Nano, last)
	if err != nil {
		return fmt.Errorf("ledger time %q: %w", last, err)
	}
	until := at.Add(in.BounceWindow)
	for time.Now().Before(until) {
		heartbeat(ctx, "awaiting bounces")
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(min(time.Until(until), 2*time.Second)):
		}
	}
	return nil
}

// StatusChecker asks a provider for a message's current status, mapped onto
// the ledger's ("" while it is still on its way).
type StatusChecker interface {
	Status(ctx context.Context, channel, ref string) (status, detail string, err error)
}

func (a *Activities) sweep(ctx context.Context, rows []store.Delivery) (ReceiptsResult, error) {
	res := ReceiptsResult{}
	for i, d := range rows {
		heartbeat(ctx, i)
		status := ""
		if a.Receipts != nil && d.ProviderRef != "" {
			st, _, err := a.Receipts.Status(ctx, d.Channel, d.ProviderRef)
			if err != nil {
				return res, err
			}
			status = st
		}
		if status != "" {
			if _, err := a.Store.UpdateDeliveryByRef(ctx, d.ProviderRef, status, "status asked of the provider: the callback never came"); err != nil {
				return res, err
			}
			res.Swept++
			continue
		}
		res.Pending++
	}
	return res, nil
}

// ResolveInput closes one rung for a range.
type ResolveInput struct {
	IncidentID string
	Rung       int
	Range      plandata.Range
	Channels   []string
	// NoVoicemail: a call an answering machine took reached nobody.
	NoVoicemail bool `json:",omitempty"`
}

// ResolveResult counts who this rung reached.
type ResolveResult struct {
	Reached int
}

// ResolveRung marks every subject of the range that a channel of the rung
// reached, with the channels that did, in ladder order ("onsite+email").
func (a *Activities) ResolveRung(ctx context.Context, in ResolveInput) (ResolveResult, error) {
	n, err := a.Store.ResolveRange(ctx, in.IncidentID, in.Rung, in.Range, in.Channels, in.NoVoicemail)
	return ResolveResult{Reached: n}, err
}

// ReachResult summarises the campaign.
type ReachResult struct {
	Reach plandata.Reach
	// ByJurisdiction counts each jurisdiction's residents (reached, not
	// reached): a duty to individuals is met for its own people, and the
	// evidence states its own numbers. Histories from before it lack it.
	ByJurisdiction map[string]plandata.RegionReach `json:",omitempty"`
}

// Reach counts who was told and how, in all and per jurisdiction.
func (a *Activities) Reach(ctx context.Context, incidentID string) (ReachResult, error) {
	r, err := a.Store.ReachSummary(ctx, incidentID)
	if err != nil {
		return ReachResult{}, err
	}
	regions, err := a.Store.ReachByRegion(ctx, incidentID)
	if err != nil {
		return ReachResult{}, err
	}
	by := map[string]plandata.RegionReach{}
	for region, n := range regions {
		for _, j := range playbooks.JurisdictionsOf(region) {
			cur := by[j]
			cur.Reached += n.Reached
			cur.Unreached += n.Unreached
			cur.Withheld += n.Withheld
			by[j] = cur
		}
	}
	return ReachResult{Reach: r, ByJurisdiction: by}, nil
}

// WithholdInput names the regions whose residents legal waived every duty
// to tell (region codes, never people).
type WithholdInput struct {
	IncidentID string
	Regions    []string
}

// WithholdResult counts the people withheld.
type WithholdResult struct {
	Subjects int
}

// WithholdNotice takes those residents out of the campaign before it
// begins. Idempotent: a retry withholds the same people and counts them again.
func (a *Activities) WithholdNotice(ctx context.Context, in WithholdInput) (WithholdResult, error) {
	n, err := a.Store.WithholdNotice(ctx, in.IncidentID, in.Regions)
	return WithholdResult{Subjects: n}, err
}

// PublishInput publishes the approved announcement.
type PublishInput struct {
	IncidentID string
	Revision   int
	Unreached  int
	Reason     string
}

// PublishResult is where the announcement is.
type PublishResult struct {
	URL string
}

// PublishAnnouncement puts the approved announcement on Tocsin's public page
// and sends it to the press webhook. Both steps are keyed by incident.
func (a *Activities) PublishAnnouncement(ctx context.Context, in PublishInput) (PublishResult, error) {
	d, err := a.Store.GetDraft(ctx, in.IncidentID, "announcement", in.Revision)
	if err != nil {
		return PublishResult{}, err
	}
	if err := a.Store.PublishAnnouncement(ctx, store.Announcement{IncidentID: in.IncidentID, Revision: in.Revision, Unreached: in.Unreached, Reason: in.Reason}); err != nil {
		return PublishResult{}, err
	}
	url := strings.TrimSuffix(a.PublicURL, "/") + "/announcements/" + in.IncidentID
	drill, err := a.isDrill(ctx, in.IncidentID)
	if err != nil {
		return PublishResult{}, err
	}
	if drill { // the public never sees a drill: the sink does
		return PublishResult{URL: url}, a.Store.RecordDrillMessage(ctx, "announcement", store.DrillMessage{IncidentID: in.IncidentID,
			Channel: "announcement", To: "public", Title: d.Title, Body: d.Body})
	}
	if a.Announcer != nil {
		if err := a.Announcer.Announce(ctx, senders.Announcement{IncidentID: in.IncidentID, Title: d.Title, Body: d.Body, URL: url}); err != nil {
			return PublishResult{}, err
		}
	}
	return PublishResult{URL: url}, nil
}
