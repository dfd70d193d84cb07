package activities

import (
	"cmp"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/tocsin/tocsin/internal/channel"
	"github.com/tocsin/tocsin/internal/redact"
	"github.com/tocsin/tocsin/internal/senders"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/playbooks"
)

// DefaultStragglerAfter is how long a batch that a settling step follows
// waits on one provider call before it goes on without it. A provider that
// answers in milliseconds on a good day takes its whole timeout (Twilio's
// 15 s, a relay's 30 s) for a few percent of calls on a bad one: were the
// batch to wait for them, every batch would last as long as its slowest
// call, and the campaign would go at that pace.
const DefaultStragglerAfter = 3 * time.Second

func (a *Activities) stragglerAfter() time.Duration {
	return cmp.Or(a.StragglerAfter, DefaultStragglerAfter)
}

// callWatch times a provider call without the wait for its channel's rate
// limiter: pacing is not a provider that hangs.
type callWatch struct {
	mu     sync.Mutex
	since  time.Time // when the provider call began
	pacing bool      // waiting for a token: the call has not begun
}

func newCallWatch() *callWatch { return &callWatch{since: time.Now()} }

func (w *callWatch) Pacing() {
	w.mu.Lock()
	w.pacing = true
	w.mu.Unlock()
}

func (w *callWatch) Calling() {
	w.mu.Lock()
	w.pacing, w.since = false, time.Now()
	w.mu.Unlock()
}

// left is how much patience remains: patience itself while the call waits
// for a token.
func (w *callWatch) left(patience time.Duration) time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.pacing {
		return patience
	}
	return patience - time.Since(w.since)
}

type outcome struct {
	d   store.Delivery
	err error
}

// deliverOrGoOn delivers p, waiting for the provider at most the straggler
// patience when detach is set. A call still under way then goes on in the
// background, its claim marked straggling (and its lease kept) until its
// answer is recorded; went is true and the lane moves on. The call is then
// no longer cancelled with the batch's attempt: it ends with its
// provider's own timeout, as the claim's lease allows for.
func (a *Activities) deliverOrGoOn(ctx context.Context, drill bool, ln *lane, p planned, prior store.Delivery, interrupted, fresh, detach bool) (d store.Delivery, err error, went bool) {
	if !detach {
		if channel.Is(p.key.Channel, channel.AwaitsReceipt) {
			return a.deliverUntilReceipt(ctx, drill, ln, p, prior, interrupted, fresh)
		}
		d, err = a.deliver(ctx, drill, p, prior, interrupted)
		return d, err, false
	}
	callCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stopCancelling := context.AfterFunc(ctx, cancel)
	w, done := a.startCall(callCtx, drill, p, prior, interrupted)
	patience := a.stragglerAfter()
	for {
		wait := w.left(patience)
		if wait <= 0 {
			break
		}
		select {
		case o := <-done:
			stopCancelling()
			cancel()
			return o.d, o.err, false
		case <-time.After(wait):
		}
	}
	// Past its patience. If the attempt has ended meanwhile the call is
	// already being cancelled: wait for it as before.
	if !stopCancelling() {
		o := <-done
		cancel()
		return o.d, o.err, false
	}
	bg := context.WithoutCancel(ctx)
	marked, err := a.Store.MarkStraggling(bg, p.key, ln.owner)
	if err == nil && !marked && a.settledMeanwhile(bg, p.key) {
		// Its receipt came first: a provider that took the message and
		// never answered the request (Twilio's status callback names the
		// ledger's row). Nothing waits on the call's answer any more, and
		// every write of it is one the receipt's status wins over.
		go a.recordWhenAnswered(bg, ln.owner, p, done, cancel, fresh)
		return store.Delivery{}, nil, true
	}
	if err != nil || !marked {
		// Unmarked, the claim would be taken for the lane's own e-mail in
		// flight by a retry: wait for the call here instead.
		o := <-done
		cancel()
		return o.d, o.err, false
	}
	a.stragglers().add(p.key, ln.owner)
	go func() {
		o := <-done
		cancel()
		// Its lease stops being renewed before the answer is written: a
		// renewal after it would hold an unsent claim from the settling step.
		a.stragglers().remove(p.key)
		a.recordStraggler(bg, ln.owner, p, o, fresh)
	}()
	return store.Delivery{}, nil, true
}

// startCall delivers p on a goroutine of its own, timed by the returned
// watch; its outcome arrives on done.
func (a *Activities) startCall(ctx context.Context, drill bool, p planned, prior store.Delivery, interrupted bool) (w *callWatch, done <-chan outcome) {
	w = newCallWatch()
	out := make(chan outcome, 1)
	go func() {
		d, err := a.deliver(senders.WithCallWatch(ctx, w), drill, p, prior, interrupted)
		out <- outcome{d, err}
	}()
	return w, out
}

// receiptPoll is how often a lane that cannot go on past a hung call looks
// for the call's receipt.
const receiptPoll = 500 * time.Millisecond

