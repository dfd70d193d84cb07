package activities

import (
	"github.com/tocsin/tocsin/internal/plandata"

	"context"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/devtools/devpeers"
	"github.com/tocsin/tocsin/internal/senders"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/store/storetest"
)

func faults(t *testing.T, spec string) *devpeers.Faults {
	t.Helper()
	f, err := devpeers.ParseFaults(spec, 7)
	require.NoError(t, err)
	return f
}

// Each fault of a provider, met by a batch and its retry: the retry sends
// what certainly did not go out, asks Twilio about what may have, and
// sends again under the same key only where the provider has no way to be
// asked, saying so in the ledger. Nobody gets a second text, call or
// on-site notice; a second e-mail only where the ledger says "resent".
func TestEveryProviderFaultIsSettledWithoutASecondNotice(t *testing.T) {
	cases := []struct {
		spec, channel string
		// settled: the attempt itself settles what it left in doubt (the
		// fault spares the lookup); otherwise it ends for a retry.
		settled bool
		// inDoubt: the first attempt cannot know whether it was sent.
		inDoubt bool
		// doubt is what the ledger settles each row as.
		doubt string
	}{
		{"twilio.accept_then_timeout=1", "sms", true, true, store.DoubtFound},
		{"twilio.accept_then_timeout=1", "voice", true, true, store.DoubtFound},
		{"twilio.status_500=1", "sms", false, true, store.DoubtResent},
		{"twilio.reset=1", "sms", false, true, store.DoubtResent},
		{"smtp.tempfail=1", "email", false, false, ""},
		{"smtp.accept_then_drop=1", "email", false, true, store.DoubtResent},
		{"smtp.latency=3s@1", "email", false, true, store.DoubtResent}, // past the sender's 1 s
		{"onsite.status_503=1", "onsite", false, true, store.DoubtResent},
		{"onsite.reset=1", "onsite", false, true, store.DoubtResent},
	}
	for _, tc := range cases {
		t.Run(tc.spec+"/"+tc.channel, func(t *testing.T) {
			ctx := context.Background()
			s := storetest.Open(t, "sqlite")
			f := faults(t, tc.spec)
			c := newFaultyCampaign(t, s, f, time.Second)
			_, err := c.acts.SendBatch(ctx, batch(tc.channel))
			if !tc.settled {
				require.Error(t, err, "the provider failed the first attempt")
				rows, err := s.RangeDeliveries(ctx, "INC-N", 1, plandata.Range{})
				require.NoError(t, err)
				if tc.inDoubt {
					require.NotEmpty(t, rows)
					for _, d := range rows {
						require.Equal(t, store.StatusSending, d.Status, "a send that may have gone out stays claimed")
						require.Equal(t, store.DoubtInterrupted, d.Doubt)
					}
				} else {
					require.Empty(t, rows, "a refusal the provider answered holds no claim")
				}
				// The provider recovers; Temporal retries the batch.
				c.twilio.Faults.Stop() // the three peers share the profile
				require.Eventually(t, func() bool {
					_, err = c.acts.SendBatch(ctx, batch(tc.channel))
					return err == nil
				}, 10*time.Second, 100*time.Millisecond, "%v", err)
			} else {
				require.NoError(t, err, "the send in doubt was found at the provider before the attempt ended")
			}
			rows, err := s.RangeDeliveries(ctx, "INC-N", 1, plandata.Range{})
			require.NoError(t, err)
			require.NotEmpty(t, rows)
			resent := map[[2]string]int{}
			for _, d := range rows {
				require.NotEqual(t, store.StatusSending, d.Status, "every claim is settled")
				require.Equal(t, tc.doubt, d.Doubt, "how the interrupted send was settled")
				if d.Doubt == store.DoubtResent && d.Channel == "email" {
					resent[[2]string{d.SubjectID, d.Channel}] = 1
				}
			}
			tally, _, err := c.outbox.Tally(ctx, "INC-N")
			require.NoError(t, err)
			for k, n := range tally {
				require.Equal(t, 1, n, "%v received one notice", k)
			}
			require.Len(t, tally, len(rows), "everyone with a contact got it")
			// Second copies of an e-mail reach exactly the people the ledger
			// says were possibly sent it twice; on-site repeats are dropped by
			// key. A relay that timed out may deliver its first copy later.
			require.Eventually(t, func() bool {
				repeated, err := c.outbox.Repeated(ctx, "INC-N")
				if err != nil {
					return false
				}
				twice := map[[2]string]int{}
				for k := range repeated {
					if k[1] == "email" {
						twice[k] = 1
					}
				}
				return maps.Equal(twice, resent)
			}, 10*time.Second, 50*time.Millisecond, "second e-mails only where the ledger says resent")
		})
	}
}

