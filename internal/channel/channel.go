// Package channel is where a notification channel is registered: which of
// a person's contacts it uses, what it carries of an approved notice, how
// the plan learns whether it reached them, and how a resend after an
// interrupted send can end. The workflows, the ledger, the console and the
// CLI decide by these capabilities, never by a channel's name, so a new
// channel is its sender, its peer, its template and one entry here.
package channel

import (
	"slices"
)

// Contact is the kind of contact that addresses a person on a channel, by
// its name in inventory.Contacts ("phone" for SMS and voice alike).
type Contact string

const (
	ContactOnsite  Contact = "onsite"
	ContactEmail   Contact = "email"
	ContactPhone   Contact = "phone"
	ContactPush    Contact = "push"
	ContactAddress Contact = "address"
)

// Content is which rendering of an approved notice a channel carries.
type Content int

const (
	// ContentText is the notice's title and plain text.
	ContentText Content = iota
	// ContentHTML is the title and text with the HTML rendering beside it.
	ContentHTML
	// ContentSMS is the short text legal approved for SMS.
	ContentSMS
	// ContentVoice is the script legal approved to be read aloud.
	ContentVoice
)

// Outcome is how the plan learns whether a send reached the person.
type Outcome int

const (
	// OnAcceptance: the provider's acceptance is the outcome.
	OnAcceptance Outcome = iota
	// MayBounce: accepted, but a bounce may come back within the
	// playbook's bounce_window and undo it.
	MayBounce
	// OnReceipt: a delivery receipt follows, awaited up to the playbook's
	// receipt_timeout.
	OnReceipt
	// MayBeReturned: accepted, but the post office may return it weeks
	// later, within the playbook's returns_window; the person is then
	// unreached, and a public announcement (substitute notice) covers them.
	MayBeReturned
)

// Resend is what sending again after an interrupted send can do.
type Resend int

const (
	// ResendFound: the sender's Finder asks the provider first; a resend
	// happens only when the message is not there.
	ResendFound Resend = iota
	// ResendFolded: the provider drops a repeat by its idempotency key.
	ResendFolded
	// ResendMayDuplicate: no key the provider honours; the person may get
	// two copies (most mailboxes fold e-mails by Message-ID, not all).
	ResendMayDuplicate
)

// Info is one registered channel's capabilities.
type Info struct {
	Name    string
	Contact Contact
	Content Content
	Outcome Outcome
	Resend  Resend
	// Rings: it calls the person. Calls are held in their quiet hours,
	// never placed in a drill, and a call found at the provider cannot be
	// told apart from one to another person sharing the number.
	Rings bool
	// RecordAtOnce: each send is written to the ledger on its own, not
	// with its batch: a send in doubt is costly to resolve (no Finder).
	RecordAtOnce bool
	// Answerable: an answering machine may take it, which the playbook's
	// voicemail_counts decides counts as reaching the person or not.
	Answerable bool
}

// all are the channels, in the order people read them (the default ladder's).
var all = []Info{
	{Name: "onsite", Contact: ContactOnsite, Content: ContentText, Outcome: OnAcceptance, Resend: ResendFolded},
	{Name: "email", Contact: ContactEmail, Content: ContentHTML, Outcome: MayBounce, Resend: ResendMayDuplicate, RecordAtOnce: true},
	{Name: "sms", Contact: ContactPhone, Content: ContentSMS, Outcome: OnReceipt, Resend: ResendFound},
	{Name: "voice", Contact: ContactPhone, Content: ContentVoice, Outcome: OnReceipt, Resend: ResendFound, Rings: true, Answerable: true},
	// The sender shows only the title and a line saying where to read the
	// notice (a lock screen is public). A resent alert carries the first
	// one's collapse ID (APNs) and tag (FCM): the device shows one.
	{Name: "push", Contact: ContactPush, Content: ContentText, Outcome: OnAcceptance, Resend: ResendFolded},
	// Mail has no receipt: the vendor taking the letter is the outcome
	// (returned mail is recorded later); the vendor keeps one letter per ID.
	{Name: "letter", Contact: ContactAddress, Content: ContentText, Outcome: MayBeReturned, Resend: ResendFolded},
}

// Lookup finds a channel by name.
func Lookup(name string) (Info, bool) {
	i := slices.IndexFunc(all, func(c Info) bool { return c.Name == name })
	if i < 0 {
		return Info{}, false
	}
	return all[i], true
}

// Is reports whether name is a channel with the capability has asks for
// (false for a name that is not a channel).
func Is(name string, has func(Info) bool) bool {
	c, ok := Lookup(name)
	return ok && has(c)
}

// Any reports whether one of names has the capability.
func Any(names []string, has func(Info) bool) bool {
	return slices.ContainsFunc(names, func(n string) bool { return Is(n, has) })
}

// Names are the channel names, in reading order.
func Names() []string {
	out := make([]string, len(all))
	for i, c := range all {
		out[i] = c.Name
	}
	return out
}

// All are the channels, in reading order.
func All() []Info { return slices.Clone(all) }

// Of are the channels a contact reaches, in reading order.
func Of(c Contact) []string {
	var out []string
	for _, ch := range all {
		if ch.Contact == c {
			out = append(out, ch.Name)
		}
	}
	return out
}

// AwaitsReceipt is true of channels whose receipts the rung waits for.
func AwaitsReceipt(c Info) bool { return c.Outcome == OnReceipt }

// MayBeBounced is true of channels whose sends may bounce after acceptance.
func MayBeBounced(c Info) bool { return c.Outcome == MayBounce }

// MayComeBack is true of channels whose sends the post may return long
// after acceptance.
func MayComeBack(c Info) bool { return c.Outcome == MayBeReturned }

// RingsPeople is true of channels that call.
func RingsPeople(c Info) bool { return c.Rings }

// RecordsAtOnce is true of channels whose each send is written on its own.
func RecordsAtOnce(c Info) bool { return c.RecordAtOnce }

// MayBeAnswered is true of channels an answering machine may take.
func MayBeAnswered(c Info) bool { return c.Answerable }

// MayDuplicate is true of channels a resend may deliver twice.
func MayDuplicate(c Info) bool { return c.Resend == ResendMayDuplicate }

// FoldsResends is true of channels whose provider drops a resend by key.
func FoldsResends(c Info) bool { return c.Resend == ResendFolded }
