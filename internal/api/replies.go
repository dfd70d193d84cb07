package api

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tocsin/tocsin/internal/bounces"
	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/templates"
)

// Replier sends support's answer back on the channel a question came in
// on (to the number or address it came from) and returns the provider's
// ID of what it sent.
type Replier interface {
	Reply(ctx context.Context, q store.Inquiry) (ref string, err error)
}

// The channels questions that come as replies are asked, and answered,
// on: a reply to our text, a reply to our e-mail.
const (
	ChannelSMS   = "sms"
	ChannelEmail = "email"
)

// EmailQuestions takes people's replies to their notices' e-mails (the
// reply mailbox, bounces.Listener) as questions.
type EmailQuestions struct{ Store *store.Store }

// AskByEmail keeps a reply as a question, answered by e-mail to the
// address it came from, which must be one the notice was sent to.
func (s EmailQuestions) AskByEmail(ctx context.Context, key bounces.Key, from, text string) error {
	addrs, err := s.Store.EmailsOf(ctx, key.IncidentID, key.SubjectID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !slices.Contains(addrs, strings.ToLower(from))) {
		return bounces.ErrNotTheirs
	}
	if err != nil {
		return err
	}
	_, err = s.Store.AddInquiry(ctx, store.Inquiry{IncidentID: key.IncidentID, SubjectID: key.SubjectID, Channel: ChannelEmail,
		Question: clip(text, MaxQuestionBytes), AskedAt: time.Now().UTC(), ReplyTo: from})
	return err
}

// The keywords carriers and Twilio's opt-out handling know, in capitals.
var (
	stopWords  = []string{"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"}
	startWords = []string{"START", "UNSTOP", "YES"}
	helpWords  = []string{"HELP", "INFO"}
)

func keyword(body string, words []string) (string, bool) {
	w := strings.ToUpper(strings.Trim(strings.TrimSpace(body), ".!"))
	for _, k := range words {
		if w == k {
			return k, true
		}
	}
	return "", false
}

// twilioIncoming is Twilio's incoming-message webhook for our number: a
// person replied to a notice's text. HELP and STOP get the answers
// carriers require; anything else becomes a question for support,
// answered later by text. The reply's TwiML is what Twilio texts back.
// Nothing the person wrote, nor their number, goes to the log.
func (s *Server) twilioIncoming(w http.ResponseWriter, r *http.Request) {
	if !s.verifyTwilio(w, r) {
		return
	}
	ctx := r.Context()
	from, body := r.PostForm.Get("From"), strings.TrimSpace(r.PostForm.Get("Body"))
	who, err := s.Store.TextedAt(ctx, from)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		// Twilio retries nothing; a 5xx makes it log the failure for the
		// operator, and the person gets no misleading answer.
		s.writeErr(w, err)
		return
	}
	reply := func(kind string) {
		org := "" // only HELP names who texts
		if kind == templates.ReplyHelp && who.IncidentID != "" {
			if inc, err := s.Store.GetIncident(ctx, who.IncidentID); err == nil {
				org = inc.Spec.Facts["organisation"]
			}
		}
		twiml(w, templates.SMSReply(kind, who.Locale, org, s.PublicURL))
	}
	if k, ok := keyword(body, stopWords); ok {
		if err := s.Store.OptOut(ctx, from, who, k, time.Now().UTC()); err != nil {
			s.writeErr(w, err)
			return
		}
		reply(templates.ReplyStop)
		return
	}
	if _, ok := keyword(body, startWords); ok {
		if err := s.Store.OptIn(ctx, from); err != nil {
			s.writeErr(w, err)
			return
		}
		reply(templates.ReplyStart)
		return
	}
	if _, ok := keyword(body, helpWords); ok || body == "" || who.IncidentID == "" {
		// A number we texted nothing learns who we are and where to
		// check a notice, and nothing is kept of what it wrote.
		reply(templates.ReplyHelp)
		return
	}
	if _, err := s.Store.AddInquiry(ctx, store.Inquiry{IncidentID: who.IncidentID, SubjectID: who.SubjectID, Channel: ChannelSMS,
		Question: clip(body, MaxQuestionBytes), AskedAt: time.Now().UTC(), ReplyTo: from}); err != nil {
		s.writeErr(w, err)
		return
	}
	reply(templates.ReplyReceived)
}

// clip shortens text to at most n bytes at a character boundary.
func clip(text string, n int) string {
	if len(text) <= n {
		return text
	}
	text = text[:n]
	for !utf8.ValidString(text) {
		text = text[:len(text)-1]
	}
	return text
}

// twiml answers Twilio with one message to text back.
func twiml(w http.ResponseWriter, text string) {
	w.Header().Set("Content-Type", "text/xml")
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(text))
	fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Response><Message>%s</Message></Response>`, b.String())
}

// sendAnswer sends an answer back on the channel its question came in
// on; a question asked on the verify page is read there instead. The
// answer is already recorded, so a failed send loses nothing: answering
// again sends it again.
func (s *Server) sendAnswer(ctx context.Context, q store.Inquiry) error {
	if (q.Channel != ChannelSMS && q.Channel != ChannelEmail) || q.ReplyTo == "" {
		return nil
	}
	how := map[string]string{ChannelSMS: "texted", ChannelEmail: "e-mailed"}[q.Channel]
	if s.Replies == nil {
		return incident.Refuse(incident.Unavailable, fmt.Errorf("the answer to %s is saved but cannot be %s: this server has no provider for %s", q.ID, how, q.Channel))
	}
	ref, err := s.Replies.Reply(ctx, q)
	if err != nil {
		return incident.Refuse(incident.Unavailable, fmt.Errorf("the answer to %s is saved but was not %s (answer again to retry): %w", q.ID, how, err))
	}
	return s.Store.AnswerSent(ctx, q.ID, ref)
}
