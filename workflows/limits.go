package workflows

import (
	"fmt"
	"unicode/utf8"
)

// Limits on the free text an update carries, in bytes. Each is kept in
// the plan's state, its timeline and the record the store keeps (each
// activity input under Temporal's 2 MB limit): a rejection reason of 800 KB
// once pushed the record past it, and the server ended the incident.
// The API refuses a longer one with 400; the validator refuses it too.
const (
	// MaxNoteBytes bounds a comment, a rejection's, waiver's or late
	// filing's reason: a paragraph or two.
	MaxNoteBytes = 2 << 10
	// MaxReferenceBytes bounds a regulator's reference or receipt.
	MaxReferenceBytes = 256
	// MaxNameBytes bounds the name of a draft or an obligation.
	MaxNameBytes = 128
	// MaxFacts bounds how many facts one update sets.
	MaxFacts = 64
)

// TooLong names the first field of an update's input past its limit (nil
// when every field is inside its own).
func TooLong(in SignedInput) error {
	type field struct {
		name, value string
		max         int
	}
	var fields []field
	var facts map[string]string
	switch in := in.(type) {
	case *ApproveInput:
		fields = []field{{"draft", in.Draft, MaxNameBytes}, {"comment", in.Comment, MaxNoteBytes}}
	case *RejectInput:
		fields = []field{{"draft", in.Draft, MaxNameBytes}, {"reason", in.Reason, MaxNoteBytes}}
	case *ReviseInput:
		fields = []field{{"draft", in.Draft, MaxNameBytes}}
		facts = in.Changes
	case *FactsInput:
		facts = in.Set
	case *CorrectInput:
		fields = []field{{"draft", in.Draft, MaxNameBytes}}
		facts = in.Changes
	case *SubmitInput:
		fields = []field{{"obligation", in.Obligation, MaxNameBytes}, {"reference", in.Reference, MaxReferenceBytes}, {"late_reason", in.LateReason, MaxNoteBytes}}
	case *WaiveInput:
		fields = []field{{"obligation", in.Obligation, MaxNameBytes}, {"reason", in.Reason, MaxNoteBytes}}
	}
	for _, f := range fields {
		if len(f.value) > f.max {
			return fmt.Errorf("%s: %d bytes; at most %d", f.name, len(f.value), f.max)
		}
	}
	if len(facts) > MaxFacts {
		return fmt.Errorf("facts: %d in one update; at most %d", len(facts), MaxFacts)
	}
	// Any key past the limit is refused, and the message names none: the
	// map's order does not show.
	//workflowcheck:ignore
	for k := range facts {
		if len(k) > MaxNameBytes {
			return fmt.Errorf("facts: a key of %d bytes; at most %d", len(k), MaxNameBytes)
		}
	}
	return nil
}

// The timeline is capped in the plan (and so in every record): its opening
// events and the newest ones are kept, each at most maxEventBytes; the
// audit chain keeps every decision whole.
const (
	maxTimeline   = 250
	keepFirst     = 25
	maxEventBytes = 1 << 10
)

// clip cuts text to at most n bytes, at a character's edge.
func clip(text string, n int) string {
	if len(text) <= n {
		return text
	}
	cut := n - len("…")
	for cut > 0 && !utf8.RuneStart(text[cut]) {
		cut--
	}
	return text[:cut] + "…"
}
