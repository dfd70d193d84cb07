package activities

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/plandata"
	"github.com/tocsin/tocsin/internal/senders"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/store/storetest"
)

// lateSender holds the first send to one subject until release is closed,
// then sends it (fail nil) or answers fail instead; later sends go through.
type lateSender struct {
	inner   senders.Sender
	stall   string
	release chan struct{}
	fail    error
	calls   *atomic.Int32
}

func (s lateSender) Send(ctx context.Context, m senders.Message) (senders.Result, error) {
	if m.SubjectID == s.stall && (s.calls == nil || s.calls.Add(1) == 1) {
		<-s.release
		if s.fail != nil {
			return senders.Result{}, s.fail
		}
	}
	return s.inner.Send(ctx, m)
}

func settleLater(channels ...string) BatchInput {
	in := batch(channels...)
	in.SettleLater = true
	return in
}

// A batch that a settling step follows goes on past a call that hangs: it
// ends with the others told and the late call still under way, its claim
// marked and kept. The rung's settling step waits for that call's own
// answer rather than sending the notice again.
func TestABatchEndsWithoutItsHungCallAndTheRungWaitsForIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := newCampaignOf(t, s, emailOnly(6), nil, 0)
		c.acts.StragglerAfter = 100 * time.Millisecond
		release := make(chan struct{})
		c.acts.Senders["email"] = lateSender{inner: c.mail, stall: "u1", release: release}

		res, err := c.acts.SendBatch(ctx, settleLater("email"))
		require.NoError(t, err, "the batch ends while u1's call hangs")
		require.Equal(t, 6, res.Attempts)
		tally, _, err := c.outbox.Tally(ctx, "INC-N")
		require.NoError(t, err)
		require.Len(t, tally, 5)
		u1, err := s.GetDelivery(ctx, "INC-N", "u1", "email")
		require.NoError(t, err)
		require.Equal(t, store.StatusSending, u1.Status)
		require.Equal(t, store.DoubtStraggling, u1.Doubt)
		counts, _, _, err := s.CampaignCounts(ctx, "INC-N")
		require.NoError(t, err)
		require.Equal(t, 1, counts["email"].Unknown, "shown as in doubt while it is")

		settled := make(chan error, 1)
		go func() {
			_, err := c.acts.SettleRung(ctx, settleLater("email"))
			settled <- err
		}()
		close(release)
		require.NoError(t, <-settled)
		u1, err = s.GetDelivery(ctx, "INC-N", "u1", "email")
		require.NoError(t, err)
		require.Equal(t, store.StatusAccepted, u1.Status)
		require.Empty(t, u1.Doubt, "its own answer settled it: not sent again")
		tally, repeats, err := c.outbox.Tally(ctx, "INC-N")
		require.NoError(t, err)
		require.Len(t, tally, 6)
		require.Zero(t, repeats)
		require.Eventually(t, func() bool { return c.acts.stragglersLeft() == 0 }, 5*time.Second, 10*time.Millisecond)
	})
}

// A late call's answer decides how the rung settles it: one that timed out
// may have gone out, and is sent again and owned up to as possibly twice;
// one the provider refused went nowhere, and is sent afresh with nothing
// to own up to.
func TestALateCallIsSettledByWhatItsProviderAnswered(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fail  error
		doubt string
		twice int
	}{
		{"timed out", errors.New("i/o timeout after DATA"), store.DoubtResent, 1},
		{"refused", &senders.NotSentError{Err: errors.New("451 try again later")}, "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := storetest.Open(t, "sqlite")
			ctx := context.Background()
			c := newCampaignOf(t, s, emailOnly(3), nil, 0)
			c.acts.StragglerAfter = 100 * time.Millisecond
			release := make(chan struct{})
			c.acts.Senders["email"] = lateSender{inner: c.mail, stall: "u2", release: release, fail: tc.fail}
			_, err := c.acts.SendBatch(ctx, settleLater("email"))
			require.NoError(t, err)
			close(release)
			require.Eventually(t, func() bool { return c.acts.stragglersLeft() == 0 }, 5*time.Second, 10*time.Millisecond)
			c.acts.Senders["email"] = c.mail

			_, err = c.acts.SettleRung(ctx, settleLater("email"))
			require.NoError(t, err)
			rows, err := s.RangeDeliveries(ctx, "INC-N", 1, plandata.Range{}, store.StatusSending)
			require.NoError(t, err)
			require.Empty(t, rows, "nothing is left unsettled")
			u2, err := s.GetDelivery(ctx, "INC-N", "u2", "email")
			require.NoError(t, err)
			require.Equal(t, store.StatusAccepted, u2.Status)
			require.Equal(t, tc.doubt, u2.Doubt)
			counts, _, _, err := s.CampaignCounts(ctx, "INC-N")
			require.NoError(t, err)
			require.Equal(t, store.ChannelCounts{Delivered: 3, PossiblyTwice: tc.twice}, counts["email"])
			tally, _, err := c.outbox.Tally(ctx, "INC-N")
			require.NoError(t, err)
			require.Len(t, tally, 3, "everyone is told")
		})
	}
}

