// Package senders delivers notices through real providers, one small Sender
// per channel: Twilio for SMS and voice (twilio-go), SMTP for email
// (jordan-wright/email), a signed webhook for on-site notice, Slack for the war
// room (slack-go). Each decides at its boundary whether a failure is permanent.
package senders

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Channel names, as the ledger, the playbooks and the outbox spell them.
const (
	Onsite = "onsite"
	Email  = "email"
	SMS    = "sms"
	Voice  = "voice"
)

// Message is one notice to one person over one channel.
type Message struct {
	IncidentID string
	SubjectID  string
	To         string // address, E.164 number or on-site account ID
	// Name is the person's, for a letter's address window.
	Name   string
	Locale string
	Title  string
	Body   string
	HTML   string
	// Code is the person's notice code, which a push alert's link carries
	// ({code}) to the page that shows their notice.
	Code string
	// MessageID and InReplyTo, for an e-mail that is no notice (support's
	// answer to a question): its own Message-ID, and the notice it follows.
	MessageID, InReplyTo string
	// Correction numbers a correction of the notice (tocsin incident
	// correct); 0 for the notice itself. It is part of every key a
	// provider deduplicates by, so a correction is a message of its own.
	Correction int
}

// NoticeKey is what names one message to one person in the keys providers
// deduplicate by: the subject, and for a correction its number.
func (m Message) NoticeKey() string {
	if m.Correction > 0 {
		return fmt.Sprintf("%s.c%d", m.SubjectID, m.Correction)
	}
	return m.SubjectID
}

// Result is what the provider said.
type Result struct {
	// Ref is the provider's ID (Twilio SID, Message-ID, on-site notice ID).
	Ref string
	// Final is true when acceptance is the outcome (email, on-site); false when a
	// receipt will follow (SMS, voice).
	Final bool
	// Delivered: the sender knows the message arrived (a drill sink), so
	// no receipt is awaited.
	Delivered bool
	// Segments is an SMS's billed parts.
	Segments int
}

// Sender sends one message over one channel.
type Sender interface {
	Send(ctx context.Context, m Message) (Result, error)
}

// Finder looks up at the provider a message that an attempt interrupted
// between the provider call and the ledger update may have sent, so that
// recovery neither sends it twice nor forgets it. It passes over messages
// for which theirs is true (the ledger gives them to another delivery).
// Senders without a Finder are sent again under the same key: the on-site
// service drops a repeat by its Idempotency-Key; an email keeps its
// Message-ID, which many mailboxes, but not all, fold into one.
type Finder interface {
	Find(ctx context.Context, m Message, since time.Time, theirs func(ref string) bool) (Result, bool, error)
}

// ErrNoFinder says a sender cannot look messages up.
var ErrNoFinder = errors.New("this sender cannot look messages up")

// PermanentError is a failure that retrying cannot fix: an invalid number, an
// address that does not exist. The subject moves to the next rung.
type PermanentError struct {
	Code   string
	Reason string
}

func (e *PermanentError) Error() string {
	return fmt.Sprintf("permanent failure %s: %s", e.Code, e.Reason)
}

// IsPermanent reports whether err is a PermanentError.
func IsPermanent(err error) bool {
	var p *PermanentError
	return errors.As(err, &p)
}

// ConfigError is a failure of Tocsin's own configuration or account at a
// provider: credentials it refuses (a rotated SMTP password), a sender
// address it does not allow, a webhook URL that is wrong, a suspended
// account. It is no fact about the person: nothing was sent, and the
// channel is held until the provider accepts again, instead of writing
// everyone off it.
type ConfigError struct {
	Provider string
	Code     string
	Reason   string
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("%s %s: %s", e.Provider, e.Code, e.Reason)
}

// Misconfigured reports whether err is a ConfigError.
func Misconfigured(err error) bool {
	var c *ConfigError
	return errors.As(err, &c)
}

// Registry maps channels to their senders.
type Registry map[string]Sender

// Announcer publishes a public announcement beyond Tocsin's own page (a press
// list, the platform's news feed).
type Announcer interface {
	Announce(ctx context.Context, a Announcement) error
}

// Announcement is a published public notice.
type Announcement struct {
	IncidentID string `json:"incident_id"`
	Title      string `json:"title"`
	Body       string `json:"body"`
	URL        string `json:"url"`
}
