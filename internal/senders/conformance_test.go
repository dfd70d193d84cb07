package senders_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/channel"
	"github.com/tocsin/tocsin/internal/devtools/devpeers"
	"github.com/tocsin/tocsin/internal/inventory"
	"github.com/tocsin/tocsin/internal/senders"
)

const printSecret = "conformance-print-secret"

const fcmToken = "ZGV2aWNlLXRva2VuLWZvci1jb25mb3JtYW5jZQ"

const (
	twilioToken  = "c0f0a11ce5ec2e7c0f0a11ce5ec2e7c0"
	onsiteSecret = "conformance-onsite-secret"
)

// rig is every sender Build makes, aimed at the local peers (which check
// what the real services check), with one fault profile.
type rig struct {
	reg    senders.Registry
	twilio *devpeers.TwilioPeer
	smtp   *devpeers.SMTPPeer
	onsite *devpeers.OnsitePeer
	push   *devpeers.PushPeer
	print  *devpeers.PrintPeer
	// apnsURL and apnsHTTP reach the peer's APNs endpoint.
	apnsURL  string
	apnsHTTP *http.Client
}

// Generating keys takes a moment: each test binary makes two sets.
var pushKeys, otherPushKeys = sync.OnceValues(newPushKeys), sync.OnceValues(newPushKeys)

func newPushKeys() (devpeers.PushKeys, error) { return devpeers.NewPushKeys() }