// A worker that died with a call under way past its batch leaves the claim
// marked straggling; once its lease lapses the rung's settling step takes
// it for in doubt: Twilio is asked, and the text it already has is not
// sent again.
func TestALateCallOfADeadWorkerIsAskedAboutNotSentAgain(t *testing.T) {
	s := storetest.Open(t, "sqlite")
	ctx := context.Background()
	c := newCampaign(t, s)
	d, err := s.GetDraft(ctx, "INC-N", "notice-en", 1)
	require.NoError(t, err)
	claim := store.Delivery{IncidentID: "INC-N", SubjectID: "u2", Channel: "sms", Rung: 1, Draft: "notice-en@1"}
	_, err = s.ClaimDeliveries(ctx, []store.Delivery{claim}, store.Lease{Owner: "dead#1/0", Until: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	marked, err := s.MarkStraggling(ctx, claim, "dead#1/0")
	require.NoError(t, err)
	require.True(t, marked)
	_, err = c.sms.Send(ctx, message("INC-N", store.Recipient{SubjectID: "u2"}, "sms", "+8613800000002", "en", d))
	require.NoError(t, err)
	require.NoError(t, s.RenewLeases(ctx, []store.Delivery{claim}, store.Lease{Owner: "dead#1/0", Until: time.Now()}), "the dead worker's lease lapses")

	_, err = c.acts.SettleRung(ctx, settleLater("sms"))
	require.NoError(t, err)
	u2, err := s.GetDelivery(ctx, "INC-N", "u2", "sms")
	require.NoError(t, err)
	require.Equal(t, store.DoubtFound, u2.Doubt)
	tally, _, err := c.outbox.Tally(ctx, "INC-N")
	require.NoError(t, err)
	require.Equal(t, map[[2]string]int{{"u2", "sms"}: 1}, tally, "one text; the settling step sends only what the batch left")
}

// A batch a settling step follows does not wait on a claim another attempt
// still holds (a pass ahead of the campaign, a retry's predecessor): it
// leaves it to the rung's settling step, which waits for the lease and
// then finishes it.
func TestABatchLeavesAnotherAttemptsLiveClaimToTheSettlingStep(t *testing.T) {
	s := storetest.Open(t, "sqlite")
	ctx := context.Background()
	c := newCampaignOf(t, s, emailOnly(3), nil, 0)
	claim := store.Delivery{IncidentID: "INC-N", SubjectID: "u2", Channel: "email", Rung: 1, Draft: "notice-en@1"}
	_, err := s.ClaimDeliveries(ctx, []store.Delivery{claim}, store.Lease{Owner: "ahead#1/0", Until: time.Now().Add(time.Hour)})
	require.NoError(t, err)

	res, err := c.acts.SendBatch(ctx, settleLater("email"))
	require.NoError(t, err, "the batch ends without waiting an hour for u2's lease")
	require.Equal(t, 2, res.Attempts)
	u2, err := s.GetDelivery(ctx, "INC-N", "u2", "email")
	require.NoError(t, err)
	require.Equal(t, store.StatusSending, u2.Status, "still the other attempt's")

	require.NoError(t, s.RenewLeases(ctx, []store.Delivery{claim}, store.Lease{Owner: "ahead#1/0", Until: time.Now()}), "that attempt died")
	_, err = c.acts.SettleRung(ctx, settleLater("email"))
	require.NoError(t, err)
	u2, err = s.GetDelivery(ctx, "INC-N", "u2", "email")
	require.NoError(t, err)
	require.Equal(t, store.StatusAccepted, u2.Status)
	tally, _, err := c.outbox.Tally(ctx, "INC-N")
	require.NoError(t, err)
	require.Len(t, tally, 3)
}

// hookSender runs hook once, before the first send to subject on.
type hookSender struct {
	inner senders.Sender
	on    string
	hook  func()
	once  *sync.Once
}

func (s hookSender) Send(ctx context.Context, m senders.Message) (senders.Result, error) {
	if m.SubjectID == s.on {
		s.once.Do(s.hook)
	}
	return s.inner.Send(ctx, m)
}

// A claim made while the settling step runs (an attempt Temporal had given
// up on, still sending) is found by the step's next read and finished:
// the rung never resolves past a send still unsettled.
func TestTheSettlingStepReadsAgainUntilNothingIsLeft(t *testing.T) {
	s := storetest.Open(t, "sqlite")
	ctx := context.Background()
	c := newCampaignOf(t, s, emailOnly(3), nil, 0)
	claim := func(id, owner string) {
		_, err := s.ClaimDeliveries(ctx, []store.Delivery{{IncidentID: "INC-N", SubjectID: id, Channel: "email", Rung: 1, Draft: "notice-en@1"}}, store.Lease{Owner: owner, Until: time.Now()})
		require.NoError(t, err)
	}
	claim("u1", "dead#1/0")
	c.acts.Senders["email"] = hookSender{inner: c.mail, on: "u1", once: new(sync.Once), hook: func() { claim("u3", "zombie#1/0") }}

	_, err := c.acts.SettleRung(ctx, settleLater("email"))
	require.NoError(t, err)
	rows, err := s.RangeDeliveries(ctx, "INC-N", 1, plandata.Range{}, store.StatusSending)
	require.NoError(t, err)
	require.Empty(t, rows, "nothing is left sending")
	tally, _, err := c.outbox.Tally(ctx, "INC-N")
	require.NoError(t, err)
	require.Equal(t, map[[2]string]int{{"u1", "email"}: 1, {"u3", "email"}: 1}, tally)
}

// slowToken is a rate limiter whose every token takes wait.
type slowToken struct{ wait time.Duration }

func (l slowToken) Wait(ctx context.Context) error {
	select {
	case <-time.After(l.wait):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Waiting for a paced channel's token is pacing, not a provider that
// hangs: a batch does not go on without such a send, which would only
// move the wait into the background.
func TestAWaitForARateTokenIsNotAHungCall(t *testing.T) {
	s := storetest.Open(t, "sqlite")
	ctx := context.Background()
	c := newCampaignOf(t, s, emailOnly(2), nil, 0)
	c.acts.StragglerAfter = time.Second // far above a local relay's answer, far below the token's wait
	c.acts.Senders["email"] = senders.Paced{Sender: c.mail, Limiter: slowToken{wait: 2500 * time.Millisecond}}
	_, err := c.acts.SendBatch(ctx, settleLater("email"))
	require.NoError(t, err)
	counts, _, _, err := s.CampaignCounts(ctx, "INC-N")
	require.NoError(t, err)
	require.Equal(t, store.ChannelCounts{Delivered: 2}, counts["email"], "both sent by the batch itself, none left under way")
}

// The next rung's pass ahead of a settling rung texts only the people that
// rung can no longer reach: u2, whose e-mail failed, and u4, who has no
// address. u1's e-mail was accepted and u3's is still under way: they wait
// for the rung's resolution. The rung's own pass after it texts u3, whose
// e-mail failed in the end, and nobody twice.
func TestAPassAheadTextsOnlyThoseTheSettlingRungCannotReach(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := newCampaignOf(t, s, "subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems\n"+
			"u1,Ann,ann@example.com,+14155550101,,en,SG,1980,crm\n"+
			"u2,Bo,bo@example.com,+14155550102,,en,SG,1990,crm\n"+
			"u3,Cy,cy@example.com,+14155550103,,en,SG,1990,crm\n"+
			"u4,Di,,+14155550104,,en,SG,1990,crm\n", nil, 0)
		mail := func(subject string) store.Delivery {
			return store.Delivery{IncidentID: "INC-N", SubjectID: subject, Channel: "email", Rung: 1}
		}
		_, err := s.ClaimDeliveries(ctx, []store.Delivery{mail("u1"), mail("u2"), mail("u3")}, store.Lease{Owner: "rung-1", Until: time.Now().Add(time.Minute)})
		require.NoError(t, err)
		accepted, failed := mail("u1"), mail("u2")
		accepted.Status, failed.Status = store.StatusAccepted, store.StatusFailed
		require.NoError(t, s.FinishDeliveries(ctx, []store.Delivery{accepted, failed}))

		texts := func() []string {
			tally, repeats, err := c.outbox.Tally(ctx, "INC-N")
			require.NoError(t, err)
			require.Zero(t, repeats, "nobody is texted twice")
			var out []string
			for k := range tally {
				if k[1] == "sms" {
					out = append(out, k[0])
				}
			}
			slices.Sort(out)
			return out
		}
		split, err := c.acts.SplitRange(ctx, SplitInput{IncidentID: "INC-N", Size: 10, Unreached: true, MovedOn: 1})
		require.NoError(t, err)
		require.Equal(t, 2, split.Subjects, "the pass ahead is sized to u2 and u4")
		ahead := settleLater("sms")
		ahead.Rung, ahead.WhileSettling = 2, 1
		res, err := c.acts.SendBatch(ctx, ahead)
		require.NoError(t, err)
		require.Equal(t, 2, res.Attempts)
		require.Equal(t, []string{"u2", "u4"}, texts())

		late := mail("u3")
		late.Status = store.StatusFailed
		require.NoError(t, s.FinishDeliveries(ctx, []store.Delivery{late}))
		reached, err := c.acts.ResolveRung(ctx, ResolveInput{IncidentID: "INC-N", Rung: 1, Channels: []string{"email"}})
		require.NoError(t, err)
		require.Equal(t, 1, reached.Reached)
		own := settleLater("sms")
		own.Rung = 2
		res, err = c.acts.SendBatch(ctx, own)
		require.NoError(t, err)
		require.Equal(t, 1, res.Attempts, "only u3 is new to the rung's own pass")
		require.Equal(t, []string{"u2", "u3", "u4"}, texts())
	})
}

// A batch that left out a held channel's sends ends for Temporal to retry
// them, even when another batch lifted the hold while this one ran: ending
// well would leave those people without their e-mail, and the rung's
// resolution would move them down the ladder as if the e-mail had failed.
func TestABatchRetriesTheSendsOfAHoldLiftedWhileItRan(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := newCampaignOf(t, s, "subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems\n"+
			"u1,Ann,ann@example.com,+14155550101,,en,SG,1980,crm\n"+
			"u2,Bo,bo@example.com,+14155550102,,en,SG,1990,crm\n", nil, 0)
		_, began, err := s.HoldChannel(ctx, "email", "smtp: 535 authentication failed", time.Now(), false)
		require.NoError(t, err)
		require.True(t, began)
		c.acts.Senders["sms"] = hookSender{inner: c.sms, on: "u1", once: &sync.Once{}, hook: func() {
			_, _, err := s.LiftHold(ctx, "email") // another batch's probe was accepted
			require.NoError(t, err)
		}}
		_, err = c.acts.SendBatch(ctx, batch("email", "sms"))
		require.Error(t, err, "the e-mails left out are sent by the retry, not written off")
		for _, subject := range []string{"u1", "u2"} {
			_, err := s.GetDelivery(ctx, "INC-N", subject, "email")
			require.Error(t, err, "%s's e-mail was never claimed", subject)
		}
		res, err := c.acts.SendBatch(ctx, batch("email", "sms"))
		require.NoError(t, err)
		require.Equal(t, 2, res.Attempts, "the retry sends the two e-mails; the texts went out")
		tally, repeats, err := c.outbox.Tally(ctx, "INC-N")
		require.NoError(t, err)
		require.Len(t, tally, 4)
		require.Zero(t, repeats)
	})
}

