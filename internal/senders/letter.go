package senders

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/tocsin/tocsin/internal/inventory"
	"github.com/tocsin/tocsin/internal/letters"
)

// Letter is the postal channel's name.
const Letter = "letter"

// PrintJob is one letter handed to a print-and-mail vendor: the PDF to
// print and the address to mail it to.
type PrintJob struct {
	// ID is the letter's reference, printed on it; the vendor keeps one
	// letter per ID (its idempotency key).
	ID         string            `json:"id"`
	IncidentID string            `json:"incident_id"`
	SubjectID  string            `json:"subject_id"`
	Name       string            `json:"name"`
	Address    inventory.Address `json:"address"`
	Title      string            `json:"title"`
	Pages      int               `json:"pages"`
	PDF        []byte            `json:"pdf"`
}

// PrintVendor takes letters to print and mail. A vendor's own API plugs
// in here; WebhookVendor posts each letter to a signed webhook.
type PrintVendor interface {
	Submit(ctx context.Context, job PrintJob) (ref string, err error)
}

// LetterConfig configures letters and the vendor that mails them.
type LetterConfig struct {
	// Sender is the return address printed above the window.
	Sender string
	// Font is a TrueType font with glyf outlines for every script the
	// letters use (empty: Debian's fonts-droid-fallback).
	Font string
	// VendorURL is the print vendor's webhook; Secret signs each request.
	VendorURL string
	Secret    string `json:"-"`
	Timeout   time.Duration
}

// LetterSender prints a person's notice as a letter and hands it to the
// vendor; the vendor taking it is the outcome (mail has no receipt).
type LetterSender struct {
	Printer *letters.Printer
	Vendor  PrintVendor
	// Now dates the letter (nil: the clock).
	Now func() time.Time
}

var _ Sender = (*LetterSender)(nil)

// NewLetterSender prints with cfg's font and posts to its vendor.
func NewLetterSender(cfg LetterConfig) *LetterSender {
	return &LetterSender{Printer: &letters.Printer{Sender: cfg.Sender, Font: cfg.Font},
		Vendor: &WebhookVendor{URL: cfg.VendorURL, Secret: cfg.Secret, HTTP: &http.Client{Timeout: cmpOr(cfg.Timeout, 30*time.Second)}}}
}

func cmpOr(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// LetterID is the same for every print of one notice to one person, so a
// vendor folds a resend into the first letter.
func LetterID(incidentID, subjectID string) string {
	sum := sha256.Sum256([]byte(incidentID + "\x00" + subjectID))
	return "L-" + hex.EncodeToString(sum[:8])
}

// Send prints the letter and submits it.
func (s *LetterSender) Send(ctx context.Context, m Message) (Result, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	l := letters.Letter{ID: LetterID(m.IncidentID, m.NoticeKey()), IncidentID: m.IncidentID, SubjectID: m.SubjectID, Name: m.Name,
		Address: inventory.ParseAddress(m.To), Title: m.Title, Body: m.Body, Date: now().UTC()}
	pdf, pages, err := s.Printer.One(l)
	if errors.Is(err, letters.ErrNoFont) {
		return Result{}, &ConfigError{Provider: "letter", Code: "font", Reason: err.Error()}
	}
	if err != nil {
		return Result{}, notSent(fmt.Errorf("print letter: %w", err))
	}
	ref, err := s.Vendor.Submit(ctx, PrintJob{ID: l.ID, IncidentID: l.IncidentID, SubjectID: l.SubjectID, Name: l.Name, Address: l.Address, Title: l.Title, Pages: pages, PDF: pdf})
	if err != nil {
		return Result{}, err
	}
	return Result{Ref: ref, Final: true}, nil
}

// WebhookVendor posts each letter as JSON (the PDF base64) to the vendor,
// signed as on-site notices are (SignOnsite) and keyed by the letter's ID.
type WebhookVendor struct {
	URL    string
	Secret string
	HTTP   *http.Client
}

// Submit posts the letter; a 2xx answer is the vendor taking it.
func (v *WebhookVendor) Submit(ctx context.Context, job PrintJob) (string, error) {
	if v.URL == "" {
		return "", &ConfigError{Provider: "letter", Code: "not_configured", Reason: "no print vendor configured (letters.vendor_url)"}
	}
	body, _ := json.Marshal(job)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.URL, bytes.NewReader(body))
	if err != nil {
		return "", &ConfigError{Provider: "letter", Code: "url", Reason: err.Error()}
	}
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", job.ID)
	req.Header.Set("X-Tocsin-Timestamp", ts)
	req.Header.Set("X-Tocsin-Signature", SignOnsite(v.Secret, ts, body))
	resp, err := v.HTTP.Do(req)
	if err != nil {
		if neverConnected(err) {
			return "", notSent(fmt.Errorf("print vendor: %w", err))
		}
		return "", fmt.Errorf("print vendor: %w", err)
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	switch {
	case resp.StatusCode/100 == 2:
		var ack struct {
			Ref string `json:"ref"`
		}
		if json.Unmarshal(msg, &ack) == nil && ack.Ref != "" {
			return ack.Ref, nil
		}
		return job.ID, nil
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusNotFound:
		return "", &ConfigError{Provider: "letter", Code: strconv.Itoa(resp.StatusCode), Reason: string(bytes.TrimSpace(msg))}
	case resp.StatusCode == http.StatusUnprocessableEntity:
		// The vendor cannot mail to this address.
		return "", &PermanentError{Code: "undeliverable", Reason: string(bytes.TrimSpace(msg))}
	case resp.StatusCode == http.StatusTooManyRequests:
		return "", &RetryAfterError{Provider: "letter", After: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now())}
	}
	// Not taken (a 5xx may have kept it; the ID folds a resend).
	return "", fmt.Errorf("print vendor: %s", resp.Status)
}
