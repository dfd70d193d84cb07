package bounces

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// Ledger is what a bounce changes: the e-mail delivery of one person fails,
// with the relay's reason, when it is the message the bounce names (its
// Message-ID). It reports whether there was such a delivery.
type Ledger interface {
	RecordBounce(ctx context.Context, incidentID, subjectID, messageID, reason string) (bool, error)
}

// Listener is Tocsin's bounce mailbox: an SMTP server that takes delivery
// status notifications for its bounce address (and the VERP addresses made
// from it) and refuses any other recipient, so it relays nothing.
type Listener struct {
	Ledger Ledger
	// Base is the bounce address the notices' envelope senders are made
	// from (bounces@example.com).
	Base string
	// Allow are the networks bounces may come from (the mail relays); a
	// connection from anywhere else is refused before it can say anything,
	// since whoever can deliver a bounce can fail a delivery. Empty: this
	// machine only.
	Allow []netip.Prefix
	// ReplyAddress, when set with Questions, is where people's replies
	// to their notices arrive (the notices' Reply-To): each becomes a
	// question for support.
	ReplyAddress string
	Questions    Questions
	Log          *slog.Logger
	server       *smtp.Server
	addr         string
}

// loopback is the default Allow.
var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// allowed says whether a peer may deliver bounces.
func (l *Listener) allowed(addr net.Addr) bool {
	tcp, ok := addr.(*net.TCPAddr)
	if !ok {
		return false
	}
	ip := tcp.AddrPort().Addr().Unmap()
	allow := l.Allow
	if len(allow) == 0 {
		allow = loopback
	}
	for _, p := range allow {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// relaysOnly hands the SMTP server only the connections Allow admits; any
// other is told why and closed.
type relaysOnly struct {
	net.Listener
	l *Listener
}

func (r relaysOnly) Accept() (net.Conn, error) {
	for {
		c, err := r.Listener.Accept()
		if err != nil || r.l.allowed(c.RemoteAddr()) {
			return c, err
		}
		r.l.log().Warn("bounce mailbox: refused a connection from outside bounces.allow", "remote", c.RemoteAddr().String())
		c.SetWriteDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "554 5.7.1 this mailbox takes bounces only from its mail relays\r\n")
		c.Close()
	}
}

// Start listens on addr ("127.0.0.1:0" picks a port).
func (l *Listener) Start(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	l.addr = ln.Addr().String()
	s := smtp.NewServer(listenerBackend{l})
	s.Domain = "localhost"
	s.ReadTimeout = time.Minute
	s.WriteTimeout = time.Minute
	s.MaxMessageBytes = maxDSN
	s.MaxRecipients = 10
	s.ErrorLog = nopLog{}
	l.server = s
	go s.Serve(relaysOnly{ln, l})
	return nil
}

// Addr is where the listener takes mail.
func (l *Listener) Addr() string { return l.addr }

// Close stops the listener.
func (l *Listener) Close() error {
	if l.server == nil {
		return nil
	}
	return l.server.Close()
}

func (l *Listener) log() *slog.Logger {
	if l.Log != nil {
		return l.Log
	}
	return slog.Default()
}

// ours says whether an address is the bounce mailbox or one made from it.
func (l *Listener) ours(addr string) bool {
	addr = strings.ToLower(strings.Trim(addr, "<> "))
	local, domain, _ := strings.Cut(addr, "@")
	baseLocal, baseDomain, _ := strings.Cut(strings.ToLower(l.Base), "@")
	base, _, _ := strings.Cut(local, "+")
	return domain == baseDomain && base == baseLocal
}

type listenerBackend struct{ l *Listener }

func (b listenerBackend) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &bounceSession{l: b.l}, nil
}

type bounceSession struct {
	l     *Listener
	to    []string
	reply bool // to the reply mailbox
}

