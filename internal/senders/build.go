package senders

import (
	"net/http"

	"github.com/twilio/twilio-go"
)

// Providers are the settings of every provider Tocsin sends through; prod,
// dev and the benchmarks fill them from their own configuration and Build
// turns them into the senders, in one place.
type Providers struct {
	Twilio TwilioConfig
	SMTP   SMTPConfig
	Onsite OnsiteConfig
	// OnsiteHTTP is the on-site webhook's client (nil: the shared pooled one).
	OnsiteHTTP *http.Client
	Push       PushConfig
	Letter     LetterConfig
}

// Build makes one sender per registered channel (package channel), the
// Twilio client that reads receipts, and the function that closes them.
// A new channel adds its provider's settings above and its sender here.
func Build(p Providers) (Registry, *twilio.RestClient, func()) {
	tw := NewTwilioClient(p.Twilio)
	mail := NewEmailSender(p.SMTP)
	reg := Registry{
		SMS:    &SMSSender{Client: tw, Config: p.Twilio},
		Voice:  &VoiceSender{Client: tw, Config: p.Twilio},
		Email:  mail,
		Onsite: &OnsiteSender{Config: p.Onsite, HTTP: p.OnsiteHTTP},
		Push:   NewPushSender(p.Push),
		Letter: NewLetterSender(p.Letter),
	}
	return reg, tw, mail.Close
}