// A relay slower than the lease renewal, with two attempts of one batch at
// once (a retry Temporal started while the first still ran): the second
// waits for the first's live claims instead of sending them again.
func TestARetryWaitsForALiveAttemptsClaims(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := newFaultyCampaign(t, s, faults(t, "twilio.latency=700ms@1"), 0)
		var wg sync.WaitGroup
		results := make([]BatchResult, 2)
		errs := make([]error, 2)
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[0], errs[0] = c.acts.SendBatch(ctx, batch("sms"))
		}()
		require.Eventually(t, func() bool {
			rows, _ := s.RangeDeliveries(ctx, "INC-N", 1, plandata.Range{}, store.StatusSending)
			return len(rows) == 2
		}, 5*time.Second, 10*time.Millisecond, "the first attempt claimed both texts")
		results[1], errs[1] = c.acts.SendBatch(ctx, batch("sms"))
		sending, err := s.RangeDeliveries(ctx, "INC-N", 1, plandata.Range{}, store.StatusSending)
		require.NoError(t, err)
		require.Empty(t, sending, "the retry returned only once the texts were settled, so the rung resolves on facts")
		wg.Wait()
		require.NoError(t, errs[0])
		require.NoError(t, errs[1])
		require.Equal(t, 2, results[0].Attempts)
		require.Zero(t, results[1].Attempts, "the second attempt sent nothing")
		require.Zero(t, results[1].Recovered, "and recovered nothing: the first was alive")
		tally, _, err := c.outbox.Tally(ctx, "INC-N")
		require.NoError(t, err)
		require.Equal(t, map[[2]string]int{{"u2", "sms"}: 1, {"u3", "sms"}: 1}, tally)
	})
}

func TestCheckSMSLengthCountsTheSegmentsThePersonWouldGet(t *testing.T) {
	require.Empty(t, CheckSMSLength("您的数据已泄露", 1))
	require.Empty(t, CheckSMSLength(strings.Repeat("您", 500), 0), "no limit, no refusal")
	require.Equal(t, "its SMS is 3 segments (UCS-2, 150 characters), over the playbook's sms_max_segments of 2",
		CheckSMSLength(strings.Repeat("您", 150), 2), "Chinese is UCS-2: 67 characters a part")
}

// A worker killed in the middle of a chunk of e-mails leaves them claimed.
// E-mails go out one at a time and are recorded as each is taken, so only
// the first unrecorded one can have reached the relay: the retry sends it
// again and owns up to "possibly delivered twice" for that one alone.
func TestOnlyTheEmailInFlightWhenAWorkerDiedIsPossiblyTwice(t *testing.T) {
	s := storetest.Open(t, "sqlite")
	ctx := context.Background()
	c := newCampaignOf(t, s, "subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems\n"+
		"u1,Ann,ann@example.com,,,en,SG,1980,crm\nu2,Bo,bo@example.com,,,en,SG,1980,crm\nu3,Cy,cy@example.com,,,en,SG,1980,crm\n", nil, 0)
	var claims []store.Delivery
	for _, id := range []string{"u1", "u2", "u3"} {
		claims = append(claims, store.Delivery{IncidentID: "INC-N", SubjectID: id, Channel: "email", Rung: 1, Draft: "notice-en@1"})
	}
	_, err := s.ClaimDeliveries(ctx, claims, store.Lease{Owner: "the-dead-worker", Until: time.Now()})
	require.NoError(t, err)
	d, err := s.GetDraft(ctx, "INC-N", "notice-en", 1)
	require.NoError(t, err)
	_, err = c.mail.Send(ctx, message("INC-N", store.Recipient{SubjectID: "u1"}, "email", "ann@example.com", "en", d)) // in flight when it died
	require.NoError(t, err)

	res, err := c.acts.SendBatch(ctx, batch("email"))
	require.NoError(t, err)
	require.Equal(t, 3, res.Attempts)
	require.Equal(t, 1, res.Recovered)
	counts, _, _, err := s.CampaignCounts(ctx, "INC-N")
	require.NoError(t, err)
	require.Equal(t, store.ChannelCounts{Delivered: 3, PossiblyTwice: 1}, counts["email"], "u2 and u3 were never tried before")
	repeated, err := c.outbox.Repeated(ctx, "INC-N")
	require.NoError(t, err)
	require.Equal(t, map[[2]string]int{{"u1", "email"}: 1}, repeated, "and the ledger's one is the one that came twice")
}