func (s *bounceSession) Reset()                               { s.to, s.reply = nil, false }
func (s *bounceSession) Logout() error                        { return nil }
func (s *bounceSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *bounceSession) AuthPlain(string, string) error       { return smtp.ErrAuthUnsupported }
func (s *bounceSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.l.isReply(to) {
		s.reply = true
		return nil
	}
	if !s.l.ours(to) {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "this server takes only delivery status notifications for Tocsin"}
	}
	s.to = append(s.to, to)
	return nil
}

// Data reads the notification and fails the delivery it names. Something
// that is not a notification is accepted and dropped: a relay must not
// keep retrying it, and it changes nothing.
func (s *bounceSession) Data(r io.Reader) error {
	if s.reply {
		return s.question(r)
	}
	outcomes, err := ReadDSN(r)
	if err != nil {
		s.l.log().Info("bounce mailbox: ignored a message", "reason", err.Error())
		return nil
	}
	key, tagged := Key{}, false
	for _, to := range s.to {
		if k, ok := Parse(to); ok {
			key, tagged = k, true
			break
		}
	}
	for _, o := range outcomes {
		if !o.Failed() {
			continue // delayed or delivered: the relay is still trying, or done
		}
		if strings.TrimSpace(o.MessageID) == "" {
			// Nothing to match it against: a bounce that does not say which
			// message came back fails nobody's delivery.
			s.l.log().Warn("bounce mailbox: a bounce names no message (no Message-ID in the returned headers); ignored", "status", o.Status)
			continue
		}
		k, ok := FromMessageID(o.MessageID)
		if tagged && (!ok || k != key) {
			s.l.log().Warn("bounce mailbox: the bounce's envelope and the message it returns name different notices; ignored", "status", o.Status)
			continue
		}
		if !ok {
			s.l.log().Warn("bounce mailbox: a bounce names no notice", "status", o.Status)
			continue
		}
		kind := "soft bounce, the relay gave up"
		if o.Hard() {
			kind = "hard bounce"
		}
		reason := strings.TrimSpace(kind + " " + o.Status + ": " + o.Diagnostic)
		found, err := s.l.Ledger.RecordBounce(context.Background(), k.IncidentID, k.SubjectID, o.MessageID, reason)
		if err != nil {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "ledger unavailable, try again later"}
		}
		if !found {
			s.l.log().Warn("bounce mailbox: no e-mail delivery for the bounce", "incident", k.IncidentID)
		}
	}
	return nil
}

// isReply says whether an address is the reply mailbox.
func (l *Listener) isReply(addr string) bool {
	return l.Questions != nil && l.ReplyAddress != "" && strings.EqualFold(strings.Trim(addr, "<> "), l.ReplyAddress)
}

// question hands a person's reply to support. What cannot be one (no
// notice named, another's notice, nothing written) is accepted and
// dropped, so no relay retries it; nothing of it is logged but why.
func (s *bounceSession) question(r io.Reader) error {
	reply, err := ReadReply(r)
	if err != nil {
		s.l.log().Info("reply mailbox: ignored a message", "reason", err.Error())
		return nil
	}
	err = s.l.Questions.AskByEmail(context.Background(), reply.Key, reply.From, reply.Text)
	switch {
	case errors.Is(err, ErrNotTheirs):
		s.l.log().Warn("reply mailbox: a reply from an address its notice was not sent to; ignored", "incident", reply.Key.IncidentID)
	case err != nil:
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "questions unavailable, try again later"}
	}
	return nil
}

// FromMessageID reads the key from a notice's Message-ID
// (<incident.subject@domain>, senders.MessageID).
func FromMessageID(id string) (Key, bool) {
	id = strings.Trim(strings.TrimSpace(id), "<>")
	at := strings.LastIndex(id, "@")
	if at < 0 {
		return Key{}, false
	}
	inc, subj, ok := strings.Cut(id[:at], ".")
	if !ok || inc == "" || subj == "" {
		return Key{}, false
	}
	return Key{IncidentID: inc, SubjectID: subj}, true
}

type nopLog struct{}

func (nopLog) Printf(string, ...any) {}
func (nopLog) Println(...any)        {}