// A settling step's pages do not wait for each other: a resend that hangs
// holds up its own page, and the sends in doubt on the pages after it are
// settled meanwhile.
func TestASettlingStepsHungSendHoldsUpOnlyItsOwnPage(t *testing.T) {
	s := storetest.Open(t, "sqlite")
	ctx := context.Background()
	const people = 2*settlePage + 100
	c := newCampaignOf(t, s, emailOnly(people), nil, 0)
	keys := make([]store.Delivery, people)
	for i := range keys {
		keys[i] = store.Delivery{IncidentID: "INC-N", SubjectID: fmt.Sprintf("u%d", i+1), Channel: "email", Rung: 1, Draft: "notice-en@1"}
	}
	// Claims a dead worker left: every one of them is settled by the step.
	_, err := s.ClaimDeliveries(ctx, keys, store.Lease{Owner: "dead#1/0", Until: time.Now()})
	require.NoError(t, err)
	release := make(chan struct{})
	c.acts.Senders["email"] = stallingSender{inner: c.mail, stall: "u1", release: release} // on the first page
	settled := make(chan error, 1)
	go func() {
		_, err := c.acts.SettleRung(ctx, settleLater("email"))
		settled <- err
	}()
	// The step reads its rows in subject order, a page at a time.
	ids := make([]string, people)
	for i, k := range keys {
		ids[i] = k.SubjectID
	}
	slices.Sort(ids)
	require.Eventually(t, func() bool {
		tally, _, err := c.outbox.Tally(ctx, "INC-N")
		if err != nil {
			return false
		}
		for _, id := range ids[settlePage:] {
			if tally[[2]string{id, "email"}] == 0 {
				return false
			}
		}
		return true
	}, 20*time.Second, 50*time.Millisecond, "the later pages are told while u1's resend hangs on the first")
	close(release)
	require.NoError(t, <-settled)
	tally, repeats, err := c.outbox.Tally(ctx, "INC-N")
	require.NoError(t, err)
	require.Len(t, tally, people)
	require.Zero(t, repeats)
	rows, err := s.RangeDeliveries(ctx, "INC-N", 1, plandata.Range{}, store.StatusSending)
	require.NoError(t, err)
	require.Empty(t, rows, "nothing is left sending")
}