func newRig(t *testing.T, faultSpec string) *rig {
	t.Helper()
	faults, err := devpeers.ParseFaults(faultSpec, 1)
	require.NoError(t, err)
	ob, err := devpeers.OpenOutbox(filepath.Join(t.TempDir(), "peers.db"))
	require.NoError(t, err)
	t.Cleanup(func() { ob.Close() })
	r := &rig{
		twilio: &devpeers.TwilioPeer{AccountSID: "AC00000000000000000000000000000009", AuthToken: twilioToken, Outbox: ob, CallbackDelay: time.Hour, Faults: faults},
		smtp:   &devpeers.SMTPPeer{Outbox: ob, Faults: faults},
		onsite: &devpeers.OnsitePeer{Secret: onsiteSecret, Outbox: ob, Faults: faults},
	}
	t.Cleanup(r.twilio.Close)
	tsrv := httptest.NewServer(r.twilio)
	t.Cleanup(tsrv.Close)
	require.NoError(t, r.smtp.Start("127.0.0.1:0"))
	t.Cleanup(func() { r.smtp.Close() })
	osrv := httptest.NewServer(r.onsite)
	t.Cleanup(osrv.Close)
	const timeout = time.Second
	keys, err := pushKeys()
	require.NoError(t, err)
	r.push, err = devpeers.NewPushPeer(keys, ob)
	require.NoError(t, err)
	r.push.Faults = faults
	r.push.Unregister("apns:" + strings.Repeat("0d", 32))
	fsrv := httptest.NewServer(r.push.FCM())
	t.Cleanup(fsrv.Close)
	apnsURL, err := r.push.StartAPNs("127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(r.push.Close)
	apnsHTTP, err := keys.APNsClient(timeout)
	require.NoError(t, err)
	r.print = &devpeers.PrintPeer{Secret: printSecret, Outbox: ob, Dir: t.TempDir(), Faults: faults}
	r.print.Undeliverable("00000")
	psrv := httptest.NewServer(r.print)
	t.Cleanup(psrv.Close)
	reg, _, closeAll := senders.Build(senders.Providers{
		Twilio: senders.TwilioConfig{AccountSID: r.twilio.AccountSID, AuthToken: twilioToken, From: "+15005550006", BaseURL: tsrv.URL,
			StatusCallback: "http://127.0.0.1:1/webhooks/twilio/status", Timeout: timeout},
		SMTP:       senders.SMTPConfig{Addr: r.smtp.Addr(), From: "sec@tocsin.local", Timeout: timeout},
		Onsite:     senders.OnsiteConfig{WebhookURL: osrv.URL + "/notices", Secret: onsiteSecret},
		OnsiteHTTP: &http.Client{Timeout: timeout},
		Push: senders.PushConfig{FCMProjectID: devpeers.DevFCMProject, FCMCredentials: keys.ServiceAccountJSON(fsrv.URL + "/token"), FCMEndpoint: fsrv.URL + "/v1",
			APNsKey: []byte(keys.APNsKey), APNsKeyID: devpeers.DevAPNsKeyID, APNsTeamID: devpeers.DevAPNsTeamID, APNsTopic: devpeers.DevAPNsTopic,
			APNsHost: apnsURL, APNsHTTP: apnsHTTP, Link: "https://example.com/notices/{incident}", Timeout: timeout},
		Letter: senders.LetterConfig{Sender: "Example Ltd, 1 Harbour St, Singapore", VendorURL: psrv.URL + "/letters", Secret: printSecret, Timeout: timeout},
	})
	t.Cleanup(closeAll)
	r.reg, r.apnsURL, r.apnsHTTP = reg, apnsURL, apnsHTTP
	return r
}

// contract is what one channel's sender is held to, with how its peer is
// made to refuse a person, reject Tocsin's credentials, or fail mid-send.
type contract struct {
	good, refused string
	// rotate makes the provider refuse Tocsin's credentials.
	rotate func(*rig)
	// midSend is a fault after which the provider may hold the message.
	midSend string
	// outage is a provider's passing refusal, and whether the provider
	// certainly did not take the message (retry at once) or may have
	// (ask it, or resend under the same key).
	outage       string
	outageUnsent bool
}

var contracts = map[string]contract{
	"onsite": {good: "acct-1", refused: "", rotate: func(r *rig) { r.onsite.Rotated.Store(true) }, midSend: "onsite.latency=3s@1", outage: "onsite.status_503=1"},
	"email": {good: "p1@example.com", refused: "p1@nobody.invalid", rotate: func(r *rig) { r.smtp.RefuseSender.Store(true) }, midSend: "smtp.accept_then_drop=1",
		outage: "smtp.tempfail=1", outageUnsent: true},
	"sms": {good: "+14155550100", refused: "+15005550001", rotate: func(r *rig) { r.twilio.Rotated.Store(true) }, midSend: "twilio.accept_then_timeout=1", outage: "twilio.status_500=1"},
	"push": {good: "fcm:" + fcmToken, refused: "apns:" + strings.Repeat("0d", 32), rotate: func(r *rig) { r.push.RevokeServiceAccount() },
		// The FCM client retries a 503 itself until the deadline, so the
		// last try may be in flight: in doubt (a resend is folded by tag).
		midSend: "push.latency=3s@1", outage: "push.status_503=1"},
	"letter": {good: inventory.Address{Line1: "1 Main St", City: "Albany", State: "NY", PostalCode: "12207", Country: "US"}.String(),
		refused: inventory.Address{Line1: "9 Nowhere Rd", City: "Albany", PostalCode: "00000", Country: "US"}.String(),
		rotate:  func(r *rig) { r.print.Rotated.Store(true) }, midSend: "print.latency=3s@1", outage: "print.status_503=1"},
	"voice": {good: "+14155550100", refused: "+15005550001", rotate: func(r *rig) { r.twilio.Rotated.Store(true) }, midSend: "twilio.accept_then_timeout=1", outage: "twilio.status_500=1"},
}

func message(to string) senders.Message {
	return senders.Message{IncidentID: "INC-C", SubjectID: "s1", To: to, Locale: "en", Title: "Notice", Body: "Your data leaked.", HTML: "<p>Your data leaked.</p>"}
}

// noSecret fails when an error shows a credential: errors reach logs, the
// ledger and the war room.
func noSecret(t *testing.T, err error) {
	t.Helper()
	for _, s := range []string{twilioToken, onsiteSecret, printSecret} {
		require.NotContains(t, err.Error(), s)
	}
}

// TestEverySenderKeepsTheContract: each registered channel's sender, built
// as prod and dev build it, classifies each outcome the way the ledger and
// the retry policy rely on: accepted with the provider's reference; a person
// the provider refuses is permanent (they move down the ladder); refused
// credentials are Tocsin's fault, never the person's; a send the provider
// may hold is never reported as certainly unsent (that would send it twice);
// and no error carries a secret.
func TestEverySenderKeepsTheContract(t *testing.T) {
	ctx := context.Background()
	for _, name := range channel.Names() {
		c, ok := contracts[name]
		require.True(t, ok, "channel %s has no conformance contract", name)
		t.Run(name, func(t *testing.T) {
			r := newRig(t, "")
			s, ok := r.reg[name]
			require.True(t, ok, "Build makes no sender for %s", name)
			res, err := s.Send(ctx, message(c.good))
			require.NoError(t, err)
			require.NotEmpty(t, res.Ref, "the provider's reference")
			require.Equal(t, channel.Is(name, channel.AwaitsReceipt), !res.Final && !res.Delivered, "a receipt follows exactly for channels that await one")

			_, err = s.Send(ctx, message(c.refused))
			require.Error(t, err)
			require.True(t, senders.IsPermanent(err), "%v", err)
			require.True(t, senders.NotSent(err))
			noSecret(t, err)

			c.rotate(r)
			_, err = s.Send(ctx, message(c.good))
			require.Error(t, err)
			require.True(t, senders.Misconfigured(err), "refused credentials are a fault of ours: %v", err)
			require.False(t, senders.IsPermanent(err), "and never a fact about the person")
			noSecret(t, err)
		})
		t.Run(name+"/mid-send", func(t *testing.T) {
			r := newRig(t, c.midSend)
			_, err := r.reg[name].Send(ctx, message(c.good))
			require.Error(t, err)
			require.False(t, senders.NotSent(err), "the provider may hold it: in doubt, not unsent (%v)", err)
			require.False(t, senders.IsPermanent(err) || senders.Misconfigured(err), "%v", err)
			noSecret(t, err)
		})
		t.Run(name+"/outage", func(t *testing.T) {
			r := newRig(t, c.outage)
			_, err := r.reg[name].Send(ctx, message(c.good))
			require.Error(t, err)
			require.False(t, senders.IsPermanent(err) || senders.Misconfigured(err), "a passing outage is retried, nobody is written off: %v", err)
			require.Equal(t, c.outageUnsent, senders.NotSent(err), "%v", err)
			noSecret(t, err)
		})
	}
	require.Len(t, newRig(t, "").reg, len(channel.Names()), "one sender per registered channel, no other")
}

func TestChannelCapabilitiesAreConsistent(t *testing.T) {
	for _, c := range channel.All() {
		require.NotEmpty(t, c.Name)
		require.True(t, strings.ToLower(c.Name) == c.Name, c.Name)
		require.GreaterOrEqual(t, inventory.ContactIndex(string(c.Contact)), 0, "%s: its contact is a kind the inventory reads", c.Name)
		require.Contains(t, channel.Of(c.Contact), c.Name)
	}
}