// deliverUntilReceipt delivers p for a lane that waits for its calls (a
// settling step's), on a channel whose provider posts receipts. Past the
// straggler patience the lane still waits, but goes on once a receipt has
// settled the row: Twilio can create a text, post its status, and never
// answer the request, and its whole 15 s timeout would then hold up the
// last links of a chain of sends in doubt. The late answer is recorded as
// a straggler's, and every write of it yields to the receipt's status.
func (a *Activities) deliverUntilReceipt(ctx context.Context, drill bool, ln *lane, p planned, prior store.Delivery, interrupted, fresh bool) (store.Delivery, error, bool) {
	callCtx, cancel := context.WithCancel(ctx)
	w, done := a.startCall(callCtx, drill, p, prior, interrupted)
	patience := a.stragglerAfter()
	for {
		wait := w.left(patience)
		if wait <= 0 {
			if a.settledMeanwhile(ctx, p.key) {
				go a.recordWhenAnswered(context.WithoutCancel(ctx), ln.owner, p, done, cancel, fresh)
				return store.Delivery{}, nil, true
			}
			wait = receiptPoll
		}
		select {
		case o := <-done:
			cancel()
			return o.d, o.err, false
		case <-time.After(wait):
		}
	}
}

// recordWhenAnswered waits for the answer to a call whose receipt settled
// its row before it, ends the call's context and records the answer as a
// straggler's (every write of it yields to the receipt's status).
func (a *Activities) recordWhenAnswered(ctx context.Context, owner string, p planned, done <-chan outcome, cancel context.CancelFunc, fresh bool) {
	o := <-done
	cancel()
	a.recordStraggler(ctx, owner, p, o, fresh)
}

// settledMeanwhile says whether d's row is no longer sending: a receipt
// settled it while its call was under way. A row it cannot read is not.
func (a *Activities) settledMeanwhile(ctx context.Context, d store.Delivery) bool {
	now, err := a.Store.GetDelivery(ctx, d.IncidentID, d.SubjectID, d.Channel)
	return err == nil && now.Status != store.StatusSending
}

// recordStraggler writes a late call's answer as its lane would have: sent,
// in doubt (held for the settling step to ask about), or certainly not
// sent (left for the settling step to send afresh). Were this to fail, the
// claim's lease lapses and the settling step takes it for in doubt.
func (a *Activities) recordStraggler(ctx context.Context, owner string, p planned, o outcome, fresh bool) {
	var err error
	switch {
	case o.err == nil:
		err = a.Store.FinishDeliveries(ctx, []store.Delivery{o.d})
	case senders.NotSent(o.err) && fresh:
		err = a.Store.MarkUnsent(ctx, []store.Delivery{p.key}, owner)
	default:
		err = a.leaveInDoubt(ctx, []store.Delivery{p.key}, owner)
	}
	if err != nil {
		logger(a).Warn("late send not recorded; its claim lapses into doubt", "incident", p.key.IncidentID, "subject", p.key.SubjectID, "channel", p.key.Channel, "reason", redact.Text(err.Error()))
	}
}

// stragglerSet keeps the leases of the claims whose calls went on past
// their batch: the batch's own keeper stops with its attempt.
type stragglerSet struct {
	a       *Activities
	mu      sync.Mutex
	owners  map[[3]string]string
	running bool
}

func (a *Activities) stragglers() *stragglerSet {
	a.stragglersOnce.Do(func() { a.late = &stragglerSet{a: a, owners: map[[3]string]string{}} })
	return a.late
}

func key3(d store.Delivery) [3]string { return [3]string{d.IncidentID, d.SubjectID, d.Channel} }

func (s *stragglerSet) add(d store.Delivery, owner string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.owners[key3(d)] = owner
	if !s.running {
		s.running = true
		go s.renew()
	}
}

func (s *stragglerSet) remove(d store.Delivery) {
	s.mu.Lock()
	delete(s.owners, key3(d))
	s.mu.Unlock()
}

// renew extends the leases of the calls still under way, until none is.
func (s *stragglerSet) renew() {
	t := time.NewTicker(renewEvery)
	defer t.Stop()
	for range t.C {
		s.mu.Lock()
		if len(s.owners) == 0 {
			s.running = false
			s.mu.Unlock()
			return
		}
		byOwner := map[string][]store.Delivery{}
		for k, owner := range s.owners {
			byOwner[owner] = append(byOwner[owner], store.Delivery{IncidentID: k[0], SubjectID: k[1], Channel: k[2]})
		}
		s.mu.Unlock()
		renewHeld(context.Background(), s.a.Store, byOwner)
	}
}

// stragglersLeft is how many provider calls are still under way past
// their batch.
func (a *Activities) stragglersLeft() int {
	s := a.stragglers()
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.owners)
}

// settlePage is how many unsettled sends SettleRung reads and finishes at a
// time.
const settlePage = 500

