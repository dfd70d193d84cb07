package senders

import (
	"cmp"
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

	"github.com/tocsin/tocsin/internal/bounces"
)

// SMTPConfig configures outgoing email. Password is a secret.
type SMTPConfig struct {
	Addr     string // host:port
	Username string
	Password string `json:"-"`
	From     string
	// Connections is the pool size (0: DefaultSMTPConnections). A relay
	// that hangs holds a connection for the whole Timeout: the pool must
	// outnumber the sessions hung at once, or they hold up every e-mail.
	Connections int
	// TLS is "required" (every connection upgrades with STARTTLS and a
	// verified certificate, or nothing is sent) or "opportunistic" (STARTTLS
	// when the server offers it). Empty is required for any host but a
	// loopback one: a notice to a frightened person must not cross the
	// network in clear because someone stripped STARTTLS on the way.
	TLS string
	// RootCAs verifies the server's certificate; nil is the system's roots.
	RootCAs *x509.CertPool
	// Timeout bounds one message's SMTP transaction (default SMTPTimeout).
	Timeout time.Duration `json:"-"`
	// BounceAddress, when set, is the mailbox bounces go to; each notice's
	// envelope sender is made from it (VERP: bounces+incident.subject@...),
	// so a bounce names its delivery.
	BounceAddress string
	// ReplyTo, when set, is where a person's reply to a notice goes (the
	// reply mailbox, which makes it a question for support).
	ReplyTo string
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
	cfg  SMTPConfig
	once sync.Once
	pool *smtpPool
}

var _ Sender = (*EmailSender)(nil)

// DefaultSMTPConnections is the pool's size unless configured. At 2% of
// sessions hanging for the 30 s timeout, 4 connections carried under 7
// e-mails a second; 32 carry a few hundred, within what relays allow one
// client (Postfix: 50 at once).
const DefaultSMTPConnections = 32

// NewEmailSender prepares a sender; connections open on first use.
func NewEmailSender(cfg SMTPConfig) *EmailSender {
	if cfg.Connections <= 0 {
		cfg.Connections = DefaultSMTPConnections
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = SMTPTimeout
	}
	return &EmailSender{cfg: cfg}
}

// MessageID is deterministic per (incident, subject), so the ledger, the
// recipient's mailbox and the evidence all name the same message.
func MessageID(incidentID, subjectID, domain string) string {
	return fmt.Sprintf("<%s.%s@%s>", incidentID, subjectID, domain)
}

// SMTPTimeout bounds one message's whole SMTP transaction, from taking a
// connection to the server's answer to the end of DATA.
const SMTPTimeout = 30 * time.Second

// Send hands the message to the SMTP server; acceptance is final. A failure
// before the end of DATA, or a refusal the server answered, left nothing
// sent (NotSentError); a timeout or a dropped connection after the message
// went out leaves it in doubt: the server may have taken it.
func (s *EmailSender) Send(ctx context.Context, m Message) (Result, error) {
	s.once.Do(func() {
		var auth smtp.Auth
		host, _, _ := strings.Cut(s.cfg.Addr, ":")
		if s.cfg.Username != "" {
			auth = smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, host)
		}
		s.pool = &smtpPool{cfg: s.cfg, host: host, auth: auth, requireTLS: s.cfg.tlsRequired(),
			idle: make(chan *smtpConn, s.cfg.Connections), slots: make(chan struct{}, s.cfg.Connections)}
	})
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
	id := MessageID(m.IncidentID, m.NoticeKey(), domain)
	if m.MessageID != "" {
		id = m.MessageID
	}
	e.Headers = textproto.MIMEHeader{}
	e.Headers.Set("Message-ID", id)
	if m.InReplyTo != "" {
		e.Headers.Set("In-Reply-To", m.InReplyTo)
		e.Headers.Set("References", m.InReplyTo)
	}
	if s.cfg.ReplyTo != "" {
		e.Headers.Set("Reply-To", s.cfg.ReplyTo)
	}
	e.Headers.Set("X-Tocsin-Incident", m.IncidentID)
	e.Headers.Set("X-Tocsin-Subject", m.SubjectID)
	e.Headers.Set("Content-Language", m.Locale)
	envelope := ""
	if s.cfg.BounceAddress != "" {
		envelope = cmp.Or(bounces.Address(s.cfg.BounceAddress, bounces.Key{IncidentID: m.IncidentID, SubjectID: m.SubjectID}), s.cfg.BounceAddress)
	}
	if err := s.pool.send(ctx, e, envelope); err != nil {
		if Misconfigured(err) {
			return Result{}, err
		}
		var te *textproto.Error
		if errors.As(err, &te) && te.Code >= 500 {
			return Result{}, &PermanentError{Code: fmt.Sprint(te.Code), Reason: te.Msg}
		}
		return Result{}, fmt.Errorf("smtp: %w", err)
	}
	return Result{Ref: id, Final: true}, nil
}

// Domain is the domain of the From address, which Message-IDs use.
func (s *EmailSender) Domain() string {
	if _, d, ok := strings.Cut(s.cfg.From, "@"); ok {
		return strings.Trim(d, "> ")
	}
	return "tocsin.local"
}

// Close closes pooled connections.
func (s *EmailSender) Close() {
	if s.pool != nil {
		s.pool.close()
	}
}

