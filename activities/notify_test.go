package activities

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"
	"golang.org/x/time/rate"

	"github.com/tocsin/tocsin/internal/devtools/devpeers"
	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/senders"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/store/storetest"
	"github.com/tocsin/tocsin/playbooks"
)

// campaign is a scoped incident of three people with approved notices,
// senders through the real SDKs and the peers that receive them.
type campaign struct {
	acts   *Activities
	twilio *devpeers.TwilioPeer
	outbox *devpeers.Outbox
	sms    *senders.SMSSender
	mail   *senders.EmailSender
	smtp   *devpeers.SMTPPeer
	onsite *devpeers.OnsitePeer
}

const notifySubjects = "subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems\n" +
	"u1,Ann,ann@example.com,,acct-1,en,SG,1980,crm\n" +
	"u2,Bo,,+8613800000002,,en,CN,1990,crm\n" +
	"u3,Cy,,+14155550103,,en,US-CA,1990,crm\n"

func newCampaign(t *testing.T, s *store.Store) *campaign {
	return newFaultyCampaign(t, s, nil, 0)
}

// newFaultyCampaign is a campaign whose peers follow a fault profile and
// whose senders give up on a silent provider after timeout (0: their own).
func newFaultyCampaign(t *testing.T, s *store.Store, faults *devpeers.Faults, timeout time.Duration) *campaign {
	return newCampaignOf(t, s, notifySubjects, faults, timeout)
}

func newCampaignOf(t *testing.T, s *store.Store, subjects string, faults *devpeers.Faults, timeout time.Duration) *campaign {
	ctx := context.Background()
	_, err := s.ImportInventory(ctx, store.ImportInput{SystemsFile: "systems.yaml", Systems: strings.NewReader("systems:\n  - id: crm\n    name: CRM\n    location: SG\n    categories: [contact.email]\n"),
		SubjectsFile: "subjects.csv", Subjects: strings.NewReader(subjects), ImportedBy: "t"})
	require.NoError(t, err)
	snap, err := s.CurrentSnapshot(ctx)
	require.NoError(t, err)
	require.NoError(t, s.CreateIncident(ctx, store.Incident{ID: "INC-N", Title: "t", Spec: incident.Spec{Title: "t"}, OpenedBy: "r", OpenedAt: time.Now(), Snapshot: snap}, nil))
	_, err = s.Scope(ctx, store.ScopeInput{IncidentID: "INC-N", Snapshot: snap, Systems: []string{"crm"}, Year: 2026})
	require.NoError(t, err)
	require.NoError(t, s.SaveDraft(ctx, store.Draft{IncidentID: "INC-N", Name: "notice-en", Revision: 1, Kind: KindNotice, Locale: "en", Title: "Notice", Body: "Your data leaked.", SMS: "Your data leaked. See example.com", Voice: "Your data leaked."}))

	ob, err := devpeers.OpenOutbox(filepath.Join(t.TempDir(), "peers.db"))
	require.NoError(t, err)
	t.Cleanup(func() { ob.Close() })
	peer := &devpeers.TwilioPeer{AccountSID: "AC00000000000000000000000000000001", AuthToken: "secrettoken0", Outbox: ob, CallbackDelay: time.Hour, Faults: faults}
	t.Cleanup(peer.Close)
	tsrv := httptest.NewServer(peer)
	t.Cleanup(tsrv.Close)
	smtpPeer := &devpeers.SMTPPeer{Outbox: ob, Faults: faults}
	require.NoError(t, smtpPeer.Start("127.0.0.1:0"))
	t.Cleanup(func() { smtpPeer.Close() })
	onsitePeer := &devpeers.OnsitePeer{Secret: "onsite-secret", Outbox: ob, Faults: faults}
	osrv := httptest.NewServer(onsitePeer)
	t.Cleanup(osrv.Close)
	cfg := senders.TwilioConfig{AccountSID: peer.AccountSID, AuthToken: peer.AuthToken, From: "+15005550006", BaseURL: tsrv.URL, StatusCallback: "http://127.0.0.1:1/webhooks/twilio/status", Timeout: timeout}
	tw := senders.NewTwilioClient(cfg)
	c := &campaign{twilio: peer, outbox: ob, smtp: smtpPeer, onsite: onsitePeer, sms: &senders.SMSSender{Client: tw, Config: cfg},
		mail: senders.NewEmailSender(senders.SMTPConfig{Addr: smtpPeer.Addr(), From: "sec@tocsin.local", Timeout: timeout})}
	t.Cleanup(c.mail.Close)
	c.acts = &Activities{Store: s, Receipts: senders.TwilioStatus{Client: tw}, DoubtHold: 200 * time.Millisecond,
		Senders: senders.Registry{senders.SMS: c.sms, senders.Voice: &senders.VoiceSender{Client: tw, Config: cfg}, senders.Email: c.mail,
			senders.Onsite: &senders.OnsiteSender{Config: senders.OnsiteConfig{WebhookURL: osrv.URL + "/notices", Secret: onsitePeer.Secret}, HTTP: &http.Client{Timeout: max(timeout, time.Second)}}}}
	return c
}