// A batch's lanes each send their own chunk: a worker killed with two
// lanes mid-chunk leaves each with one e-mail possibly in flight (the
// first of its claims it had not recorded), whichever lanes of the retry
// meet them and in whatever order. Exactly those two are sent again and
// owned up to as possibly twice; the others are sent once.
func TestEachDeadLanesEmailInFlightIsTheOnlyOnePossiblyTwice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := newCampaignOf(t, s, emailOnly(8), nil, 0)
		d, err := s.GetDraft(ctx, "INC-N", "notice-en", 1)
		require.NoError(t, err)
		claim := func(owner string, ids ...string) {
			var ds []store.Delivery
			for _, id := range ids {
				ds = append(ds, store.Delivery{IncidentID: "INC-N", SubjectID: id, Channel: "email", Rung: 1, Draft: "notice-en@1"})
			}
			_, err := s.ClaimDeliveries(ctx, ds, store.Lease{Owner: owner, Until: time.Now()})
			require.NoError(t, err)
		}
		send := func(id string) {
			_, err := c.mail.Send(ctx, message("INC-N", store.Recipient{SubjectID: id}, "email", id+"@example.com", "en", d))
			require.NoError(t, err)
		}
		// Lane 0 of the dead attempt had u1 in flight; lane 1 had sent and
		// recorded u5 and had u6 in flight; u2-u4 and u7-u8 were never tried.
		claim("dead#1/0", "u1", "u2", "u3", "u4")
		claim("dead#1/1", "u5", "u6", "u7", "u8")
		send("u1")
		send("u5")
		require.NoError(t, s.FinishDeliveries(ctx, []store.Delivery{{IncidentID: "INC-N", SubjectID: "u5", Channel: "email", Status: store.StatusAccepted}}))
		send("u6")

		res, err := c.acts.SendBatch(ctx, batch("email"))
		require.NoError(t, err)
		require.Equal(t, 7, res.Attempts, "u5 was recorded: not sent again")
		require.Equal(t, 2, res.Recovered)
		counts, _, _, err := s.CampaignCounts(ctx, "INC-N")
		require.NoError(t, err)
		require.Equal(t, store.ChannelCounts{Delivered: 8, PossiblyTwice: 2}, counts["email"])
		repeated, err := c.outbox.Repeated(ctx, "INC-N")
		require.NoError(t, err)
		require.Equal(t, map[[2]string]int{{"u1", "email"}: 1, {"u6", "email"}: 1}, repeated, "the ledger's two are the two that came twice")
	})
}

// A provider call that hangs holds up its own lane, not the batch: the
// others' notices go out while it waits.
func TestASlowCallDoesNotHoldUpTheRestOfItsBatch(t *testing.T) {
	s := storetest.Open(t, "sqlite")
	ctx := context.Background()
	c := newCampaignOf(t, s, emailOnly(6), nil, 0)
	release := make(chan struct{})
	c.acts.Senders["email"] = stallingSender{inner: c.mail, stall: "u1", release: release}
	done := make(chan error, 1)
	go func() {
		_, err := c.acts.SendBatch(ctx, batch("email"))
		done <- err
	}()
	require.Eventually(t, func() bool {
		tally, _, err := c.outbox.Tally(ctx, "INC-N")
		return err == nil && len(tally) == 5
	}, 10*time.Second, 20*time.Millisecond, "the five others are told while u1's call hangs")
	close(release)
	require.NoError(t, <-done)
	tally, repeats, err := c.outbox.Tally(ctx, "INC-N")
	require.NoError(t, err)
	require.Len(t, tally, 6)
	require.Zero(t, repeats)
}

// stallingSender holds the send to one subject until release is closed.
type stallingSender struct {
	inner   senders.Sender
	stall   string
	release chan struct{}
}

func (s stallingSender) Send(ctx context.Context, m senders.Message) (senders.Result, error) {
	if m.SubjectID == s.stall {
		<-s.release
	}
	return s.inner.Send(ctx, m)
}

// emailOnly is an inventory of n people u1..un reached by e-mail alone.
func emailOnly(n int) string {
	var csv strings.Builder
	csv.WriteString("subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems\n")
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&csv, "u%d,P%d,p%d@example.com,,,en,SG,1980,crm\n", i, i, i)
	}
	return csv.String()
}
