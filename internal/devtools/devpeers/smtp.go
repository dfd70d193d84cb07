package devpeers

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net"
	netsmtp "net/smtp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/jordan-wright/email"
)

// SMTPPeer is a real SMTP server on loopback. It refuses (550 5.1.1) every
// recipient in a .invalid domain (RFC 2606) and keeps every accepted message.
// Mail for a domain ending in .bounce.test is accepted and then, a few
// seconds later, bounced: a delivery status notification (RFC 3464, 5.1.1)
// goes to the envelope sender at BounceRelay, as a remote server's would.
type SMTPPeer struct {
	Outbox *Outbox
	Log    *slog.Logger
	// TLS, when set, offers STARTTLS with this configuration.
	TLS *tls.Config
	// Greylist, when set, answers every recipient 451 4.7.1, quoting the
	// address as real relays do, until it is unset.
	Greylist atomic.Bool
	// Faults, when set, makes the relay slow, failing or silent as a
	// profile says.
	Faults *Faults
	// BounceRelay is the SMTP server bounces are delivered to (Tocsin's
	// bounce mailbox); empty, nothing bounces.
	BounceRelay string
	// BounceDelay is how long after acceptance a bounce is sent (default 2 s).
	BounceDelay time.Duration
	// RefuseSender answers MAIL FROM 553, as a relay does whose sending
	// rights were taken from Tocsin's account.
	RefuseSender atomic.Bool
	server       *smtp.Server
	addr         string
	conns        connSet
}

// connSet keeps the relay's open connections, for DropConnections.
type connSet struct {
	mu sync.Mutex
	m  map[net.Conn]bool
}

type trackedListener struct {
	net.Listener
	set *connSet
}

func (l trackedListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return c, err
	}
	l.set.mu.Lock()
	if l.set.m == nil {
		l.set.m = map[net.Conn]bool{}
	}
	l.set.m[c] = true
	l.set.mu.Unlock()
	return trackedConn{c, l.set}, nil
}

type trackedConn struct {
	net.Conn
	set *connSet
}

func (c trackedConn) Close() error {
	c.set.mu.Lock()
	delete(c.set.m, c.Conn)
	c.set.mu.Unlock()
	return c.Conn.Close()
}

// DropConnections closes every open session, as a relay does with the
// sessions it holds idle too long or when it restarts: a client's pooled
// connection is then dead when next used.
func (p *SMTPPeer) DropConnections() {
	p.conns.mu.Lock()
	defer p.conns.mu.Unlock()
	for c := range p.conns.m {
		c.Close()
		delete(p.conns.m, c)
	}
}

// Start listens on addr ("127.0.0.1:0" picks a port).
func (p *SMTPPeer) Start(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	p.addr = l.Addr().String()
	s := smtp.NewServer(backend{p})
	s.Domain = "localhost"
	s.ReadTimeout = 30 * time.Second
	s.WriteTimeout = 30 * time.Second
	s.MaxMessageBytes = 10 << 20
	s.MaxRecipients = 50
	s.AllowInsecureAuth = true
	s.TLSConfig = p.TLS
	// A client that drops its connection (a killed worker) is no error of
	// ours: say so at debug level, not on stderr.
	s.ErrorLog = smtpLog{p.Log}
	p.server = s
	go s.Serve(trackedListener{l, &p.conns})
	return nil
}

// Addr is where the server listens.
func (p *SMTPPeer) Addr() string { return p.addr }

// Close stops the server.
func (p *SMTPPeer) Close() error {
	if p.server == nil {
		return nil
	}
	return p.server.Close()
}

type backend struct{ p *SMTPPeer }

func (b backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{p: b.p, conn: c}, nil
}

