package bounces

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"unicode/utf8"
)

// Questions takes people's replies to their notices (the reply mailbox):
// from is the address the reply came from, text what they wrote above the
// quoted notice. ErrNotTheirs: the sender is not who the notice went to.
type Questions interface {
	AskByEmail(ctx context.Context, key Key, from, text string) error
}

// ErrNotTheirs refuses a reply from an address the notice was not sent
// to: anyone can write a reply that names another person's notice.
var ErrNotTheirs = errors.New("the reply does not come from the address the notice was sent to")

// Reply is what a person wrote back to a notice.
type Reply struct {
	// Key is the notice replied to, from In-Reply-To or References.
	Key  Key
	From string
	Text string
}

// maxReplyText bounds what is kept of a reply.
const maxReplyText = 2000

// ReadReply reads a reply to a notice: the notice's Message-ID it names
// (senders.MessageID), who wrote, and their text without the quoted
// notice. It fails when the message replies to no notice.
func ReadReply(r io.Reader) (Reply, error) {
	msg, err := mail.ReadMessage(io.LimitReader(r, maxDSN))
	if err != nil {
		return Reply{}, fmt.Errorf("read reply: %w", err)
	}
	var out Reply
	ids := strings.Fields(msg.Header.Get("In-Reply-To") + " " + msg.Header.Get("References"))
	found := false
	for _, id := range ids {
		if k, ok := FromMessageID(id); ok {
			out.Key, found = k, true
			break
		}
	}
	if !found {
		return Reply{}, errors.New("the message replies to no notice")
	}
	from, err := mail.ParseAddress(msg.Header.Get("From"))
	if err != nil {
		return Reply{}, fmt.Errorf("reply From: %w", err)
	}
	out.From = strings.ToLower(from.Address)
	text, err := plainText(msg.Header.Get("Content-Type"), msg.Header.Get("Content-Transfer-Encoding"), msg.Body, 0)
	if err != nil {
		return Reply{}, err
	}
	out.Text = ownWords(text)
	if out.Text == "" {
		return Reply{}, errors.New("the reply says nothing above the quoted notice")
	}
	return out, nil
}

// plainText finds the text/plain part of a message (or of a multipart
// one, a level or two down) and decodes it.
func plainText(contentType, encoding string, body io.Reader, depth int) (string, error) {
	mt, params, err := mime.ParseMediaType(contentType)
	if contentType == "" {
		mt, err = "text/plain", nil
	}
	if err != nil {
		return "", fmt.Errorf("reply Content-Type: %w", err)
	}
	switch {
	case strings.HasPrefix(mt, "multipart/") && depth < 3:
		mr := multipart.NewReader(body, params["boundary"])
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				return "", errors.New("the reply has no plain text")
			}
			if err != nil {
				return "", fmt.Errorf("reply part: %w", err)
			}
			// multipart decodes quoted-printable itself and drops the header.
			enc := part.Header.Get("Content-Transfer-Encoding")
			if text, err := plainText(part.Header.Get("Content-Type"), enc, part, depth+1); err == nil {
				return text, nil
			}
		}
	case mt == "text/plain":
		var r io.Reader = body
		switch strings.ToLower(strings.TrimSpace(encoding)) {
		case "base64":
			r = base64.NewDecoder(base64.StdEncoding, body)
		case "quoted-printable":
			r = quotedprintable.NewReader(body)
		}
		b, err := io.ReadAll(io.LimitReader(r, maxDSN))
		if err != nil {
			return "", fmt.Errorf("reply text: %w", err)
		}
		if !utf8.Valid(b) {
			return "", errors.New("the reply's text is not UTF-8")
		}
		return string(b), nil
	}
	return "", fmt.Errorf("no plain text in %s", mt)
}

// ownWords is what a person wrote above the quoted notice: up to the
// first quoted line (and the "On … wrote:" line before it) or a
// signature, trimmed and bounded.
func ownWords(text string) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.HasPrefix(line, ">") || line == "-- " {
			if n := len(lines); n > 0 && strings.HasSuffix(strings.TrimSpace(lines[n-1]), ":") {
				lines = lines[:n-1]
			}
			break
		}
		lines = append(lines, line)
	}
	out := strings.TrimSpace(strings.Join(lines, "\n"))
	if len(out) > maxReplyText {
		out = out[:maxReplyText]
		for !utf8.ValidString(out) {
			out = out[:len(out)-1]
		}
	}
	return out
}
