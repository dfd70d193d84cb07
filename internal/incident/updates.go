package incident

import (
	"slices"
	"time"
)

// The updates people make to a running incident, each naming its actor.

// Actor is who asks for an update, as the API authenticated them: identity,
// role, the surface (api, console, slack) and when. The API signs the whole
// update with a key only it and the workers hold, so someone with access to
// Temporal alone cannot approve as legal: the validators refuse an update
// whose actor is unsigned or whose signature does not match.
type Actor struct {
	Identity string
	Role     string
	Via      string    `json:",omitempty"`
	At       time.Time `json:",omitzero"`
	// Nonce makes each signed update one of a kind: the workflow takes a
	// nonce once, so a captured update cannot be sent again.
	Nonce string `json:",omitempty"`
	Sig   string `json:",omitempty"`
}

// WaiveInput records legal's decision that a duty does not apply.
type WaiveInput struct {
	Actor      Actor
	Obligation string
	Reason     string
}

// DelayInput moves duties to tell people past a law-enforcement delay
// (tocsin incident hold): none is due before Until. A hold lifted early
// sends the time it was lifted.
type DelayInput struct {
	Actor       Actor
	Duties      []string
	Until       time.Time
	RequestedBy string
}

// AddInput asks the plan to apply a follow-up wave the store holds
// (tocsin incident add): people found after the first notice, by more
// systems (Systems) or named subject IDs (Named of them, from
// SubjectsFile), scoped against the same snapshot.
type AddInput struct {
	Actor        Actor
	Wave         int
	Systems      []string `json:",omitempty"`
	SubjectsFile string   `json:",omitempty"`
	Named        int64    `json:",omitempty"`
}

// CorrectInput asks the plan for a correction of an approved notice that
// went out (tocsin incident correct): a new revision, with Changes set as
// facts first, for legal to approve; then it goes to exactly the people
// who received an earlier revision.
type CorrectInput struct {
	Actor   Actor
	Draft   string
	Changes map[string]string `json:",omitempty"`
}

// SubmitInput records that an obligation was met: a report filed, a notice sent.
type SubmitInput struct {
	Actor      Actor
	Obligation string
	Reference  string
	LateReason string
}

// ApproveInput approves one draft revision.
type ApproveInput struct {
	Actor   Actor
	Draft   string
	Comment string
	// Revision, when set, is the revision the reviewer read: a decision on
	// a revision since replaced is refused rather than applied to text
	// nobody reviewed (a Slack button on an old message, a stale console page).
	Revision int `json:",omitempty"`
}

// RejectInput sends a draft back with a reason.
type RejectInput struct {
	Actor    Actor
	Draft    string
	Reason   string
	Revision int `json:",omitempty"`
}

// ReviseInput changes the facts of a rejected draft and asks for a new revision.
type ReviseInput struct {
	Actor   Actor
	Draft   string
	Changes map[string]string // any of Settable
}

// FactsInput supplies or corrects facts the drafts state; every draft still
// waiting for legal is drafted again when its text changes.
type FactsInput struct {
	Actor Actor
	Set   map[string]string // any of Settable
	// Locale, when set, makes Set a translation into that notice locale
	// (TranslatableKeys only).
	Locale string `json:",omitempty"`
}

// ReturnedInput tells the plan that the post office returned letters
// (recorded in the store first): Unreached is how many of their people
// nothing else reached. Settled instead ends the wait for returned mail:
// legal or an admin decide no more is coming.
type ReturnedInput struct {
	Actor     Actor
	Unreached int  `json:",omitempty"`
	Settled   bool `json:",omitempty"`
}

// Settable are the facts a responder may set or correct while drafts are
// reviewed: the incident's texts, the report facts, and when it happened.
var Settable = slices.Concat([]string{"description", "impact", "measures", "advice", "remedies", "contact", "occurred_from", "occurred_to"}, FactKeys)

// Signer is the actor an update names, which the API signs.
func (in *ApproveInput) Signer() *Actor  { return &in.Actor }
func (in *RejectInput) Signer() *Actor   { return &in.Actor }
func (in *ReviseInput) Signer() *Actor   { return &in.Actor }
func (in *FactsInput) Signer() *Actor    { return &in.Actor }
func (in *SubmitInput) Signer() *Actor   { return &in.Actor }
func (in *WaiveInput) Signer() *Actor    { return &in.Actor }
func (in *DelayInput) Signer() *Actor    { return &in.Actor }
func (in *AddInput) Signer() *Actor      { return &in.Actor }
func (in *CorrectInput) Signer() *Actor  { return &in.Actor }
func (in *ReturnedInput) Signer() *Actor { return &in.Actor }
