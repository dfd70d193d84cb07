package api

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tocsin/tocsin/internal/devtools/devpeers"
	"github.com/tocsin/tocsin/internal/store"
)

// FuzzSlackInteraction posts correctly signed interactivity payloads of any
// shape: Tocsin answers every one without a panic or a server error, and
// never changes a draft for one it cannot read.
func FuzzSlackInteraction(f *testing.F) {
	f.Add(`{"type":"block_actions","user":{"id":"ULEGAL"},"channel":{"id":"C1"},"actions":[{"block_id":"review","action_id":"tocsin_approve","value":"INC-1|notice-en|1"}]}`)
	f.Add(`{"type":"view_submission","user":{"id":"ULEGAL"},"view":{"private_metadata":"INC-1|notice-en|x","state":{"values":{}}}}`)
	f.Add(`{"type":"block_actions","actions":[{"action_id":"tocsin_reject","value":"|||"}]}`)
	f.Add(`not json`)
	_, base, _ := slackServer(f)
	f.Fuzz(func(t *testing.T, payload string) {
		body := url.Values{"payload": {payload}}.Encode()
		req, _ := http.NewRequest("POST", base+"/webhooks/slack/interactivity", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		ts, sig := devpeers.SignSlack(slackSecret, time.Now(), body)
		req.Header.Set("X-Slack-Request-Timestamp", ts)
		req.Header.Set("X-Slack-Signature", sig)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		resp, err := http.DefaultClient.Do(req.WithContext(ctx))
		if err != nil {
			return // the unreachable Temporal keeps a well-formed decision waiting
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("payload %q: %d", payload, resp.StatusCode)
		}
	})
}

// FuzzTwilioCallback posts correctly signed status callbacks with any
// parameters: every one is answered (2xx or 4xx) and a delivery never moves
// to a status Twilio did not say.
func FuzzTwilioCallback(f *testing.F) {
	f.Add("INC-1", "s1", "sms", "SM1", "delivered", "", "")
	f.Add("INC-1", "s1", "voice", "", "", "CA1", "completed")
	f.Add("", "", "", "SM1", "undelivered\x00", "", "")
	f.Add("INC-1'--", "s1", "email", "", "", "CA9", "no-answer")
	s, hs := newServer(f)
	base := hs.URL
	ctx := context.Background()
	s.Store.BeginDelivery(ctx, store.Delivery{IncidentID: "INC-1", SubjectID: "s1", Channel: "sms", Rung: 2})
	s.Store.FinishDelivery(ctx, store.Delivery{IncidentID: "INC-1", SubjectID: "s1", Channel: "sms", Status: store.StatusSent, ProviderRef: "SM1"})
	f.Fuzz(func(t *testing.T, incident, subject, channel, msgSID, msgStatus, callSID, callStatus string) {
		path := "/webhooks/twilio/status?" + url.Values{"incident": {incident}, "subject": {subject}, "channel": {channel}}.Encode()
		params := url.Values{"MessageSid": {msgSID}, "MessageStatus": {msgStatus}, "CallSid": {callSID}, "CallStatus": {callStatus}}
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(params.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Twilio-Signature", devpeers.SignTwilio("token0", s.PublicURL+path, params))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 500 {
			t.Fatalf("%d for %v %v", resp.StatusCode, path, params)
		}
		d, err := s.Store.GetDelivery(context.Background(), "INC-1", "s1", "sms")
		if err == nil {
			switch d.Status {
			case store.StatusSent, store.StatusDelivered, store.StatusUndelivered, store.StatusFailed:
			default:
				t.Fatalf("the delivery moved to %q", d.Status)
			}
		}
	})
}
