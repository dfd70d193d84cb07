package senders

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/twilio/twilio-go"
	twclient "github.com/twilio/twilio-go/client"
	api "github.com/twilio/twilio-go/rest/api/v2010"
)

// TwilioConfig configures SMS and voice. AuthToken is a secret.
type TwilioConfig struct {
	AccountSID          string
	AuthToken           string `json:"-"`
	From                string
	MessagingServiceSID string
	// BaseURL replaces https://api.twilio.com (dev mode points it at the local peer).
	BaseURL string
	// StatusCallback is the public URL of Tocsin's /webhooks/twilio/status.
	StatusCallback string
}

// NewTwilioClient builds a twilio-go client, optionally aimed at another base URL.
func NewTwilioClient(cfg TwilioConfig) *twilio.RestClient {
	httpClient := &http.Client{Timeout: 15 * time.Second}
	if cfg.BaseURL != "" {
		target, _ := url.Parse(cfg.BaseURL)
		httpClient.Transport = rewriteHost{target: target, next: http.DefaultTransport}
	}
	base := &twclient.Client{Credentials: twclient.NewCredentials(cfg.AccountSID, cfg.AuthToken), HTTPClient: httpClient}
	base.SetAccountSid(cfg.AccountSID)
	return twilio.NewRestClientWithParams(twilio.ClientParams{Username: cfg.AccountSID, Password: cfg.AuthToken, AccountSid: cfg.AccountSID, Client: base})
}

// rewriteHost sends requests meant for *.twilio.com to another server,
// keeping path, query and body: the SDK still speaks Twilio's REST API.
type rewriteHost struct {
	target *url.URL
	next   http.RoundTripper
}

func (r rewriteHost) RoundTrip(req *http.Request) (*http.Response, error) {
	if strings.HasSuffix(req.URL.Host, "twilio.com") {
		req = req.Clone(req.Context())
		req.URL.Scheme = r.target.Scheme
		req.URL.Host = r.target.Host
		req.URL.Path = strings.TrimSuffix(r.target.Path, "/") + req.URL.Path
		req.Host = r.target.Host
	}
	return r.next.RoundTrip(req)
}

func callbackURL(base string, m Message, channel string) string {
	q := url.Values{"incident": {m.IncidentID}, "subject": {m.SubjectID}, "channel": {channel}}
	return base + "?" + q.Encode()
}

// twilioError turns Twilio's documented number errors into permanent failures.
func twilioError(err error) error {
	var te *twclient.TwilioRestError
	if errors.As(err, &te) {
		switch te.Code {
		case 21211, 21212, 21214, 21217, 21401, 21407, 21408, 21610, 21612, 21614:
			return &PermanentError{Code: fmt.Sprint(te.Code), Reason: te.Message}
		}
		// Anything else (credentials, account, rate limits) is ours to fix, not
		// the person's: retry, and let the operator see it, rather than move
		// everyone down the ladder.
		return fmt.Errorf("twilio %d: %s", te.Code, te.Message)
	}
	return fmt.Errorf("twilio: %w", err)
}

// SMSSender sends text messages through Twilio.
type SMSSender struct {
	Client *twilio.RestClient
	Config TwilioConfig
}

var _ Sender = (*SMSSender)(nil)

// Send creates a Message; the receipt arrives later on the status callback.
func (s *SMSSender) Send(ctx context.Context, m Message) (Result, error) {
	p := &api.CreateMessageParams{}
	p.SetTo(m.To)
	if s.Config.MessagingServiceSID != "" {
		p.SetMessagingServiceSid(s.Config.MessagingServiceSID)
	} else {
		p.SetFrom(s.Config.From)
	}
	p.SetBody(m.Body)
	p.SetValidityPeriod(14400)
	if s.Config.StatusCallback != "" {
		p.SetStatusCallback(callbackURL(s.Config.StatusCallback, m, SMS))
	}
	resp, err := s.Client.Api.CreateMessage(p)
	if err != nil {
		return Result{}, twilioError(err)
	}
	return Result{Ref: deref(resp.Sid)}, nil
}

// VoiceSender places calls that read the notice aloud in the person's language.
type VoiceSender struct {
	Client *twilio.RestClient
	Config TwilioConfig
}

var _ Sender = (*VoiceSender)(nil)

// Send places the call; the outcome arrives on the status callback.
func (s *VoiceSender) Send(ctx context.Context, m Message) (Result, error) {
	p := &api.CreateCallParams{}
	p.SetTo(m.To)
	p.SetFrom(s.Config.From)
	p.SetTwiml(TwiML(m.Body, m.Locale))
	p.SetMachineDetection("Enable")
	if s.Config.StatusCallback != "" {
		p.SetStatusCallback(callbackURL(s.Config.StatusCallback, m, Voice))
		p.SetStatusCallbackEvent([]string{"completed"})
	}
	resp, err := s.Client.Api.CreateCall(p)
	if err != nil {
		return Result{}, twilioError(err)
	}
	return Result{Ref: deref(resp.Sid)}, nil
}

// TwiML reads a script twice in the person's language.
func TwiML(script, locale string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><Response>`)
	for i := 0; i < 2; i++ {
		b.WriteString(`<Say language="` + sayLanguage(locale) + `">`)
		xml.EscapeText(&b, []byte(script))
		b.WriteString(`</Say><Pause length="1"/>`)
	}
	b.WriteString(`</Response>`)
	return b.String()
}

func sayLanguage(locale string) string {
	switch {
	case strings.EqualFold(locale, "zh-HK"):
		return "zh-HK"
	case strings.HasPrefix(strings.ToLower(locale), "zh"):
		return "cmn-CN"
	}
	return "en-US"
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