func batch(channels ...string) BatchInput {
	return BatchInput{IncidentID: "INC-N", Rung: 1, Channels: channels, DefaultLocale: "en", Notices: map[string]int{"notice-en": 1}}
}

// TestInterruptedSendsAreRecoveredWithoutSendingTwice: a worker died after
// calling the providers and before recording it. The retry finds the SMS at
// Twilio and resends the email under the same Message-ID (the mail store
// keeps one); the person who was never tried gets their text.
func TestInterruptedSendsAreRecoveredWithoutSendingTwice(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := newCampaign(t, s)
		d, err := s.GetDraft(ctx, "INC-N", "notice-en", 1)
		require.NoError(t, err)
		_, err = s.ClaimDeliveries(ctx, []store.Delivery{{IncidentID: "INC-N", SubjectID: "u1", Channel: "email", Rung: 1}, {IncidentID: "INC-N", SubjectID: "u2", Channel: "sms", Rung: 1}},
			store.Lease{Owner: "the-dead-worker", Until: time.Now()})
		require.NoError(t, err)
		_, err = c.mail.Send(ctx, message("INC-N", store.Recipient{SubjectID: "u1"}, "email", "ann@example.com", "en", d))
		require.NoError(t, err)
		first, err := c.sms.Send(ctx, message("INC-N", store.Recipient{SubjectID: "u2"}, "sms", "+8613800000002", "en", d))
		require.NoError(t, err)

		res, err := c.acts.SendBatch(ctx, batch("email", "sms"))
		require.NoError(t, err)
		require.Equal(t, 2, res.Recovered)
		require.Equal(t, 3, res.Attempts)
		tally, repeats, err := c.outbox.Tally(ctx, "INC-N")
		require.NoError(t, err)
		require.Equal(t, map[[2]string]int{{"u1", "email"}: 1, {"u2", "sms"}: 1, {"u3", "sms"}: 1}, tally, "one notice each")
		require.Equal(t, 1, repeats, "the email came again and the mail store kept one")
		got, err := s.GetDelivery(ctx, "INC-N", "u2", "sms")
		require.NoError(t, err)
		require.Equal(t, first.Ref, got.ProviderRef, "the ledger adopts the SMS found at Twilio")
		require.Equal(t, store.StatusSent, got.Status)
		require.Contains(t, got.Detail, "recovered")
		require.Equal(t, store.DoubtFound, got.Doubt)
		mail, err := s.GetDelivery(ctx, "INC-N", "u1", "email")
		require.NoError(t, err)
		require.Equal(t, store.DoubtResent, mail.Doubt, "the ledger says the email was possibly delivered twice")

		again, err := c.acts.SendBatch(ctx, batch("email", "sms"))
		require.NoError(t, err)
		require.Zero(t, again.Attempts, "a finished batch sends nothing when retried")
	})
}

// A relay that answers 451 quoting the address makes the batch fail for a
// retry; that failure is written into the workflow history and the worker's
// log, so it must not carry the address.
func TestARetryableProviderErrorIsRedacted(t *testing.T) {
	s := storetest.Open(t, "sqlite")
	c := newCampaign(t, s)
	c.smtp.Greylist.Store(true)
	_, err := c.acts.SendBatch(context.Background(), batch("email"))
	require.Error(t, err)
	require.Contains(t, err.Error(), "451")
	require.NotContains(t, err.Error(), "ann@example.com")
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "%v", err)
	require.Equal(t, ErrProviderUnavailable, appErr.Type())
	for e := errors.Unwrap(err); e != nil; e = errors.Unwrap(e) {
		require.NotContains(t, e.Error(), "ann@example.com", "no cause carries the raw message")
	}
}

