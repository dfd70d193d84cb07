package devpeers

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	twclient "github.com/twilio/twilio-go/client"
	"golang.org/x/time/rate"

	"github.com/tocsin/tocsin/internal/senders"
)

// TestTwilioSDKAgainstPeer drives twilio-go against the peer and checks the
// signed receipt with twilio-go's own RequestValidator.
func TestTwilioSDKAgainstPeer(t *testing.T) {
	ob, err := OpenOutbox(filepath.Join(t.TempDir(), "peers.db"))
	require.NoError(t, err)
	defer ob.Close()
	peer := &TwilioPeer{AccountSID: "AC00000000000000000000000000000001", AuthToken: "secrettoken0", Outbox: ob, CallbackDelay: time.Millisecond}
	defer peer.Close()
	twilioSrv := httptest.NewServer(peer)
	defer twilioSrv.Close()

	receipts := make(chan url.Values, 4)
	var hook *httptest.Server
	hook = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		params := map[string]string{}
		for k, v := range r.PostForm {
			params[k] = v[0]
		}
		v := twclient.NewRequestValidator("secrettoken0")
		if !v.Validate(hook.URL+r.URL.RequestURI(), params, r.Header.Get("X-Twilio-Signature")) {
			w.WriteHeader(http.StatusForbidden)
			return
		}
		receipts <- r.PostForm
	}))
	defer hook.Close()

	cfg := senders.TwilioConfig{AccountSID: peer.AccountSID, AuthToken: peer.AuthToken, From: "+15005550006", BaseURL: twilioSrv.URL, StatusCallback: hook.URL + "/webhooks/twilio/status"}
	sms := &senders.SMSSender{Client: senders.NewTwilioClient(cfg), Config: cfg}
	res, err := sms.Send(context.Background(), senders.Message{IncidentID: "INC-1", SubjectID: "s1", To: "+14155550100", Body: "您好 hello"})
	require.NoError(t, err)
	require.NotEmpty(t, res.Ref)
	select {
	case got := <-receipts:
		require.Equal(t, res.Ref, got.Get("MessageSid"))
		require.Equal(t, "delivered", got.Get("MessageStatus"))
	case <-time.After(5 * time.Second):
		t.Fatal("no signed receipt arrived")
	}

	_, err = sms.Send(context.Background(), senders.Message{IncidentID: "INC-1", SubjectID: "s2", To: "+15005550009", Body: "x"})
	require.True(t, senders.IsPermanent(err), "a number that cannot receive SMS is a permanent failure: %v", err)

	voice := &senders.VoiceSender{Client: senders.NewTwilioClient(cfg), Config: cfg}
	_, err = voice.Send(context.Background(), senders.Message{IncidentID: "INC-1", SubjectID: "s2", To: "+15005550009", Body: "hello", Locale: "en"})
	require.NoError(t, err, "the same number takes calls")
	_, err = voice.Send(context.Background(), senders.Message{IncidentID: "INC-1", SubjectID: "s3", To: "+15005550001", Body: "hello"})
	require.True(t, senders.IsPermanent(err), "invalid number: %v", err)

	bad := cfg
	bad.AuthToken = "wrong"
	_, err = (&senders.SMSSender{Client: senders.NewTwilioClient(bad), Config: bad}).Send(context.Background(), senders.Message{To: "+14155550100", Body: "x"})
	require.Error(t, err, "the peer checks credentials")
}