type session struct {
	p    *SMTPPeer
	conn *smtp.Conn
	from string
	to   []string
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.p.RefuseSender.Load() {
		return &smtp.SMTPError{Code: 553, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "<" + from + ">: sender address rejected: not owned by the authenticated user"}
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	domain := to[strings.LastIndex(to, "@")+1:]
	if strings.HasSuffix(strings.ToLower(strings.TrimRight(domain, ">")), ".invalid") {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "mailbox unavailable: the domain does not exist"}
	}
	if s.p.Greylist.Load() {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "<" + to + ">: greylisted, try again later"}
	}
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	if len(s.to) == 0 {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 5, 1}, Message: "no valid recipients"}
	}
	msg, err := email.NewEmailFromReader(r)
	if err != nil {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "malformed message"}
	}
	hit := s.p.Faults.Roll("smtp", msg.Headers.Get("Message-Id"))
	time.Sleep(hit.Delay)
	if hit.Fail == "tempfail" {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "local error in processing, try again later"}
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Subject)
	if err != nil {
		subject = msg.Subject
	}
	for _, to := range s.to {
		e := Entry{
			IncidentID: msg.Headers.Get("X-Tocsin-Incident"), SubjectID: msg.Headers.Get("X-Tocsin-Subject"),
			Channel: "email", To: to, Subject: subject, Body: string(msg.Text), Status: "accepted", Ref: msg.Headers.Get("Message-Id"),
		}
		// A mail resent with the same Message-ID is the same mail: keep one.
		if _, err := s.p.Outbox.AddOnce(context.Background(), e); err != nil {
			return errors.New("451 could not store the message")
		}
	}
	for _, to := range s.to {
		if bounces(to) && s.p.BounceRelay != "" {
			go s.p.bounce(s.from, to, msg.Headers.Get("Message-Id"), msg.Subject)
		}
	}
	if hit.Fail == "accept_then_drop" {
		s.conn.Conn().Close() // kept, but the sender never hears 250
	}
	return nil
}

type smtpLog struct{ log *slog.Logger }

func (l smtpLog) Printf(format string, v ...any) {
	if l.log != nil {
		l.log.Debug("smtp peer: " + fmt.Sprintf(format, v...))
	}
}

func (l smtpLog) Println(v ...any) {
	if l.log != nil {
		l.log.Debug("smtp peer: " + fmt.Sprint(v...))
	}
}

// bounces says whether mail to an address is bounced after acceptance.
func bounces(to string) bool {
	domain := to[strings.LastIndex(to, "@")+1:]
	return strings.HasSuffix(strings.ToLower(strings.TrimRight(domain, ">")), ".bounce.test")
}

// bounce sends the hard-bounce notification for one accepted message to its
// envelope sender, retrying while the bounce mailbox is down, as a relay does.
func (p *SMTPPeer) bounce(envelopeFrom, to, messageID, subject string) {
	delay := p.BounceDelay
	if delay <= 0 {
		delay = 2 * time.Second
	}
	dsn := DSN(to, messageID, subject, "5.1.1", "550 5.1.1 The email account that you tried to reach does not exist")
	for attempt := 0; attempt < 10; attempt++ {
		time.Sleep(delay)
		if err := SendPlain(p.BounceRelay, envelopeFrom, dsn); err == nil {
			return
		} else if p.Log != nil {
			p.Log.Debug("smtp peer: bounce not delivered yet", "error", err)
		}
		delay = min(2*delay, 30*time.Second)
	}
}

// DSN is a delivery status notification (RFC 3464) saying the message to
// recipient failed with status.
func DSN(recipient, messageID, subject, status, diagnostic string) string {
	boundary := "tocsin-dsn-" + randomHex(8)
	recipient = strings.Trim(recipient, "<>")
	var b strings.Builder
	fmt.Fprintf(&b, "From: Mail Delivery System <MAILER-DAEMON@localhost>\r\nSubject: Undelivered Mail Returned to Sender\r\nMessage-ID: <dsn-%s@localhost>\r\n", randomHex(8))
	fmt.Fprintf(&b, "MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=delivery-status; boundary=%q\r\n\r\n", boundary)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nYour message to <%s> could not be delivered: %s\r\n\r\n", boundary, recipient, diagnostic)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; localhost\r\nArrival-Date: %s\r\n\r\n", boundary, time.Now().UTC().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Final-Recipient: rfc822; %s\r\nAction: failed\r\nStatus: %s\r\nDiagnostic-Code: smtp; %s\r\n\r\n", recipient, status, diagnostic)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: %s\r\nSubject: %s\r\nTo: <%s>\r\n\r\n--%s--\r\n", boundary, messageID, mime.QEncoding.Encode("utf-8", subject), recipient, boundary)
	return b.String()
}

// SendPlain delivers one message over SMTP with a null sender, as a relay
// returning a bounce does.
func SendPlain(addr, to, msg string) error {
	return netsmtp.SendMail(addr, nil, "", []string{to}, []byte(msg))
}