// receiptFirstSender is a provider that takes the message to one subject
// and posts its receipt, then never answers the request until release is
// closed (a Twilio request that timed out after the message was created).
type receiptFirstSender struct {
	inner    senders.Sender
	store    *store.Store
	on       string
	release  chan struct{}
	answered chan struct{} // closed as the late answer is given
}

func (s receiptFirstSender) Send(ctx context.Context, m senders.Message) (senders.Result, error) {
	r, err := s.inner.Send(ctx, m)
	if err != nil || m.SubjectID != s.on {
		return r, err
	}
	// What the status webhook does with the ledger key its URL carries.
	d, err := s.store.GetDelivery(ctx, m.IncidentID, m.SubjectID, "sms")
	if err != nil {
		return senders.Result{}, err
	}
	d.ProviderRef, d.Status = r.Ref, store.StatusSent
	if err := s.store.FinishDelivery(ctx, d); err != nil {
		return senders.Result{}, err
	}
	<-s.release
	close(s.answered)
	return senders.Result{}, context.DeadlineExceeded
}

// receiptFirst runs step with u2's text taken, its receipt posted and its
// request left unanswered (receiptFirstSender): the step must end within
// 10 s, without the answer. It returns once the late answer is given.
func receiptFirst(t *testing.T, c *campaign, s *store.Store, who string, step func() error) {
	t.Helper()
	release := make(chan struct{})
	answered := make(chan struct{})
	c.acts.Senders["sms"] = receiptFirstSender{inner: c.sms, store: s, on: "u2", release: release, answered: answered}
	done := make(chan error, 1)
	go func() { done <- step() }()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		close(release)
		t.Fatalf("%s waited for a call its receipt had already settled", who)
	}
	close(release)
	<-answered
}

