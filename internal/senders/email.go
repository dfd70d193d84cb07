package senders

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/mail"
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
	// TLS is "required" (every connection upgrades with STARTTLS and a
	// verified certificate, or nothing is sent) or "opportunistic" (STARTTLS
	// when the server offers it). Empty is required for any host but a
	// loopback one: a notice to a frightened person must not cross the
	// network in clear because someone stripped STARTTLS on the way.
	TLS string
	// RootCAs verifies the server's certificate; nil is the system's roots.
	RootCAs *x509.CertPool
}

// TLSModes are the values smtp.tls takes.
var TLSModes = []string{"required", "opportunistic"}

// tlsRequired says whether this configuration refuses a connection without STARTTLS.
func (c SMTPConfig) tlsRequired() bool {
	if c.TLS != "" {
		return c.TLS == "required"
	}
	host, _, _ := net.SplitHostPort(c.Addr)
	if host == "localhost" {
		return false
	}
	ip := net.ParseIP(host)
	return ip == nil || !ip.IsLoopback()
}

// EmailSender sends multipart text and HTML mail over a pool of SMTP connections.
type EmailSender struct {
	cfg    SMTPConfig
	once   sync.Once
	pool   *email.Pool
	strict *strictPool
	err    error
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
		if s.cfg.tlsRequired() {
			s.strict = &strictPool{cfg: s.cfg, host: host, auth: auth, idle: make(chan *strictConn, s.cfg.Connections), slots: make(chan struct{}, s.cfg.Connections)}
			return
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
	send := func() error { return s.pool.Send(e, 30*time.Second) }
	if s.strict != nil {
		send = func() error { return s.strict.send(ctx, e, 30*time.Second) }
	}
	if err := send(); err != nil {
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
	if s.strict != nil {
		s.strict.close()
	}
}

// ErrNoSTARTTLS is a relay that does not offer STARTTLS while smtp.tls is
// required: nothing was sent, and the batch is retried until it is fixed.
var ErrNoSTARTTLS = errors.New("the SMTP server offers no STARTTLS, and smtp.tls is required")

// strictPool is a pool of SMTP connections each of which upgraded with
// STARTTLS and verified the server's certificate before any mail is sent
// (jordan-wright/email's pool goes on in clear when STARTTLS is missing).
type strictPool struct {
	cfg   SMTPConfig
	host  string
	auth  smtp.Auth
	idle  chan *strictConn
	slots chan struct{}
}

type strictConn struct {
	conn net.Conn
	c    *smtp.Client
}

func (p *strictPool) dial(ctx context.Context) (*strictConn, error) {
	d := net.Dialer{Timeout: 15 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", p.cfg.Addr)
	if err != nil {
		return nil, err
	}
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	c, err := smtp.NewClient(conn, p.host)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if ok, _ := c.Extension("STARTTLS"); !ok {
		c.Close()
		return nil, fmt.Errorf("%s: %w", p.cfg.Addr, ErrNoSTARTTLS)
	}
	if err := c.StartTLS(&tls.Config{ServerName: p.host, RootCAs: p.cfg.RootCAs, MinVersion: tls.VersionTLS12}); err != nil {
		c.Close()
		return nil, fmt.Errorf("%s: STARTTLS: %w", p.cfg.Addr, err)
	}
	if p.auth != nil {
		if err := c.Auth(p.auth); err != nil {
			c.Close()
			return nil, err
		}
	}
	return &strictConn{conn, c}, nil
}

func (p *strictPool) send(ctx context.Context, e *email.Email, timeout time.Duration) error {
	raw, err := e.Bytes()
	if err != nil {
		return err
	}
	from, err := mail.ParseAddress(e.From)
	if err != nil {
		return fmt.Errorf("smtp.from %q: %w", e.From, err)
	}
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-p.slots }()
	var sc *strictConn
	select {
	case sc = <-p.idle:
	default:
		if sc, err = p.dial(ctx); err != nil {
			return err
		}
	}
	sc.conn.SetDeadline(time.Now().Add(timeout))
	err = func() error {
		if err := sc.c.Mail(from.Address); err != nil {
			return err
		}
		for _, to := range e.To {
			if err := sc.c.Rcpt(to); err != nil {
				return err
			}
		}
		w, err := sc.c.Data()
		if err != nil {
			return err
		}
		if _, err := w.Write(raw); err != nil {
			return err
		}
		return w.Close()
	}()
	if err != nil {
		// After a refusal the connection may still serve; after anything
		// else it is in an unknown state.
		var te *textproto.Error
		if errors.As(err, &te) && sc.c.Reset() == nil {
			p.put(sc)
		} else {
			sc.c.Close()
		}
		return err
	}
	p.put(sc)
	return nil
}

func (p *strictPool) put(sc *strictConn) {
	select {
	case p.idle <- sc:
	default:
		sc.c.Close()
	}
}

func (p *strictPool) close() {
	for {
		select {
		case sc := <-p.idle:
			sc.c.Quit()
		default:
			return
		}
	}
}
