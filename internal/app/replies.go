package app

import (
	"context"
	"fmt"
	"time"

	"github.com/tocsin/tocsin/internal/senders"
	"github.com/tocsin/tocsin/internal/store"
)

// answerer sends support's answers back the way people asked: by text
// through the notices' Twilio account, by e-mail through their SMTP relay.
// Neither is a delivery of the campaign's ledger, so an SMS answer asks
// for no receipt.
type answerer struct {
	sms  senders.Sender
	mail *senders.EmailSender
}

func newAnswerer(tw senders.TwilioConfig, smtp senders.SMTPConfig) answerer {
	tw.StatusCallback, tw.AckCallback = "", ""
	smtp.Connections = 1
	return answerer{sms: &senders.SMSSender{Client: senders.NewTwilioClient(tw), Config: tw}, mail: senders.NewEmailSender(smtp)}
}

func (a answerer) Reply(ctx context.Context, q store.Inquiry) (string, error) {
	switch q.Channel {
	case senders.SMS:
		res, err := a.sms.Send(ctx, senders.Message{To: q.ReplyTo, Body: q.Answer})
		return res.Ref, err
	case senders.Email:
		// Its own Message-ID, so no mailbox folds it into the notice; a
		// reply to it names the notice again (References).
		domain := a.mail.Domain()
		res, err := a.mail.Send(ctx, senders.Message{To: q.ReplyTo, Title: "Re: your question (reference " + q.IncidentID + ")", Body: q.Answer,
			MessageID: fmt.Sprintf("<answer-%s-%d@%s>", q.ID, time.Now().UnixNano(), domain), InReplyTo: senders.MessageID(q.IncidentID, q.SubjectID, domain)})
		return res.Ref, err
	}
	return "", fmt.Errorf("answers go back by text or e-mail, not %s", q.Channel)
}
