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
	case strings.Contains(err.Error(), "name_taken"):
		id, err = w.find(ctx, name)
		if err != nil {
			return "", err
		}
	default:
		return "", slackError("create channel", err)
	}
	if len(users) > 0 {
		if _, err := w.Client.InviteUsersToConversationContext(ctx, id, users...); err != nil && !strings.Contains(err.Error(), "already_in_channel") {
			return "", slackError("invite responders", err)
		}
	}
	return id, nil
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
