package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/senders"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/templates"
	"github.com/tocsin/tocsin/workflows"
)

// SlackApp is the war room's interactive side: buttons and the /tocsin command.
type SlackApp struct {
	// SigningSecret verifies every request Slack sends (a secret).
	SigningSecret string
	// Users maps Slack user IDs to Tocsin identities and roles; anyone else
	// is told they are unknown and can do nothing.
	Users map[string]Principal
	// WarRoom updates review messages and talks to one person at a time.
	WarRoom *senders.WarRoom
}

// verifySlack checks X-Slack-Signature over the raw body with the signing
// secret, refusing anything older than five minutes (a replay), and returns
// the body for parsing.
func (s *Server) verifySlack(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	if s.Slack == nil || s.Slack.SigningSecret == "" {
		http.Error(w, "slack is not configured", http.StatusNotFound)
		return nil, false
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		http.Error(w, "bad body", http.StatusBadRequest)
		return nil, false
	}
	v, err := slack.NewSecretsVerifier(r.Header, s.Slack.SigningSecret)
	if err == nil {
		v.Write(body)
		err = v.Ensure()
	}
	if err != nil {
		s.log().Warn("slack request refused", "path", r.URL.Path, "reason", err.Error())
		http.Error(w, "invalid or expired signature", http.StatusUnauthorized)
		return nil, false
	}
	// A signature holds for five minutes: a captured button press or
	// command is taken once, not again within them.
	first, err := s.Store.FirstSeen(r.Context(), "slack", r.Header.Get("X-Slack-Signature"), time.Now(), 10*time.Minute)
	if err != nil {
		http.Error(w, "could not check the request", http.StatusServiceUnavailable)
		return nil, false
	}
	if !first {
		s.log().Warn("slack request refused", "path", r.URL.Path, "reason", "replayed")
		http.Error(w, "this request was already taken once", http.StatusUnauthorized)
		return nil, false
	}
	return body, true
}

// slackUser maps a Slack user to a Tocsin principal: none for a user the
// configuration does not list, or whose access was revoked (token revoke).
func (s *Server) slackUser(ctx context.Context, id string) (Principal, bool) {
	p, ok := s.Slack.Users[id]
	p.Via = "slack"
	if ok {
		if suspended, err := s.Store.Suspended(ctx, p.Identity); err != nil || suspended {
			return p, false
		}
	}
	return p, ok
}

func unknownSlackUser(id string) string {
	return fmt.Sprintf("Tocsin does not know you (Slack user %s), so it did nothing. An admin maps Slack users to Tocsin identities (slack.users in tocsin.yaml).", id)
}

// slackReply answers only the person who typed the command (a restricted
// incident must not be announced in whatever channel it was typed in), with
// every character of the text shown as written.
func slackReply(w http.ResponseWriter, text string) {
	writeJSON(w, http.StatusOK, map[string]string{"response_type": "ephemeral", "text": senders.SlackEscape(text)})
}

