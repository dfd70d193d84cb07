package playbooks

import (
	"slices"

	"github.com/tocsin/tocsin/internal/channel"
	"github.com/tocsin/tocsin/internal/inventory"
)

// methodChannels are the law files' words for notice to a person that
// name no channel: "mail" is first-class mail (a letter), "phone" a
// telephone call.
var methodChannels = map[string]string{"mail": "letter", "phone": "voice"}

// ChannelOf is the channel a duty's method names, if it names one.
func ChannelOf(method string) (string, bool) {
	if ch, ok := methodChannels[method]; ok {
		return ch, true
	}
	_, ok := channel.Lookup(method)
	return method, ok
}

// Lawful is how one duty to individuals lets them be told: the channels
// its law accepts, and those of them it accepts only from people who
// agreed to electronic notice.
type Lawful struct {
	Duty         string   `json:"duty"`
	Jurisdiction string   `json:"jurisdiction"`
	Channels     []string `json:"channels"`
	Consent      []string `json:"consent,omitempty"`
}

// LawfulRules are the rules of an incident's duties to individuals that
// apply (a waived duty still binds how the people it covers are told).
func LawfulRules(obligations []Obligation) []Lawful {
	var out []Lawful
	for _, o := range obligations {
		if o.Audience != "individuals" {
			continue
		}
		l := Lawful{Duty: o.Name, Jurisdiction: o.Jurisdiction}
		for _, m := range o.Methods {
			if ch, ok := ChannelOf(m); ok && !slices.Contains(l.Channels, ch) {
				l.Channels = append(l.Channels, ch)
			}
		}
		for _, m := range o.Consent {
			if ch, ok := ChannelOf(m); ok && !slices.Contains(l.Consent, ch) {
				l.Consent = append(l.Consent, ch)
			}
		}
		if len(l.Channels) > 0 {
			out = append(out, l)
		}
	}
	return out
}

// Allows reports whether a person living in region, with their answer on
// electronic consent, may lawfully be told by ch: every duty to
// individuals of their jurisdictions accepts ch, and any of them that
// accepts it only with consent has it. Where no such duty applies (a
// voluntary notice), every channel is allowed.
func Allows(rules []Lawful, region, consent, ch string) bool {
	ok, _ := Why(rules, region, consent, ch)
	return ok
}

// Why is Allows with the duty that forbids the channel ("" if allowed),
// and whether it is for want of consent.
func Why(rules []Lawful, region, consent, ch string) (bool, *Refusal) {
	if len(rules) == 0 {
		return true, nil // a batch asks per person and channel: no work where no law restricts
	}
	jurisdictions := JurisdictionsOf(region)
	for _, r := range rules {
		if !slices.Contains(jurisdictions, r.Jurisdiction) {
			continue
		}
		if !slices.Contains(r.Channels, ch) {
			return false, &Refusal{Duty: r.Duty}
		}
		if slices.Contains(r.Consent, ch) && consent != inventory.ConsentYes {
			return false, &Refusal{Duty: r.Duty, NoConsent: true}
		}
	}
	return true, nil
}

// Refusal is why a channel may not carry a person's notice.
type Refusal struct {
	Duty      string
	NoConsent bool
}
