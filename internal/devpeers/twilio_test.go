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