// ErrNoSTARTTLS is a relay that does not offer STARTTLS while smtp.tls is
// required: nothing was sent, and the batch is retried until it is fixed.
var ErrNoSTARTTLS = errors.New("the SMTP server offers no STARTTLS, and smtp.tls is required")

// smtpPool is a pool of SMTP connections. With requireTLS each one upgraded
// with STARTTLS and verified the server's certificate before any mail is
// sent (jordan-wright/email's pool goes on in clear when STARTTLS is
// missing); every transaction has a deadline (that pool has none) and its
// failures say whether the message could have been taken.
type smtpPool struct {
	cfg        SMTPConfig
	host       string
	auth       smtp.Auth
	requireTLS bool
	idle       chan *smtpConn
	slots      chan struct{}
}

type smtpConn struct {
	conn net.Conn
	c    *smtp.Client
}

func (p *smtpPool) dial(ctx context.Context) (*smtpConn, error) {
	d := net.Dialer{Timeout: 15 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", p.cfg.Addr)
	if err != nil {
		return nil, err
	}
	conn.SetDeadline(time.Now().Add(p.cfg.Timeout)) // greeting, STARTTLS and AUTH
	c, err := smtp.NewClient(conn, p.host)
	if err != nil {
		conn.Close()
		return nil, err
	}
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: p.host, RootCAs: p.cfg.RootCAs, MinVersion: tls.VersionTLS12}); err != nil {
			c.Close()
			return nil, fmt.Errorf("%s: STARTTLS: %w", p.cfg.Addr, err)
		}
	} else if p.requireTLS {
		c.Close()
		return nil, fmt.Errorf("%s: %w", p.cfg.Addr, ErrNoSTARTTLS)
	}
	if p.auth != nil {
		if err := c.Auth(p.auth); err != nil {
			c.Close()
			var te *textproto.Error
			if errors.As(err, &te) && te.Code >= 500 {
				// 535 and its kin: the relay refuses our credentials.
				return nil, &ConfigError{Provider: "smtp", Code: fmt.Sprint(te.Code), Reason: "authentication failed: " + te.Msg}
			}
			return nil, err
		}
	}
	return &smtpConn{conn, c}, nil
}

// send delivers e within the configured timeout; envelope is the MAIL FROM
// address ("": e's From).
func (p *smtpPool) send(ctx context.Context, e *email.Email, envelope string) error {
	raw, err := e.Bytes()
	if err != nil {
		return err
	}
	from, err := mail.ParseAddress(e.From)
	if err != nil {
		return fmt.Errorf("smtp.from %q: %w", e.From, err)
	}
	if envelope != "" {
		from = &mail.Address{Address: envelope}
	}
	select {
	case p.slots <- struct{}{}:
	case <-ctx.Done():
		return notSent(ctx.Err())
	}
	defer func() { <-p.slots }()
	sc, reused := (*smtpConn)(nil), false
	select {
	case sc = <-p.idle:
		reused = true
	default:
		if sc, err = p.dial(ctx); err != nil {
			return notSent(err)
		}
	}
	wait := p.cfg.Timeout
	if d := CallTimeout(ctx); d > 0 && d < wait {
		wait = d
	}
	opened, err := p.transact(sc, wait, from.Address, e.To, raw)
	if err != nil && reused && !opened {
		// A pooled connection the relay has since closed (a 421 for an idle
		// session, a reset) fails at MAIL FROM, before any of the message
		// was given: a fresh connection sends it, rather than the campaign
		// taking the relay's housekeeping for a refusal of this person.
		sc.c.Close()
		if sc, err = p.dial(ctx); err != nil {
			return notSent(err)
		}
		_, err = p.transact(sc, wait, from.Address, e.To, raw)
	}
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

// transact runs one mail transaction on sc, within wait; opened says
// whether the relay accepted MAIL FROM, so that a failure before it is the
// connection's.
func (p *smtpPool) transact(sc *smtpConn, wait time.Duration, from string, to []string, raw []byte) (opened bool, err error) {
	sc.conn.SetDeadline(time.Now().Add(wait))
	// Until the message's last line is written the server cannot have
	// taken it, whatever goes wrong.
	if err := sc.c.Mail(from); err != nil {
		var te *textproto.Error
		if errors.As(err, &te) && te.Code >= 500 {
			// MAIL FROM is ours: the relay does not let us send as
			// this sender (or wants authentication we do not give).
			return true, &ConfigError{Provider: "smtp", Code: fmt.Sprint(te.Code), Reason: "sender " + from + " refused: " + te.Msg}
		}
		return false, notSent(err)
	}
	for _, rcpt := range to {
		if err := sc.c.Rcpt(rcpt); err != nil {
			return true, notSent(err)
		}
	}
	w, err := sc.c.Data()
	if err != nil {
		return true, notSent(err)
	}
	if _, err := w.Write(raw); err != nil {
		return true, notSent(err)
	}
	// The server's answer to the end of DATA: a refusal it replied
	// with is certain; no answer (timeout, reset) is doubt.
	err = w.Close()
	var te *textproto.Error
	if errors.As(err, &te) {
		return true, notSent(err)
	}
	return true, err
}

func (p *smtpPool) put(sc *smtpConn) {
	select {
	case p.idle <- sc:
	default:
		sc.c.Close()
	}
}

func (p *smtpPool) close() {
	for {
		select {
		case sc := <-p.idle:
			sc.c.Quit()
		default:
			return
		}
	}
}