// SettleRung finishes a rung's sends over a range that its batches left
// unsettled: calls still under way past their batch (awaited while their
// worker keeps their lease), sends in doubt (held, then asked about or sent
// again under their key, as a batch's own rounds would), late calls that
// came back refused (sent afresh) and claims a dead worker left. It runs
// after the rung's batches and before the rung is resolved, so that
// nobody is moved down the ladder, or left off it, for a send whose
// outcome is still unknown.
func (a *Activities) SettleRung(ctx context.Context, in BatchInput) (BatchResult, error) {
	defer keepAlive(ctx)()
	var res BatchResult
	drill, err := a.isDrill(ctx, in.IncidentID)
	if err != nil {
		return res, err
	}
	pause := &pauseWatch{a: a, incidentID: in.IncidentID}
	in.Quiet = playbooks.Quiet{} // claimed while the person could be called
	for pass := 1; ; pass++ {
		rows, err := a.Store.RangeDeliveries(ctx, in.IncidentID, in.Rung, in.Range, store.StatusSending)
		if err != nil || len(rows) == 0 {
			return res, err
		}
		if pass > settlePasses {
			// Left by a takeover another attempt won, or claimed meanwhile
			// by an attempt Temporal had already given up on: Temporal
			// retries the step, and the rung waits.
			return res, fmt.Errorf("settle rung %d: %d sends still unsettled after %d passes", in.Rung, len(rows), settlePasses)
		}
		if pass > 1 {
			logger(a).Warn("sends still unsettled after a pass; settling again", "incident", in.IncidentID, "rung", in.Rung, "sends", len(rows), "pass", pass)
		}
		if err := a.settleRows(ctx, in, drill, rows, &res, pause); err != nil {
			return res, err
		}
	}
}

// settlePasses is how many times SettleRung reads what is still unsettled
// and finishes it before it fails for Temporal to retry.
const settlePasses = 5

// settlePagesAtOnce is how many pages SettleRung sends at once. Each page
// lasts as long as its slowest send (a relay's 30 s on a hung session, a
// resend that hangs again): one after another, a rung of a few thousand
// sends in doubt settled for a minute and a half.
const settlePagesAtOnce = 8

// settleRows finishes rows a page at a time, settlePagesAtOnce pages at
// once. It plans each page before it starts sending it; after a page
// fails it starts no more, and returns the first page's error that failed.
func (a *Activities) settleRows(ctx context.Context, in BatchInput, drill bool, rows []store.Delivery, res *BatchResult, pause *pauseWatch) error {
	owner := attemptOwner(ctx)
	var (
		wg     sync.WaitGroup
		slots  = make(chan struct{}, settlePagesAtOnce)
		mu     sync.Mutex
		failed bool
		errs   []error
		sent   []BatchResult
	)
	defer wg.Wait()
	for n := 0; len(rows) > 0; n++ {
		page := rows[:min(settlePage, len(rows))]
		rows = rows[len(page):]
		// A subject's rows are kept on one page.
		for len(rows) > 0 && rows[0].SubjectID == page[len(page)-1].SubjectID {
			page, rows = append(page, rows[0]), rows[1:]
		}
		only := map[[2]string]bool{}
		var ids []string
		for _, d := range page {
			if len(ids) == 0 || ids[len(ids)-1] != d.SubjectID {
				ids = append(ids, d.SubjectID)
			}
			only[[2]string{d.SubjectID, d.Channel}] = true
		}
		recipients, err := a.Store.RecipientsOf(ctx, in.IncidentID, ids)
		if err != nil {
			return err
		}
		plan, _, _, err := a.planSends(ctx, in, recipients, drill, only, res)
		if err != nil {
			return err
		}
		if len(plan) < len(page) {
			logger(a).Warn("unsettled sends the settling step cannot plan", "incident", in.IncidentID, "rung", in.Rung, "rows", len(page), "planned", len(plan))
		}
		if err := a.personalize(ctx, in.IncidentID, plan); err != nil {
			return err
		}
		slots <- struct{}{}
		mu.Lock()
		stop := failed
		errs, sent = append(errs, nil), append(sent, BatchResult{})
		mu.Unlock()
		if stop {
			<-slots
			break
		}
		// Each page's lanes are owners of their own: a lane's owner has
		// at most one e-mail in flight, which is how a retry tells which
		// of a dead lane's e-mails may have gone out.
		wg.Go(func() {
			defer func() { <-slots }()
			var r BatchResult
			err := a.sendPlanAs(ctx, fmt.Sprintf("%s/p%d", owner, n), drill, in.IncidentID, plan, &r, pause, false)
			mu.Lock()
			defer mu.Unlock()
			errs[n], sent[n] = err, r
			failed = failed || err != nil
		})
	}
	wg.Wait()
	for _, r := range sent {
		res.Attempts += r.Attempts
		res.Failed += r.Failed
		res.Recovered += r.Recovered
	}
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