// slackCommand serves /tocsin: help, list, status ID, open (with the
// incident file as the command's text after the first line).
func (s *Server) slackCommand(w http.ResponseWriter, r *http.Request) {
	body, ok := s.verifySlack(w, r)
	if !ok {
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	cmd, err := slack.SlashCommandParse(r)
	if err != nil {
		http.Error(w, "bad command", http.StatusBadRequest)
		return
	}
	p, known := s.slackUser(r.Context(), cmd.UserID)
	if !known {
		s.audit(r.Context(), Principal{Identity: "slack:" + cmd.UserID, Via: "slack"}, "", "slack command", store.AuditRefused, map[string]string{"reason": "unknown slack user"})
		slackReply(w, unknownSlackUser(cmd.UserID))
		return
	}
	// The verb ends at the first space or line break: "open" is followed by
	// the incident file on the next lines, "status" by an ID on the same one.
	verb, rest := strings.TrimSpace(cmd.Text), ""
	if i := strings.IndexAny(verb, " \n"); i >= 0 {
		verb, rest = verb[:i], verb[i+1:]
	}
	switch strings.ToLower(verb) {
	case "list":
		slackReply(w, s.slackList(r.Context(), p))
	case "status":
		slackReply(w, s.slackStatus(r.Context(), p, strings.TrimSpace(rest)))
	case "open":
		id, err := s.Open(r.Context(), p, OpenRequest{File: "slack", YAML: strings.TrimSpace(rest)}, nil)
		if incident.RefusedAs(err) == incident.Forbidden {
			slackReply(w, err.Error()+".")
			return
		}
		if err != nil {
			slackReply(w, "The incident was not opened: "+err.Error()+"\nWrite `/tocsin open` and the incident file (YAML) on the lines after it.")
			return
		}
		slackReply(w, fmt.Sprintf(":rotating_light: %s opened by %s. Its war room is #%s; `/tocsin status %s` shows where it stands.", id, p.Identity, senders.ChannelName(id), id))
	case "facts", "revise", "file", "waive", "release-calls", "pause", "resume", "hold", "add", "correct":
		slackReply(w, s.slackChange(r.Context(), p, strings.ToLower(verb), rest))
	default:
		slackReply(w, slackUsage)
	}
}

const slackUsage = "Usage:\n" +
	"`/tocsin list` · `/tocsin status INC-…`\n" +
	"`/tocsin open` and the incident file (YAML) on the next lines\n" +
	"`/tocsin facts INC-…` and `field: value` lines (cause, organisation, reporter, dpo_contact, …)\n" +
	"`/tocsin revise INC-… DRAFT` and `field: value` lines, after legal rejected the draft\n" +
	"`/tocsin file INC-… OBLIGATION REFERENCE [why it is late]` records a filing\n" +
	"`/tocsin waive INC-… OBLIGATION reason…` (legal) records that a duty does not apply, and why\n" +
	"`/tocsin release-calls INC-… reason…` (legal, admins) places calls held for quiet hours now: the harm is urgent\n" +
	"`/tocsin pause INC-… reason…` · `/tocsin resume INC-…` (legal, admins) stop and restart the campaign's sending\n" +
	"`/tocsin hold INC-… UNTIL` and `requested_by:`, `reason:` lines (legal, admins) delays notice at law enforcement's request\n" +
	"`/tocsin correct INC-… DRAFT` and `field: value` lines (legal, admins) drafts a correction of a notice that went out, sent once approved to those who got it\n" +
	"`/tocsin add INC-… SYSTEM,SYSTEM` (legal, admins) adds the people of systems found later (a list of people: `tocsin incident add --subjects-file`)\n" +
	"Legal approves and rejects drafts with the buttons in the war room."

// slackChange runs facts, revise and file: the responders' side of an
// incident, so it can be run from Slack alone.
func (s *Server) slackChange(ctx context.Context, p Principal, verb, rest string) string {
	first, body, _ := strings.Cut(strings.TrimSpace(rest), "\n")
	args := strings.Fields(first)
	if len(args) == 0 {
		return slackUsage
	}
	id := strings.ToUpper(args[0])
	if _, ok := s.visible(ctx, p, id); !ok {
		return "No incident " + args[0] + "."
	}
	switch verb {
	case "facts":
		// "facts INC-… ja" and field lines translate into that language.
		locale, rest := "", args[1:]
		if len(rest) > 0 && !strings.Contains(rest[0], ":") && slices.Contains(templates.NoticeLocales, rest[0]) {
			locale, rest = rest[0], rest[1:]
		}
		set, err := parseFields(strings.Join(rest, " ") + "\n" + body)
		if err != nil {
			return err.Error()
		}
		out, err := s.SetFacts(ctx, p, id, set, locale)
		if err != nil {
			return "Facts not set: " + err.Error()
		}
		var lines []string
		for _, d := range out.Drafts {
			state := fmt.Sprintf("%s r%d", d.Name, d.Revision)
			if len(d.Missing) > 0 {
				state += " still lacks " + strings.Join(d.Missing, ", ")
			}
			if len(d.Untranslated) > 0 {
				state += " not translated to " + d.Locale + ": " + strings.Join(d.Untranslated, ", ")
			}
			if d.LanguageNote != "" {
				state += " (" + d.LanguageNote + ")"
			}
			lines = append(lines, state)
		}
		return "Facts set. Drafts waiting for legal: " + strings.Join(lines, "; ")
	case "revise":
		if len(args) < 2 {
			return "Which draft? `/tocsin revise INC-… DRAFT` and `field: value` lines."
		}
		changes, err := parseFields(body)
		if err != nil {
			return err.Error()
		}
		d, err := s.Decide(ctx, p, id, workflows.UpdateRevise, DecisionRequest{Draft: args[1], Changes: changes})
		if err != nil {
			return args[1] + " was not revised: " + err.Error()
		}
		return fmt.Sprintf("%s will be drafted again from revision %d; legal gets the new revision in the war room.", d.Name, d.Revision)
	case "pause":
		pv, err := s.PauseCampaign(ctx, p, id, strings.TrimSpace(strings.Join(args[1:], " ")+" "+body))
		if err != nil {
			return "Campaign not paused: " + err.Error()
		}
		return fmt.Sprintf("%s: campaign paused by %s: %s. No notice goes out until `/tocsin resume %s`.", id, pv.By, pv.Reason, id)
	case "hold":
		fields, err := parseFields(body)
		if err != nil || len(args) < 2 {
			return "`/tocsin hold INC-… 2026-12-06T18:00:00Z` and, on the next lines, `requested_by: agency and officer` and `reason: …`"
		}
		until, err := time.Parse(time.RFC3339, args[1])
		if err != nil {
			return "Until: want a time like 2026-12-06T18:00:00Z (RFC 3339, with its zone)."
		}
		pv, err := s.HoldCampaign(ctx, p, id, HoldRequest{Until: until, RequestedBy: fields["requested_by"], Reason: fields["reason"]})
		if err != nil {
			return "Notice not held: " + err.Error()
		}
		return fmt.Sprintf("%s: notice held until %s at the request of %s; it moves %s.", id, pv.Until.UTC().Format("2006-01-02 15:04 UTC"), pv.RequestedBy, strings.Join(pv.Duties, ", "))
	case "correct":
		if len(args) < 2 {
			return "Which notice? `/tocsin correct INC-… DRAFT` and `field: value` lines to set first."
		}
		changes, err := parseFields(body)
		if err != nil {
			return err.Error()
		}
		c, err := s.service().CorrectNotice(ctx, caller(p), id, args[1], changes)
		if err != nil {
			return args[1] + " is not being corrected: " + err.Error()
		}
		return fmt.Sprintf("%s: correction %d of %s (revision %d) asked for by %s. Legal gets the new revision in the war room; once approved it goes to everyone who got an earlier one.", id, c.Number, c.Draft, c.From, c.RequestedBy)
	case "add":
		if len(args) < 2 {
			return "Which systems? `/tocsin add INC-… SYSTEM,SYSTEM` (a list of people: `tocsin incident add " + id + " --subjects-file F`)."
		}
		// The service trims the names and drops empty ones.
		w, err := s.service().AddWave(ctx, caller(p), id, strings.Split(strings.Join(args[1:], ","), ","), nil)
		if err != nil {
			return "Nobody was added: " + err.Error()
		}
		return fmt.Sprintf("%s: wave %d asked for by %s: the plan scopes %s, drafts what it newly needs for legal, then tells only its new people.", id, w.Number, w.RequestedBy, strings.Join(w.Systems, ", "))
	case "resume":
		pv, err := s.ResumeCampaign(ctx, p, id)
		if err != nil {
			return "Campaign not resumed: " + err.Error()
		}
		return fmt.Sprintf("%s: campaign resumed (paused by %s since %s).", id, pv.By, pv.At.UTC().Format("15:04 UTC"))
	case "release-calls":
		rel, err := s.ReleaseCalls(ctx, p, id, strings.TrimSpace(strings.Join(args[1:], " ")+" "+body))
		if err != nil {
			return "Calls not released: " + err.Error()
		}
		return fmt.Sprintf("%s: calls released from quiet hours by %s: %s. Held calls are placed now.", id, rel.By, rel.Reason)
	case "waive":
		reason := strings.TrimSpace(strings.Join(args[min(2, len(args)):], " ") + " " + body)
		if len(args) < 2 || reason == "" {
			return "`/tocsin waive INC-… OBLIGATION reason…`: the register keeps the reason the duty does not apply."
		}
		f, err := s.Waive(ctx, p, id, WaiveRequest{Obligation: args[1], Reason: reason})
		if err != nil {
			return args[1] + " was not waived: " + err.Error()
		}
		return fmt.Sprintf("%s waived by %s: %s", args[1], p.Identity, f.WaivedBecause)
	default: // file
		if len(args) < 3 {
			return "`/tocsin file INC-… OBLIGATION REFERENCE [why it is late]`"
		}
		late := strings.TrimSpace(strings.Join(args[3:], " ") + " " + body)
		f, err := s.Submit(ctx, p, id, SubmitRequest{Obligation: args[1], Reference: args[2], LateReason: late})
		if err != nil {
			return args[1] + " was not recorded: " + err.Error()
		}
		return fmt.Sprintf("%s recorded as %s by %s, reference %s.", args[1], f.Status, p.Identity, f.Reference)
	}
}

// parseFields reads "field: value" lines; a blank line is skipped.
func parseFields(text string) (map[string]string, error) {
	out := map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, fmt.Errorf("line %d: write `field: value` (got %q)", i+1, line)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("give at least one `field: value` line")
	}
	return out, nil
}