// TestRateLimitedBatchGivesBackItsClaimsAndWaitsAsTold: Twilio answers 429;
// the activity fails with Temporal's next-retry delay set from Retry-After,
// and no claim is left behind to block the retry.
func TestRateLimitedBatchGivesBackItsClaimsAndWaitsAsTold(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := newCampaign(t, s)
		c.twilio.Limiter = rate.NewLimiter(rate.Every(time.Hour), 1)
		_, err := c.acts.SendBatch(ctx, batch("sms"))
		var appErr *temporal.ApplicationError
		require.True(t, errors.As(err, &appErr), "%v", err)
		require.Equal(t, ErrRateLimited, appErr.Type())
		require.Equal(t, time.Second, appErr.NextRetryDelay())
		counts, _, _, err := s.CampaignCounts(ctx, "INC-N")
		require.NoError(t, err)
		require.Equal(t, store.ChannelCounts{Sent: 1, Segments: 1}, counts["sms"], "the first text went out; the refused one holds no claim")

		c.twilio.Limiter = nil
		res, err := c.acts.SendBatch(ctx, batch("sms"))
		require.NoError(t, err)
		require.Equal(t, 1, res.Attempts, "the retry sends only what was refused")
	})
}

// TestCallsWaitForMorningAndLostReceiptsAreSwept: nobody is phoned in their
// quiet hours; a text whose callback was lost is settled by asking Twilio.
func TestCallsWaitForMorningAndLostReceiptsAreSwept(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := newCampaign(t, s)
		in := batch("voice")
		in.Quiet = playbooks.Quiet{From: 0, To: 24*time.Hour - time.Minute} // quiet all day but one minute
		// Tomorrow at noon UTC: inside that span in every time zone, at
		// whatever hour the test runs.
		noon := time.Now().UTC().Truncate(24 * time.Hour).Add(36 * time.Hour)
		c.acts.Clock = func() time.Time { return noon }
		res, err := c.acts.SendBatch(ctx, in)
		require.NoError(t, err)
		require.Equal(t, 2, res.Deferred)
		require.Zero(t, res.Attempts)
		require.True(t, res.ResumeAt.After(time.Now()))
		calls, _, err := c.outbox.Tally(ctx, "INC-N")
		require.NoError(t, err)
		require.Empty(t, calls, "nobody was called")
		held, err := s.HeldCalls(ctx, "INC-N")
		require.NoError(t, err)
		require.Equal(t, 2, held.Calls, "incident show can count the held calls")
		require.Equal(t, res.ResumeAt, held.First)
		require.Contains(t, held.FirstLocal, "23:59", "the end of the quiet span in the person's own time")
		require.Contains(t, held.LastLocal, "23:59")

		// Once quiet hours are over the calls are placed and no longer held.
		in.Quiet = playbooks.Quiet{}
		placed, err := c.acts.SendBatch(ctx, in)
		require.NoError(t, err)
		require.Equal(t, 2, placed.Attempts)
		held, err = s.HeldCalls(ctx, "INC-N")
		require.NoError(t, err)
		require.Zero(t, held.Calls)

		c.twilio.LoseCallback = func(string) bool { return true }
		c.twilio.Outcome = func(channel, to string) string {
			if to == "+14155550103" {
				return "undelivered"
			}
			return ""
		}
		_, err = c.acts.SendBatch(ctx, batch("sms"))
		require.NoError(t, err)
		rr, err := c.acts.AwaitReceipts(ctx, ReceiptsInput{IncidentID: "INC-N", Rung: 1, Timeout: 0})
		require.NoError(t, err)
		require.Equal(t, 2, rr.Swept)
		u2, _ := s.GetDelivery(ctx, "INC-N", "u2", "sms")
		u3, _ := s.GetDelivery(ctx, "INC-N", "u3", "sms")
		require.Equal(t, store.StatusDelivered, u2.Status)
		require.Equal(t, store.StatusUndelivered, u3.Status, "undelivered moves u3 down the ladder")
	})
}