// TestTwilioPeerAnswersLookupsAndRateLimits covers what recovery and the
// receipts sweep ask Twilio, and a 429 reaching the sender as Retry-After.
func TestTwilioPeerAnswersLookupsAndRateLimits(t *testing.T) {
	ob, err := OpenOutbox(filepath.Join(t.TempDir(), "peers.db"))
	require.NoError(t, err)
	defer ob.Close()
	peer := &TwilioPeer{AccountSID: "AC00000000000000000000000000000001", AuthToken: "secrettoken0", Outbox: ob, CallbackDelay: time.Millisecond,
		LoseCallback: func(string) bool { return true },
		Outcome: func(channel, to string) string {
			if to == "+14155550199" {
				return map[string]string{"sms": "undelivered", "voice": "no-answer"}[channel]
			}
			return ""
		}}
	defer peer.Close()
	srv := httptest.NewServer(peer)
	defer srv.Close()
	cfg := senders.TwilioConfig{AccountSID: peer.AccountSID, AuthToken: peer.AuthToken, From: "+15005550006", BaseURL: srv.URL, StatusCallback: "http://127.0.0.1:1/webhooks/twilio/status"}
	client := senders.NewTwilioClient(cfg)
	sms := &senders.SMSSender{Client: client, Config: cfg}
	ctx := context.Background()
	before := time.Now()
	msg := senders.Message{IncidentID: "INC-1", SubjectID: "s1", To: "+14155550100", Body: "您好，您的数据已泄露"}

	_, found, err := sms.Find(ctx, msg, before, nobodys)
	require.NoError(t, err)
	require.False(t, found, "nothing was sent yet")
	sent, err := sms.Send(ctx, msg)
	require.NoError(t, err)
	require.Equal(t, 1, sent.Segments)
	got, found, err := sms.Find(ctx, msg, before, nobodys)
	require.NoError(t, err)
	require.True(t, found, "an interrupted send is found at the provider")
	require.Equal(t, sent.Ref, got.Ref)
	other := msg
	other.Body = "another text"
	_, found, err = sms.Find(ctx, other, before, nobodys)
	require.NoError(t, err)
	require.False(t, found, "a different text to the same number is not ours")

	// The callback was lost; the sweep asks.
	status := senders.TwilioStatus{Client: client}
	require.Eventually(t, func() bool {
		st, _, err := status.Status(ctx, senders.SMS, sent.Ref)
		return err == nil && st == "delivered"
	}, 5*time.Second, 10*time.Millisecond)

	failing, err := sms.Send(ctx, senders.Message{To: "+14155550199", Body: "x"})
	require.NoError(t, err)
	require.Eventually(t, func() bool { st, _, _ := status.Status(ctx, senders.SMS, failing.Ref); return st == "undelivered" }, 5*time.Second, 10*time.Millisecond)
	voice := &senders.VoiceSender{Client: client, Config: cfg}
	call, err := voice.Send(ctx, senders.Message{To: "+14155550199", Body: "x"})
	require.NoError(t, err)
	require.Eventually(t, func() bool { st, _, _ := status.Status(ctx, senders.Voice, call.Ref); return st == "failed" }, 5*time.Second, 10*time.Millisecond,
		"no answer moves the person down the ladder")
	found2, ok, err := voice.Find(ctx, senders.Message{To: "+14155550199"}, before, nobodys)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, call.Ref, found2.Ref)
	_, ok, err = voice.Find(ctx, senders.Message{To: "+14155550199"}, before, func(ref string) bool { return ref == call.Ref })
	require.NoError(t, err)
	require.False(t, ok, "a call the ledger gives to someone sharing the number is not adopted")

	peer.Limiter = rate.NewLimiter(rate.Every(time.Hour), 1)
	_, err = sms.Send(ctx, msg)
	require.NoError(t, err, "the first fits the burst")
	_, err = sms.Send(ctx, msg)
	var ra *senders.RetryAfterError
	require.ErrorAs(t, err, &ra, "a 429 reaches the caller with its Retry-After")
	require.Equal(t, time.Second, ra.After)
}

func nobodys(string) bool { return false }

// A restarted peer owes the receipts it had not posted, and posts them to
// the callback URL each request named: standalone peers (`tocsin peers`)
// are never told where Tocsin is.
func TestARestartedPeerPostsOwedReceiptsWhereTheRequestSaid(t *testing.T) {
	ob, err := OpenOutbox(filepath.Join(t.TempDir(), "peers.db"))
	require.NoError(t, err)
	defer ob.Close()
	receipts := make(chan string, 4)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		receipts <- r.URL.Path + " " + r.URL.Query().Get("subject") + " " + r.PostForm.Get("MessageStatus")
	}))
	defer hook.Close()

	// The first peer is stopped before its receipt is due.
	first := &TwilioPeer{AccountSID: "AC00000000000000000000000000000001", AuthToken: "secrettoken0", Outbox: ob, CallbackDelay: time.Hour}
	srv := httptest.NewServer(first)
	cfg := senders.TwilioConfig{AccountSID: first.AccountSID, AuthToken: first.AuthToken, From: "+15005550006", BaseURL: srv.URL, StatusCallback: hook.URL + "/staging/webhooks/twilio/status"}
	_, err = (&senders.SMSSender{Client: senders.NewTwilioClient(cfg), Config: cfg}).Send(context.Background(), senders.Message{IncidentID: "INC-1", SubjectID: "s1", To: "+14155550100", Body: "hello"})
	require.NoError(t, err)
	first.Close()
	srv.Close()
	require.Empty(t, receipts)

	second := &TwilioPeer{AccountSID: first.AccountSID, AuthToken: first.AuthToken, Outbox: ob, CallbackDelay: time.Millisecond}
	defer second.Close()
	require.NoError(t, second.Resume(context.Background(), ""))
	select {
	case got := <-receipts:
		require.Equal(t, "/staging/webhooks/twilio/status s1 delivered", got)
	case <-time.After(5 * time.Second):
		t.Fatal("the owed receipt never came")
	}
}