// A call whose receipt came before its answer holds up nobody: the batch
// goes on past it, and its late timeout does not put in doubt a text the
// receipt says was sent.
func TestACallWhoseReceiptCameFirstIsNotWaitedFor(t *testing.T) {
	s := storetest.Open(t, "sqlite")
	ctx := context.Background()
	c := newCampaign(t, s)
	c.acts.StragglerAfter = 100 * time.Millisecond
	receiptFirst(t, c, s, "the batch", func() error {
		_, err := c.acts.SendBatch(ctx, settleLater("sms"))
		return err
	})
	require.Never(t, func() bool {
		u2, err := s.GetDelivery(ctx, "INC-N", "u2", "sms")
		return err != nil || u2.Doubt != ""
	}, 300*time.Millisecond, 20*time.Millisecond, "its late timeout puts nothing in doubt")
	u2, err := s.GetDelivery(ctx, "INC-N", "u2", "sms")
	require.NoError(t, err)
	require.Equal(t, store.StatusSent, u2.Status)
	require.Empty(t, u2.Doubt, "the receipt said sent: not in doubt for its late timeout")
	_, err = c.acts.SettleRung(ctx, settleLater("sms"))
	require.NoError(t, err)
	tally, _, err := c.outbox.Tally(ctx, "INC-N")
	require.NoError(t, err)
	require.Equal(t, 1, tally[[2]string{"u2", "sms"}], "texted once")
	require.Equal(t, 1, tally[[2]string{"u3", "sms"}])
}

