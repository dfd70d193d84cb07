package app

import (
	"context"
	"fmt"

	"github.com/tocsin/tocsin/internal/senders"
)

// textReplier texts support's answers back to people who asked by text,
// through the same Twilio account as the notices but with no receipt:
// an answer is no delivery of the campaign's ledger.
type textReplier struct{ sms senders.Sender }

func newTextReplier(cfg senders.TwilioConfig) textReplier {
	cfg.StatusCallback, cfg.AckCallback = "", ""
	return textReplier{sms: &senders.SMSSender{Client: senders.NewTwilioClient(cfg), Config: cfg}}
}

func (t textReplier) Reply(ctx context.Context, channel, to, text string) (string, error) {
	if channel != senders.SMS {
		return "", fmt.Errorf("answers go back by text message, not %s", channel)
	}
	res, err := t.sms.Send(ctx, senders.Message{To: to, Body: text})
	return res.Ref, err
}