// An SMS over Twilio's 1,600 characters (error 21617) can never be sent:
// the person moves down the ladder at once instead of the batch retrying
// for ever.
func TestAnSMSTwilioCannotCarryFailsAtOnce(t *testing.T) {
	s := storetest.Open(t, "sqlite")
	ctx := context.Background()
	c := newCampaign(t, s)
	require.NoError(t, s.SaveDraft(ctx, store.Draft{IncidentID: "INC-N", Name: "notice-en", Revision: 2, Kind: KindNotice, Locale: "en", Title: "Notice", Body: "b",
		SMS: strings.Repeat("Your data leaked. ", 100), Voice: "v"}))
	in := batch("sms")
	in.Notices = map[string]int{"notice-en": 2}
	res, err := c.acts.SendBatch(ctx, in)
	require.NoError(t, err, "a permanent refusal is no reason to retry the batch")
	require.Equal(t, 2, res.Failed)
	d, err := s.GetDelivery(ctx, "INC-N", "u2", "sms")
	require.NoError(t, err)
	require.Equal(t, store.StatusFailed, d.Status)
	require.Contains(t, d.Error, "21617")
}

// Legal released the incident's calls from quiet hours: the calls held for
// the night are placed at once, though the quiet span still runs.
func TestReleasedCallsArePlacedInQuietHours(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := newCampaign(t, s)
		in := batch("voice")
		in.Quiet = playbooks.Quiet{From: 0, To: 24*time.Hour - time.Minute}
		noon := time.Now().UTC().Truncate(24 * time.Hour).Add(36 * time.Hour)
		c.acts.Clock = func() time.Time { return noon }
		res, err := c.acts.SendBatch(ctx, in)
		require.NoError(t, err)
		require.Equal(t, 2, res.Deferred, "held for the night")

		_, err = s.ReleaseQuietHours(ctx, "INC-N", store.QuietRelease{By: "legal@example.com", Reason: "the key is being used against people's accounts now", At: noon})
		require.NoError(t, err)
		placed, err := c.acts.SendBatch(ctx, in)
		require.NoError(t, err)
		require.Zero(t, placed.Deferred)
		require.Equal(t, 2, placed.Attempts, "the held calls were placed")
		held, err := s.HeldCalls(ctx, "INC-N")
		require.NoError(t, err)
		require.Zero(t, held.Calls)
		r, released, err := s.QuietReleased(ctx, "INC-N")
		require.NoError(t, err)
		require.True(t, released)
		require.Equal(t, "legal@example.com", r.By)
	})
}

// Two affected people share a landline; a worker died with both calls
// claimed, after placing one of them. Twilio's call list cannot say whose
// call that was: each is rung again rather than one taking the other's
// call and never being rung.
func TestAnInterruptedCallToASharedNumberIsPlacedAgain(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := newCampaignOf(t, s, "subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems\n"+
			"v1,Vi,,+14155550200,,en,US-CA,1990,crm\nv2,Vo,,+14155550200,,en,US-CA,1991,crm\n", nil, 0)
		d, err := s.GetDraft(ctx, "INC-N", "notice-en", 1)
		require.NoError(t, err)
		_, err = s.ClaimDeliveries(ctx, []store.Delivery{{IncidentID: "INC-N", SubjectID: "v1", Channel: "voice", Rung: 1}, {IncidentID: "INC-N", SubjectID: "v2", Channel: "voice", Rung: 1}},
			store.Lease{Owner: "the-dead-worker", Until: time.Now()})
		require.NoError(t, err)
		voice := c.acts.Senders[senders.Voice]
		_, err = voice.Send(ctx, message("INC-N", store.Recipient{SubjectID: "v2"}, "voice", "+14155550200", "en", d))
		require.NoError(t, err)

		_, err = c.acts.SendBatch(ctx, batch("voice"))
		require.NoError(t, err)
		tally, _, err := c.outbox.Tally(ctx, "INC-N")
		require.NoError(t, err)
		require.Positive(t, tally[[2]string{"v1", "voice"}], "v1 was rung: %v", tally)
		require.Positive(t, tally[[2]string{"v2", "voice"}], "v2 was rung: %v", tally)
		for _, who := range []string{"v1", "v2"} {
			got, err := s.GetDelivery(ctx, "INC-N", who, "voice")
			require.NoError(t, err)
			require.Equal(t, store.DoubtResent, got.Doubt, who)
			require.Contains(t, got.Detail, "shared with another affected person", who)
		}
	})
}