// slackListLength is how many incidents /tocsin list shows: a chat
// message, not a register.
const slackListLength = 20

func (s *Server) slackList(ctx context.Context, p Principal) string {
	items, next, err := s.listPage(ctx, store.IncidentQuery{Viewer: p.Identity, DrillsOnly: p.Role == RoleDrill, Limit: slackListLength})
	if err != nil {
		return "Incidents are unavailable: " + err.Error()
	}
	var b strings.Builder
	for _, v := range items {
		fmt.Fprintf(&b, "• *%s* %s — %s, %d affected\n", v.ID, senders.SlackEscape(v.Title), v.Status, v.Scope.Subjects)
	}
	if b.Len() == 0 {
		return "No incidents."
	}
	if next != "" {
		fmt.Fprintf(&b, "Only the newest %d are listed; the console and `tocsin incident list` page through the rest.\n", slackListLength)
	}
	return b.String()
}

func (s *Server) slackStatus(ctx context.Context, p Principal, id string) string {
	if id == "" {
		return "Which incident? `/tocsin status INC-…`"
	}
	inc, ok := s.visible(ctx, p, strings.ToUpper(id))
	if !ok {
		return "No incident " + id + "."
	}
	v := s.view(ctx, inc)
	var b strings.Builder
	fmt.Fprintf(&b, "*%s* %s\nStage: *%s*\nScope: %d affected, %d sensitive, %d minors, %d unreachable\n", v.ID, v.Title, v.Status,
		v.Scope.Subjects, v.Scope.Sensitive, v.Scope.Minors, v.Scope.Unreachable)
	for _, d := range v.Drafts {
		who := ""
		if d.ApprovedBy != "" {
			who = " by " + d.ApprovedBy
		}
		fmt.Fprintf(&b, "Draft %s r%d: %s%s\n", d.Name, d.Revision, d.Status, who)
	}
	for _, o := range v.Obligations {
		due := "no fixed deadline"
		if o.DueAt != nil {
			due = "due " + o.DueLocal
			if left := time.Until(*o.DueAt); left > 0 {
				due += fmt.Sprintf(" (in %s)", left.Round(time.Minute))
			}
		}
		fmt.Fprintf(&b, "Obligation %s (%s): %s, %s\n", o.Name, o.Jurisdiction, o.Status, due)
	}
	if c := v.Campaign; c != nil {
		fmt.Fprintf(&b, "Campaign: %d of %d people contacted, %d/%d partitions done\n", c.Contacted, c.Subjects, c.PartitionsDone, c.Partitions)
	}
	if v.Notifications.Reached > 0 || v.Notifications.Failed > 0 || v.Notifications.Withheld > 0 {
		fmt.Fprintf(&b, "Reached: %d, not reached: %d", v.Notifications.Reached, v.Notifications.Failed)
		if v.Notifications.Withheld > 0 {
			fmt.Fprintf(&b, ", withheld (duty waived): %d", v.Notifications.Withheld)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// slackInteractivity handles the review buttons and the reject form.
func (s *Server) slackInteractivity(w http.ResponseWriter, r *http.Request) {
	body, ok := s.verifySlack(w, r)
	if !ok {
		return
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		http.Error(w, "bad form", http.StatusBadRequest)
		return
	}
	var cb slack.InteractionCallback
	if err := json.Unmarshal([]byte(form.Get("payload")), &cb); err != nil {
		http.Error(w, "bad payload", http.StatusBadRequest)
		return
	}
	p, known := s.slackUser(r.Context(), cb.User.ID)
	switch cb.Type {
	case slack.InteractionTypeBlockActions:
		w.WriteHeader(http.StatusOK) // Slack wants an answer within 3 s; the work is quick but replies go by API
		if len(cb.ActionCallback.BlockActions) == 0 {
			return
		}
		act := cb.ActionCallback.BlockActions[0]
		ctx := context.WithoutCancel(r.Context())
		if !known {
			s.audit(ctx, Principal{Identity: "slack:" + cb.User.ID, Via: "slack"}, "", act.ActionID, store.AuditRefused, map[string]string{"reason": "unknown slack user", "value": act.Value})
			s.tell(ctx, cb.Channel.ID, cb.User.ID, unknownSlackUser(cb.User.ID))
			return
		}
		id, draft, rev, err := senders.ParseReviewValue(act.Value)
		if err != nil {
			s.tell(ctx, cb.Channel.ID, cb.User.ID, err.Error())
			return
		}
		if _, ok := s.visible(ctx, p, id); !ok {
			s.tell(ctx, cb.Channel.ID, cb.User.ID, "No incident "+id+".")
			return
		}
		switch act.ActionID {
		case senders.ActionApprove:
			if _, err := s.Decide(ctx, p, id, workflows.UpdateApprove, DecisionRequest{Draft: draft, Revision: rev}); err != nil {
				s.tell(ctx, cb.Channel.ID, cb.User.ID, fmt.Sprintf("%s revision %d was not approved: %s", draft, rev, err))
			}
		case senders.ActionReject:
			if p.Role != RoleLegal {
				s.audit(ctx, p, id, workflows.UpdateReject, store.AuditRefused, map[string]string{"draft": draft, "refusal": "only legal may reject drafts"})
				s.tell(ctx, cb.Channel.ID, cb.User.ID, fmt.Sprintf("Only legal may reject drafts (%s is %s).", p.Identity, p.Role))
				return
			}
			review := s.reviewOf(ctx, id, draft, rev)
			if err := s.Slack.WarRoom.AskRejectReason(ctx, cb.TriggerID, review); err != nil {
				s.tell(ctx, cb.Channel.ID, cb.User.ID, "Could not open the reject form: "+err.Error())
			}
		}
	case slack.InteractionTypeViewSubmission:
		if cb.View.CallbackID != senders.CallbackReject {
			w.WriteHeader(http.StatusOK)
			return
		}
		fail := func(msg string) {
			writeJSON(w, http.StatusOK, map[string]any{"response_action": "errors", "errors": map[string]string{"reason": msg}})
		}
		if !known {
			fail(unknownSlackUser(cb.User.ID))
			return
		}
		id, draft, rev, err := senders.ParseReviewValue(cb.View.PrivateMetadata)
		if err != nil {
			fail("this form has lost which draft it was for (" + err.Error() + "); click Reject again")
			return
		}
		if _, ok := s.visible(r.Context(), p, id); !ok {
			fail("No incident " + id + ".")
			return
		}
		reason := strings.TrimSpace(cb.View.State.Values["reason"]["reason"].Value)
		if reason == "" {
			fail("Say what must change.")
			return
		}
		if _, err := s.Decide(r.Context(), p, id, workflows.UpdateReject, DecisionRequest{Draft: draft, Reason: reason, Revision: rev}); err != nil {
			fail(fmt.Sprintf("%s revision %d was not rejected: %s", draft, rev, err))
			return
		}
		w.WriteHeader(http.StatusOK) // an empty answer closes the form
	default:
		w.WriteHeader(http.StatusOK)
	}
}

// tell answers one person in the war room; when Slack cannot take it, the
// log says so (without the text, which may quote the incident).
func (s *Server) tell(ctx context.Context, channel, user, text string) {
	text = senders.SlackEscape(text)
	if err := withSlackRetry(ctx, func() error { return s.Slack.WarRoom.Tell(ctx, channel, user, text) }); err != nil {
		s.log().Warn("slack ephemeral reply failed", "user", user, "error", err)
	}
}

func (s *Server) reviewOf(ctx context.Context, id, draft string, rev int) senders.Review {
	r := senders.Review{IncidentID: id, Draft: draft, Revision: rev, URL: senders.DraftURL(s.PublicURL, id, draft)}
	if d, err := s.Store.GetDraft(ctx, id, draft, rev); err == nil {
		r.Kind, r.Locale, r.Title = d.Kind, d.Locale, d.Title
	}
	return r
}

// announceDecision changes the draft's review message in the war room to say
// who decided, whichever surface the decision came from, and adds a line to
// the channel. It runs after the decision is final, so it never blocks it.
func (s *Server) announceDecision(ctx context.Context, p Principal, id, update string, d DraftView, req DecisionRequest) {
	if s.Slack == nil || s.Slack.WarRoom == nil {
		return
	}
	m, err := s.Store.GetReviewMessage(ctx, id, d.Name, d.Revision)
	if err != nil {
		return // a drill, a history from before review buttons, or Slack was down when it was posted
	}
	var text string
	switch update {
	case workflows.UpdateApprove:
		text = fmt.Sprintf(":white_check_mark: Approved by %s (%s, via %s) at %s", senders.SlackEscape(p.Identity), p.Role, p.Via, time.Now().UTC().Format("2006-01-02 15:04 UTC"))
		if req.Comment != "" {
			text += ": " + senders.SlackEscape(req.Comment)
		}
	case workflows.UpdateReject:
		text = fmt.Sprintf(":x: Rejected by %s (%s, via %s) at %s: %s", senders.SlackEscape(p.Identity), p.Role, p.Via, time.Now().UTC().Format("2006-01-02 15:04 UTC"), senders.SlackEscape(req.Reason))
	default:
		return
	}
	review := s.reviewOf(ctx, id, d.Name, d.Revision)
	go func() {
		ctx := context.WithoutCancel(ctx)
		if err := withSlackRetry(ctx, func() error { return s.Slack.WarRoom.Decided(ctx, m.Channel, m.TS, review, text) }); err != nil {
			s.log().Warn("war room review message not updated", "incident", id, "draft", d.Name, "error", err)
		}
		line := fmt.Sprintf("%s revision %d: %s", d.Name, d.Revision, text)
		if err := withSlackRetry(ctx, func() error { return s.Slack.WarRoom.Post(ctx, m.Channel, line) }); err != nil {
			s.log().Warn("war room decision line not posted", "incident", id, "error", err)
		}
	}()
}

// withSlackRetry honours Slack's Retry-After up to three times.
func withSlackRetry(ctx context.Context, f func() error) error {
	for attempt := 0; ; attempt++ {
		err := f()
		var rl *slack.RateLimitedError
		if err == nil || !errors.As(err, &rl) || attempt == 3 {
			return err
		}
		select {
		case <-time.After(rl.RetryAfter):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
