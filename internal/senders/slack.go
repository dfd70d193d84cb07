package senders

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/slack-go/slack"
)

// SlackConfig configures the war room. BotToken is a secret.
type SlackConfig struct {
	BotToken string `json:"-"`
	// APIURL replaces https://slack.com/api/ (dev mode points it at slacktest).
	APIURL string
}

// WarRoom opens and posts to an incident's Slack channel.
type WarRoom struct {
	Client *slack.Client
}

// NewWarRoom builds a slack-go client.
func NewWarRoom(cfg SlackConfig) *WarRoom {
	var opts []slack.Option
	if cfg.APIURL != "" {
		opts = append(opts, slack.OptionAPIURL(cfg.APIURL))
	}
	return &WarRoom{Client: slack.New(cfg.BotToken, opts...)}
}

// SlackEscape makes text that people wrote (titles, identities, comments,
// references, error messages quoting them) safe inside a Slack message:
// Slack reads &, < and > as control characters, so an incident titled
// "<!here>" would page the workspace and "<https://x|Approve>" would be a
// disguised link.
//
// It is plain string replacement, with no state, so workflow code calls it too.
func SlackEscape(s string) string {
	s = strings.ReplaceAll(s, "&", "&amp;")
	s = strings.ReplaceAll(s, "<", "&lt;")
	return strings.ReplaceAll(s, ">", "&gt;")
}

// ChannelName is the war room's deterministic name, so a retry finds it again.
func ChannelName(incidentID string) string {
	return strings.ToLower(incidentID)
}

// Open creates the channel (or finds it when a retry already made it) and invites the responders.
func (w *WarRoom) Open(ctx context.Context, incidentID string, private bool, users []string) (string, error) {
	name := ChannelName(incidentID)
	ch, err := w.Client.CreateConversationContext(ctx, slack.CreateConversationParams{ChannelName: name, IsPrivate: private})
	var id string
	switch {
	case err == nil:
		id = ch.ID
	case slackErrorIs(err, "name_taken"):
		id, err = w.find(ctx, name)
		if err != nil {
			return "", err
		}
	default:
		return "", slackError("create channel", err)
	}
	if len(users) > 0 {
		if _, err := w.Client.InviteUsersToConversationContext(ctx, id, users...); err != nil && !slackErrorIs(err, "already_in_channel") {
			return "", slackError("invite responders", err)
		}
	}
	return id, nil
}

// slackErrorIs says whether Slack answered with this error code.
func slackErrorIs(err error, code string) bool {
	var se slack.SlackErrorResponse
	return errors.As(err, &se) && se.Err == code
}

func (w *WarRoom) find(ctx context.Context, name string) (string, error) {
	cursor := ""
	for {
		chans, next, err := w.Client.GetConversationsContext(ctx, &slack.GetConversationsParameters{Cursor: cursor, Types: []string{"public_channel", "private_channel"}, Limit: 200})
		if err != nil {
			return "", slackError("list channels", err)
		}
		for _, c := range chans {
			if c.Name == name {
				return c.ID, nil
			}
		}
		if next == "" {
			return "", fmt.Errorf("slack channel %s exists but is not visible to the bot", name)
		}
		cursor = next
	}
}

// Post writes a timeline line to the war room.
func (w *WarRoom) Post(ctx context.Context, channelID, text string) error {
	_, _, err := w.Client.PostMessageContext(ctx, channelID, slack.MsgOptionText(text, false))
	return slackError("post", err)
}

// RateLimitedError carries Slack's Retry-After so the activity can wait that long.
type RateLimitedError = slack.RateLimitedError

func slackError(what string, err error) error {
	if err == nil {
		return nil
	}
	var rl *slack.RateLimitedError
	if errors.As(err, &rl) {
		return err
	}
	return fmt.Errorf("slack %s: %w", what, err)
}

// Review is one draft revision waiting for legal in the war room.
type Review struct {
	IncidentID string
	Draft      string
	Revision   int
	Kind       string
	Locale     string
	Title      string
	// Missing are facts the text still lacks; approving is refused until set.
	Missing []string
	// URL is the draft's page in the console.
	URL string
}

// DraftURL is a draft's place on its incident's console page; empty when
// Tocsin's public URL is not known (a relative link means nothing in Slack).
func DraftURL(publicURL, incidentID, draft string) string {
	if publicURL == "" {
		return ""
	}
	return fmt.Sprintf("%s/incidents/%s#draft-%s", strings.TrimSuffix(publicURL, "/"), incidentID, draft)
}

// Action IDs of the review buttons; the value is ReviewValue.
const (
	ActionApprove = "tocsin_approve"
	ActionReject  = "tocsin_reject"
	// CallbackReject is the reject modal's callback ID.
	CallbackReject = "tocsin_reject_reason"
)

