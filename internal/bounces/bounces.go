// Package bounces reads delivery status notifications (RFC 3464) that mail
// relays send back for Tocsin's notices, and tells the ledger: a hard
// bounce, or a soft one the relay gave up on, means the e-mail reached
// nobody and the person is moved on to the next rung.
//
// Each notice goes out with its own envelope sender (VERP):
// bounces+<incident>.<subject>@domain, so a bounce names the delivery even
// when the relay returns none of the original message. A bounce without
// one is matched by the original Message-ID in its returned headers.
package bounces

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"
)

// Key is the ledger row a bounce is about.
type Key struct {
	IncidentID string
	SubjectID  string
}

// maxLocal is the longest local part SMTP allows (RFC 5321).
const maxLocal = 64

// Address is the envelope sender of one notice: base's local part with
// "+incident.subject" added, escaped so any ID survives; "" when that would
// not fit in a local part (the bounce is then matched by Message-ID).
func Address(base string, k Key) string {
	local, domain, ok := strings.Cut(base, "@")
	if !ok {
		return ""
	}
	tagged := local + "+" + escape(k.IncidentID) + "." + escape(k.SubjectID)
	if len(tagged) > maxLocal {
		return ""
	}
	return tagged + "@" + domain
}

// Parse reads the key from an envelope address made by Address.
func Parse(addr string) (Key, bool) {
	local, _, _ := strings.Cut(strings.Trim(addr, "<> "), "@")
	_, tag, ok := strings.Cut(local, "+")
	if !ok {
		return Key{}, false
	}
	inc, subj, ok := strings.Cut(tag, ".")
	if !ok {
		return Key{}, false
	}
	i, err1 := unescape(inc)
	s, err2 := unescape(subj)
	if err1 != nil || err2 != nil || i == "" || s == "" {
		return Key{}, false
	}
	return Key{IncidentID: i, SubjectID: s}, true
}

// escape keeps letters, digits and '-' and writes anything else as =XX,
// so '.', '+' and '@' in an ID cannot be misread.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
			continue
		}
		fmt.Fprintf(&b, "=%02X", c)
	}
	return b.String()
}

func unescape(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", errors.New("truncated escape")
		}
		c, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", err
		}
		b.WriteByte(byte(c))
		i += 2
	}
	return b.String(), nil
}

// Outcome is what a status notification says about one recipient.
type Outcome struct {
	// Action is RFC 3464's: failed, delayed, delivered, relayed, expanded.
	Action string
	// Status is the enhanced status code ("5.1.1").
	Status string
	// Diagnostic is the remote server's words, as the relay quotes them.
	Diagnostic string
	// Recipient is the Final-Recipient address.
	Recipient string
	// MessageID is the original message's, when the relay returned its headers.
	MessageID string
}

// Failed says whether the notice reached nobody: a permanent failure, or a
// temporary one the relay stopped retrying ("failed" with a 4.x.x status
// after its retry window).
func (o Outcome) Failed() bool { return strings.EqualFold(o.Action, "failed") }

// Hard says whether the failure was permanent (5.x.x).
func (o Outcome) Hard() bool { return strings.HasPrefix(o.Status, "5") }

// ErrNotADSN is a message that is not a delivery status notification.
var ErrNotADSN = errors.New("not a delivery status notification (multipart/report; report-type=delivery-status)")

// maxDSN bounds what is read of one notification.
const maxDSN = 1 << 20

// ReadDSN parses a delivery status notification. A notification about
// several recipients gives one outcome each.
func ReadDSN(r io.Reader) ([]Outcome, error) {
	msg, err := mail.ReadMessage(io.LimitReader(r, maxDSN))
	if err != nil {
		return nil, fmt.Errorf("read DSN: %w", err)
	}
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/report" || !strings.EqualFold(params["report-type"], "delivery-status") || params["boundary"] == "" {
		return nil, ErrNotADSN
	}
	var outcomes []Outcome
	messageID := ""
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read DSN part: %w", err)
		}
		pt, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		switch pt {
		case "message/delivery-status", "message/global-delivery-status":
			got, err := readStatus(part)
			if err != nil {
				return nil, err
			}
			outcomes = append(outcomes, got...)
		case "text/rfc822-headers", "message/rfc822", "message/global-headers":
			h, err := textproto.NewReader(bufio.NewReader(part)).ReadMIMEHeader()
			if err == nil || len(h) > 0 {
				messageID = strings.TrimSpace(h.Get("Message-Id"))
			}
		}
	}
	if len(outcomes) == 0 {
		return nil, errors.New("DSN has no per-recipient status")
	}
	for i := range outcomes {
		outcomes[i].MessageID = messageID
	}
	return outcomes, nil
}

// readStatus reads the per-message block and then one block per recipient.
func readStatus(r io.Reader) ([]Outcome, error) {
	body, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	tr := textproto.NewReader(bufio.NewReader(bytes.NewReader(append(bytes.TrimLeft(body, "\r\n"), '\r', '\n', '\r', '\n'))))
	if _, err := tr.ReadMIMEHeader(); err != nil { // per-message fields
		return nil, fmt.Errorf("DSN per-message fields: %w", err)
	}
	var out []Outcome
	for {
		h, err := tr.ReadMIMEHeader()
		if len(h) > 0 && h.Get("Action") != "" {
			out = append(out, Outcome{
				Action:     strings.ToLower(strings.TrimSpace(h.Get("Action"))),
				Status:     strings.TrimSpace(h.Get("Status")),
				Diagnostic: strings.TrimSpace(afterType(h.Get("Diagnostic-Code"))),
				Recipient:  strings.TrimSpace(afterType(h.Get("Final-Recipient"))),
			})
		}
		if err != nil {
			break
		}
	}
	return out, nil
}

// afterType drops an RFC 3464 address or diagnostic type ("rfc822;", "smtp;").
func afterType(v string) string {
	if _, rest, ok := strings.Cut(v, ";"); ok {
		return rest
	}
	return v
}
