package senders

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"
)

// OnsiteConfig configures the platform's notification webhook. Secret signs requests.
type OnsiteConfig struct {
	WebhookURL string
	Secret     string `json:"-"`
}

// OnsiteSender posts an in-app notice to the platform's notification service.
type OnsiteSender struct {
	Config OnsiteConfig
	HTTP   *http.Client
}

var _ Sender = (*OnsiteSender)(nil)

// OnsiteNotice is the webhook's JSON body.
type OnsiteNotice struct {
	ID         string `json:"id"`
	IncidentID string `json:"incident_id"`
	SubjectID  string `json:"subject_id"`
	AccountID  string `json:"account_id"`
	Locale     string `json:"locale"`
	Title      string `json:"title"`
	Body       string `json:"body"`
}

// SignOnsite is the signature the receiver checks: hex HMAC-SHA256 over
// "timestamp.body", so a captured request cannot be replayed later with a new body.
func SignOnsite(secret, timestamp string, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(timestamp + "."))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Send posts the notice; a 2xx answer is acceptance.
func (s *OnsiteSender) Send(ctx context.Context, m Message) (Result, error) {
	n := OnsiteNotice{ID: m.IncidentID + "." + m.NoticeKey(), IncidentID: m.IncidentID, SubjectID: m.SubjectID, AccountID: m.To, Locale: m.Locale, Title: m.Title, Body: m.Body}
	body, _ := json.Marshal(n)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.Config.WebhookURL, bytes.NewReader(body))
	if err != nil {
		return Result{}, err
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", n.ID)
	req.Header.Set("X-Tocsin-Timestamp", ts)
	req.Header.Set("X-Tocsin-Signature", SignOnsite(s.Config.Secret, ts, body))
	client := s.HTTP
	if client == nil {
		client = defaultOnsiteHTTP
	}
	resp, err := client.Do(req)
	if err != nil {
		if neverConnected(err) || NotSent(err) {
			return Result{}, notSent(fmt.Errorf("onsite webhook: %w", err))
		}
		return Result{}, fmt.Errorf("onsite webhook: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch {
	case resp.StatusCode/100 == 2:
		return Result{Ref: n.ID, Final: true}, nil
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusNotFound:
		// Our signature or secret refused, or the webhook URL wrong: no
		// answer about this person.
		return Result{}, &ConfigError{Provider: "onsite", Code: strconv.Itoa(resp.StatusCode), Reason: string(bytes.TrimSpace(msg))}
	case resp.StatusCode/100 == 4 && resp.StatusCode != http.StatusTooManyRequests:
		return Result{}, &PermanentError{Code: strconv.Itoa(resp.StatusCode), Reason: string(bytes.TrimSpace(msg))}
	}
	// The service answered but did not take it (a 5xx may have stored it;
	// the Idempotency-Key makes sending again safe either way).
	return Result{}, fmt.Errorf("onsite webhook: %s", resp.Status)
}

var defaultOnsiteHTTP = PooledHTTP()

// PooledHTTP is a client that keeps connections to one webhook host open
// across a campaign, rather than a TCP handshake per notice.
func PooledHTTP() *http.Client {
	return &http.Client{Timeout: 15 * time.Second, Transport: retryAfterTransport{provider: "onsite", next: &http.Transport{MaxIdleConnsPerHost: 64, IdleConnTimeout: 90 * time.Second}}}
}