// ReviewValue names a draft revision in a button's value: "INC-1|notice-en|2".
func ReviewValue(r Review) string {
	return fmt.Sprintf("%s|%s|%d", r.IncidentID, r.Draft, r.Revision)
}

// ParseReviewValue reads a button's value back.
func ParseReviewValue(v string) (incident, draft string, revision int, err error) {
	parts := strings.Split(v, "|")
	if len(parts) != 3 {
		return "", "", 0, fmt.Errorf("malformed review value %q", v)
	}
	if _, err := fmt.Sscanf(parts[2], "%d", &revision); err != nil {
		return "", "", 0, fmt.Errorf("malformed revision in %q", v)
	}
	return parts[0], parts[1], revision, nil
}

func reviewHeader(r Review) *slack.SectionBlock {
	text := fmt.Sprintf("*%s* revision %d (%s, %s) is ready for legal review.\n%s", r.Draft, r.Revision, strings.ReplaceAll(r.Kind, "_", " "), r.Locale, SlackEscape(r.Title))
	if r.URL != "" {
		text += fmt.Sprintf("\n<%s|Read it in the console>", r.URL)
	}
	if len(r.Missing) > 0 {
		text += "\n:warning: Still missing: " + strings.Join(r.Missing, ", ") + " (a responder sets them first)."
	}
	return slack.NewSectionBlock(slack.NewTextBlockObject(slack.MarkdownType, text, false, false), nil, nil)
}

// PostReview posts a draft revision with Approve and Reject buttons and
// returns the message's timestamp (its ID within the channel).
func (w *WarRoom) PostReview(ctx context.Context, channelID string, r Review) (string, error) {
	approve := slack.NewButtonBlockElement(ActionApprove, ReviewValue(r), slack.NewTextBlockObject(slack.PlainTextType, "Approve", false, false)).WithStyle(slack.StylePrimary)
	reject := slack.NewButtonBlockElement(ActionReject, ReviewValue(r), slack.NewTextBlockObject(slack.PlainTextType, "Reject", false, false)).WithStyle(slack.StyleDanger)
	blocks := []slack.Block{reviewHeader(r), slack.NewActionBlock("review", approve, reject)}
	fallback := fmt.Sprintf("%s revision %d is ready for legal review", r.Draft, r.Revision)
	_, ts, err := w.Client.PostMessageContext(ctx, channelID, slack.MsgOptionText(fallback, false), slack.MsgOptionBlocks(blocks...))
	return ts, slackError("post review", err)
}

// Decided replaces a review message's buttons with who decided, so nobody
// clicks a decided draft again.
func (w *WarRoom) Decided(ctx context.Context, channelID, ts string, r Review, decision string) error {
	blocks := []slack.Block{reviewHeader(r), slack.NewContextBlock("decision", slack.NewTextBlockObject(slack.MarkdownType, decision, false, false))}
	_, _, _, err := w.Client.UpdateMessageContext(ctx, channelID, ts, slack.MsgOptionText(decision, false), slack.MsgOptionBlocks(blocks...))
	return slackError("update review", err)
}

// Tell shows a message only to one person in a channel.
func (w *WarRoom) Tell(ctx context.Context, channelID, user, text string) error {
	_, err := w.Client.PostEphemeralContext(ctx, channelID, user, slack.MsgOptionText(text, false))
	return slackError("post ephemeral", err)
}

// AskRejectReason opens a modal asking why a draft is rejected; its
// submission comes back to the interactivity webhook with the review value.
func (w *WarRoom) AskRejectReason(ctx context.Context, triggerID string, r Review) error {
	input := slack.NewInputBlock("reason", slack.NewTextBlockObject(slack.PlainTextType, "Why is it rejected?", false, false), nil,
		slack.NewPlainTextInputBlockElement(slack.NewTextBlockObject(slack.PlainTextType, "What must change", false, false), "reason").WithMultiline(true))
	view := slack.ModalViewRequest{
		Type:            slack.VTModal,
		CallbackID:      CallbackReject,
		Title:           slack.NewTextBlockObject(slack.PlainTextType, "Reject draft", false, false),
		Submit:          slack.NewTextBlockObject(slack.PlainTextType, "Reject", false, false),
		Close:           slack.NewTextBlockObject(slack.PlainTextType, "Cancel", false, false),
		PrivateMetadata: ReviewValue(r),
		Blocks:          slack.Blocks{BlockSet: []slack.Block{reviewHeader(r), input}},
	}
	_, err := w.Client.OpenViewContext(ctx, triggerID, view)
	return slackError("open reject form", err)
}
