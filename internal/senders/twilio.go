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

	"github.com/tocsin/tocsin/templates"
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
	// AckCallback is the public URL of /webhooks/twilio/ack, where a call's
	// "press 1" lands; empty, calls ask for no acknowledgement.
	AckCallback string
	// ValidityPeriod is how long Twilio may keep trying an SMS (seconds,
	// 1 to 36000; default 4 hours): a breach notice a day late is noise.
	ValidityPeriod int
	// Timeout bounds one API request (default TwilioTimeout); a request
	// that times out leaves its message in doubt.
	Timeout time.Duration `json:"-"`
}

// TwilioTimeout is how long a Twilio API request may take.
const TwilioTimeout = 15 * time.Second

// NewTwilioClient builds a twilio-go client, optionally aimed at another base URL.
func NewTwilioClient(cfg TwilioConfig) *twilio.RestClient {
	var transport http.RoundTripper = &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second, ForceAttemptHTTP2: true}
	if cfg.BaseURL != "" {
		target, _ := url.Parse(cfg.BaseURL)
		transport = rewriteHost{target: target, next: transport}
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = TwilioTimeout
	}
	httpClient := &http.Client{Timeout: timeout, Transport: retryAfterTransport{provider: "twilio", next: transport}}
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
	var ra *RetryAfterError
	if errors.As(err, &ra) {
		return ra
	}
	var te *twclient.TwilioRestError
	if errors.As(err, &te) {
		switch te.Code {
		// Codes about this message or number: no retry can change them.
		// 21602 and 21617: the body is empty or over 1,600 characters.
		case 21211, 21214, 21217, 21401, 21407, 21408, 21602, 21610, 21612, 21614, 21617:
			return &PermanentError{Code: fmt.Sprint(te.Code), Reason: te.Message}
		// Codes about our account, credentials or sender: hold the
		// channel until they are fixed. 20003 authenticate, 20005 and
		// 10001 account not active, 21212 and 21606 and 21659 the From
		// number, 21703 and 21704 the messaging service.
		case 20003, 20005, 10001, 21212, 21606, 21659, 21703, 21704:
			return &ConfigError{Provider: "twilio", Code: fmt.Sprint(te.Code), Reason: te.Message}
		}
		if te.Status == 401 || te.Status == 403 {
			return &ConfigError{Provider: "twilio", Code: fmt.Sprint(te.Code), Reason: te.Message}
		}
		// Anything else (credentials, account, rate limits) is ours to fix, not
		// the person's: retry, and let the operator see it, rather than move
		// everyone down the ladder. A 4xx refused the request; after a 5xx
		// Twilio may still have created the message, so it is in doubt.
		e := fmt.Errorf("twilio %d: %s", te.Code, te.Message)
		if te.Status >= 400 && te.Status < 500 {
			return notSent(e)
		}
		return e
	}
	if neverConnected(err) {
		return notSent(fmt.Errorf("twilio: %w", err))
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
	validity := s.Config.ValidityPeriod
	if validity <= 0 {
		validity = 14400
	}
	p.SetValidityPeriod(validity)
	if s.Config.StatusCallback != "" {
		p.SetStatusCallback(callbackURL(s.Config.StatusCallback, m, SMS))
	}
	resp, err := s.Client.Api.CreateMessage(p)
	if err != nil {
		return Result{}, twilioError(err)
	}
	_, parts := Segments(m.Body)
	return Result{Ref: deref(resp.Sid), Segments: parts}, nil
}

// lookback covers clock skew between us and the provider.
const lookback = time.Minute

// Find asks Twilio for a message to the same number with the same text
// created since the interrupted claim and not another delivery's.
func (s *SMSSender) Find(ctx context.Context, m Message, since time.Time, theirs func(ref string) bool) (Result, bool, error) {
	p := &api.ListMessageParams{}
	p.SetTo(m.To)
	p.SetDateSentAfter(since.Add(-lookback))
	p.SetPageSize(50)
	p.SetLimit(200)
	list, err := s.Client.Api.ListMessage(p)
	if err != nil {
		return Result{}, false, twilioError(err)
	}
	for _, msg := range list {
		if deref(msg.Body) == m.Body && createdSince(msg.DateCreated, since) && !theirs(deref(msg.Sid)) {
			_, parts := Segments(m.Body)
			return Result{Ref: deref(msg.Sid), Segments: parts}, true, nil
		}
	}
	return Result{}, false, nil
}