// A settling step waits for its calls, but not for one whose receipt came
// first: the resend's receipt settles the text, and the step ends without
// waiting out the request Twilio never answers.
func TestASettlingStepGoesOnPastACallItsReceiptSettled(t *testing.T) {
	s := storetest.Open(t, "sqlite")
	ctx := context.Background()
	c := newCampaign(t, s)
	c.acts.StragglerAfter = 100 * time.Millisecond
	// A claim a dead worker left: the step asks about it and texts again.
	_, err := s.ClaimDeliveries(ctx, []store.Delivery{{IncidentID: "INC-N", SubjectID: "u2", Channel: "sms", Rung: 1, Draft: "notice-en@1"}},
		store.Lease{Owner: "dead#1/0", Until: time.Now()})
	require.NoError(t, err)
	receiptFirst(t, c, s, "the settling step", func() error {
		_, err := c.acts.SettleRung(ctx, settleLater("sms"))
		return err
	})
	require.Never(t, func() bool {
		u2, err := s.GetDelivery(ctx, "INC-N", "u2", "sms")
		return err != nil || u2.Status != store.StatusSent
	}, 300*time.Millisecond, 20*time.Millisecond, "its late timeout leaves the receipt's status")
	tally, repeats, err := c.outbox.Tally(ctx, "INC-N")
	require.NoError(t, err)
	require.Equal(t, 1, tally[[2]string{"u2", "sms"}], "texted once by the step")
	require.Zero(t, repeats)
}

// timeoutSender notes the call timeout each subject's send was asked to
// keep (senders.WithCallTimeout).
type timeoutSender struct {
	inner senders.Sender
	mu    *sync.Mutex
	got   map[string]time.Duration
}

func (s timeoutSender) Send(ctx context.Context, m senders.Message) (senders.Result, error) {
	s.mu.Lock()
	s.got[m.SubjectID] = senders.CallTimeout(ctx)
	s.mu.Unlock()
	return s.inner.Send(ctx, m)
}

// The resend of an e-mail in doubt waits for the relay ResendTimeout, not
// the sender's whole 30 s: its first send already hung once. A first send
// keeps the sender's own timeout.
func TestAnEmailResentAfterItsSendWasInterruptedWaitsLessForTheRelay(t *testing.T) {
	s := storetest.Open(t, "sqlite")
	ctx := context.Background()
	c := newCampaignOf(t, s, emailOnly(3), nil, 0)
	c.acts.ResendTimeout = 4 * time.Second
	// A dead worker's lane claimed u1's e-mail, and may have sent it.
	_, err := s.ClaimDeliveries(ctx, []store.Delivery{{IncidentID: "INC-N", SubjectID: "u1", Channel: "email", Rung: 1, Draft: "notice-en@1"}},
		store.Lease{Owner: "dead#1/0", Until: time.Now()})
	require.NoError(t, err)
	ts := timeoutSender{inner: c.mail, mu: &sync.Mutex{}, got: map[string]time.Duration{}}
	c.acts.Senders["email"] = ts
	_, err = c.acts.SendBatch(ctx, batch("email"))
	require.NoError(t, err)
	require.Equal(t, map[string]time.Duration{"u1": 4 * time.Second, "u2": 0, "u3": 0}, ts.got)
	u1, err := s.GetDelivery(ctx, "INC-N", "u1", "email")
	require.NoError(t, err)
	require.Equal(t, store.DoubtResent, u1.Doubt, "sent again, and says so")
}
