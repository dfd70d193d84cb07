package senders

import (
	"context"
	"errors"
	"fmt"
	"net/smtp"
	"net/textproto"
	"strings"
	"sync"
	"time"

	"github.com/jordan-wright/email"
)

// SMTPConfig configures outgoing email. Password is a secret.
type SMTPConfig struct {
	Addr     string // host:port
	Username string
	Password string `json:"-"`
	From     string
	// Connections is the pool size.
	Connections int
}

// EmailSender sends multipart text and HTML mail over a pool of SMTP connections.
type EmailSender struct {
	cfg  SMTPConfig
	once sync.Once
	pool *email.Pool
	err  error
}

var _ Sender = (*EmailSender)(nil)

// NewEmailSender prepares a sender; connections open on first use.
func NewEmailSender(cfg SMTPConfig) *EmailSender {
	if cfg.Connections <= 0 {
		cfg.Connections = 4
	}
	return &EmailSender{cfg: cfg}
}

// MessageID is deterministic per (incident, subject), so the ledger, the
// recipient's mailbox and the evidence all name the same message.
func MessageID(incidentID, subjectID, domain string) string {
	return fmt.Sprintf("<%s.%s@%s>", incidentID, subjectID, domain)
}

// Send hands the message to the SMTP server; acceptance is final.
func (s *EmailSender) Send(ctx context.Context, m Message) (Result, error) {
	s.once.Do(func() {
		var auth smtp.Auth
		host, _, _ := strings.Cut(s.cfg.Addr, ":")
		if s.cfg.Username != "" {
			auth = smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, host)
		}
		s.pool, s.err = email.NewPool(s.cfg.Addr, s.cfg.Connections, auth)
	})
	if s.err != nil {
		return Result{}, fmt.Errorf("smtp pool: %w", s.err)
	}
	e := email.NewEmail()
	e.From = s.cfg.From
	e.To = []string{m.To}
	e.Subject = m.Title
	e.Text = []byte(m.Body)
	e.HTML = []byte(m.HTML)
	domain := "tocsin.local"
	if _, d, ok := strings.Cut(s.cfg.From, "@"); ok {
		domain = strings.Trim(d, "> ")
	}
	id := MessageID(m.IncidentID, m.SubjectID, domain)
	e.Headers = textproto.MIMEHeader{}
	e.Headers.Set("Message-ID", id)
	e.Headers.Set("X-Tocsin-Incident", m.IncidentID)
	e.Headers.Set("X-Tocsin-Subject", m.SubjectID)
	e.Headers.Set("Content-Language", m.Locale)
	if err := s.pool.Send(e, 30*time.Second); err != nil {
		var te *textproto.Error
		if errors.As(err, &te) && te.Code >= 500 {
			return Result{}, &PermanentError{Code: fmt.Sprint(te.Code), Reason: te.Msg}
		}
		return Result{}, fmt.Errorf("smtp: %w", err)
	}
	return Result{Ref: id, Final: true}, nil
}

// Close closes pooled connections.
func (s *EmailSender) Close() {
	if s.pool != nil {
		s.pool.Close()
	}
}