// createdSince reads Twilio's RFC 1123 dates; an unreadable one counts, as
// a duplicate is worse than a lookup that errs on "already sent".
func createdSince(date *string, since time.Time) bool {
	if date == nil {
		return true
	}
	t, err := time.Parse(time.RFC1123Z, *date)
	return err != nil || !t.Before(since.Add(-lookback))
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
	ack := ""
	if s.Config.AckCallback != "" {
		ack = callbackURL(s.Config.AckCallback, m, Voice)
	}
	p.SetTwiml(TwiML(m.Body, m.Locale, ack))
	// DetectMessageEnd starts the script after a voicemail greeting's beep,
	// so an answering machine records the whole notice.
	p.SetMachineDetection("DetectMessageEnd")
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

// Find asks Twilio for a call to the same number placed since the claim
// that the ledger does not give to another delivery (two people sharing a
// number each get their own call).
func (s *VoiceSender) Find(ctx context.Context, m Message, since time.Time, theirs func(ref string) bool) (Result, bool, error) {
	p := &api.ListCallParams{}
	p.SetTo(m.To)
	p.SetStartTimeAfter(since.Add(-lookback))
	p.SetPageSize(50)
	p.SetLimit(200)
	list, err := s.Client.Api.ListCall(p)
	if err != nil {
		return Result{}, false, twilioError(err)
	}
	for _, c := range list {
		if createdSince(c.DateCreated, since) && !theirs(deref(c.Sid)) {
			return Result{Ref: deref(c.Sid)}, true, nil
		}
	}
	return Result{}, false, nil
}

// TwiML reads a script in the person's language, asks them to press 1 to
// confirm they heard it (when ack is set), and reads it again for those who
// did not: the repeat catches the first words a surprised person missed.
func TwiML(script, locale, ack string) string {
	lang := templates.VoiceLanguage(locale)
	say := func(b *strings.Builder, text string) {
		b.WriteString(`<Say language="` + lang + `">`)
		xml.EscapeText(b, []byte(text))
		b.WriteString(`</Say>`)
	}
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?><Response>`)
	for i := 0; i < 2; i++ {
		if ack == "" {
			say(&b, script)
			b.WriteString(`<Pause length="1"/>`)
			continue
		}
		b.WriteString(`<Gather numDigits="1" timeout="5" method="POST" action="`)
		xml.EscapeText(&b, []byte(ack))
		b.WriteString(`">`)
		say(&b, script)
		say(&b, templates.PressOne(locale))
		b.WriteString(`</Gather>`)
	}
	b.WriteString(`</Response>`)
	return b.String()
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TwilioOutcome maps Twilio's message and call statuses onto the ledger's
// ("" for the states on the way: queued, sending, ringing, in-progress).
// CallOutcome is a finished call's outcome: "completed" counts as delivered
// only when a person answered, or a machine took the message after its beep;
// a fax, a machine that never beeped or an unknown answer reached nobody,
// and the person moves on to the next channel.
func CallOutcome(status, answeredBy string) string {
	out := TwilioOutcome(status)
	if out == "delivered" && answeredBy != "" && answeredBy != "human" && answeredBy != "machine_end_beep" {
		return "failed"
	}
	return out
}

func TwilioOutcome(status string) string {
	switch status {
	case "delivered", "completed":
		return "delivered"
	case "undelivered":
		return "undelivered"
	case "failed", "busy", "no-answer", "canceled":
		return "failed"
	}
	return ""
}

// TwilioStatus asks Twilio for a message's or call's status: the sweep for
// receipts whose callback never came.
type TwilioStatus struct {
	Client *twilio.RestClient
}

// Status fetches the message (SMS) or call (voice) and maps its status.
func (t TwilioStatus) Status(ctx context.Context, channel, ref string) (string, string, error) {
	if channel == Voice {
		c, err := t.Client.Api.FetchCall(ref, nil)
		if err != nil {
			return "", "", twilioError(err)
		}
		return CallOutcome(deref(c.Status), deref(c.AnsweredBy)), "", nil
	}
	m, err := t.Client.Api.FetchMessage(ref, nil)
	if err != nil {
		return "", "", twilioError(err)
	}
	return TwilioOutcome(deref(m.Status)), "", nil
}
