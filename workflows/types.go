// The workflow's names, stages and the types its histories carry.

package workflows

import (
	"time"

	"github.com/tocsin/tocsin/activities"
	"github.com/tocsin/tocsin/internal/incident"
)

// Names of the workflow's query and updates, as the API calls them.
const (
	QueryProgress = "progress"
	UpdateApprove = "approve"
	UpdateReject  = "reject"
	UpdateRevise  = "revise"
	UpdateSubmit  = "submit"
	UpdateFacts   = "facts"
	UpdateWaive   = "waive"
	// UpdateDelay moves duties to tell people past a law-enforcement
	// delay (tocsin incident hold), or back when it is lifted early.
	UpdateDelay = "delay"
	// UpdateReturned tells the plan of returned letters, or (Settled)
	// ends its wait for them.
	UpdateReturned = "returned"
	// UpdateAdd asks for a follow-up wave (tocsin incident add).
	UpdateAdd = "add"
	// UpdateCorrect asks for a correction of a notice that went out
	// (tocsin incident correct).
	UpdateCorrect = "correct"
	TaskQueue     = "tocsin"
)

// IncidentInput starts an incident.
type IncidentInput struct {
	IncidentID string
	// OpenedBy, Spec and Drill are what the starter says; a chartered run
	// acts on the store's instead (ClaimCharter), and is refused where
	// they disagree.
	OpenedBy string
	Spec     incident.Spec
	// Charter is the secret the API issued with the incident: only the run
	// that shows it, once, is acted on.
	Charter string `json:",omitempty"`
	// BatchSize is the number of subjects per notification activity.
	BatchSize int
	// PartitionSize is the number of subjects per NotifyWorkflow child;
	// BatchWindow and PartitionWindow bound how many run at once.
	PartitionSize   int `json:",omitempty"`
	BatchWindow     int `json:",omitempty"`
	PartitionWindow int `json:",omitempty"`
	// ReceiptPoll overrides how often receipts are checked (tests).
	ReceiptPoll time.Duration
	// Drill runs the incident as a drill; nil for a real incident.
	Drill *DrillMode `json:",omitempty"`
}

// DrillMode says how a drill incident is driven.
type DrillMode struct {
	// Attended leaves approvals and filings to people; otherwise the drill
	// identity makes them after ApprovalDelay.
	Attended      bool
	ApprovalDelay time.Duration
	Identity      string
}

// IncidentResult is the closing summary.
type IncidentResult struct {
	Reached   int
	Unreached int
	ByChannel map[string]int
	Announced bool
	// Milestones are when each stage of the plan was reached.
	Milestones map[string]time.Time `json:",omitempty"`
	// Late are the duties to tell people its campaign was projected to
	// miss at the configured rates (a drill is graded on them).
	Late []string `json:",omitempty"`
}

// pendRevision makes a draft's new revision the one legal decides on:
// pending, written by its author, with nothing decided yet.
func pendRevision(d *DraftState, got activities.DraftInfo) {
	d.Revision, d.Status, d.Author, d.ApprovedBy, d.Comment, d.Reason, d.Missing = got.Revision, DraftPending, got.Author, "", "", "", got.Missing
	d.SMSTooLong, d.Untranslated, d.Zones, d.LanguageNote = got.SMSTooLong, got.Untranslated, got.Zones, got.LanguageNote
}

func draftState(d activities.DraftInfo) DraftState {
	return DraftState{Name: d.Name, Kind: d.Kind, Locale: d.Locale, Audience: d.Audience, Revision: d.Revision, Author: d.Author, Status: DraftPending, Missing: d.Missing, SMSTooLong: d.SMSTooLong, Untranslated: d.Untranslated, Zones: d.Zones, LanguageNote: d.LanguageNote}
}

// The incident's record and updates are the domain's (internal/incident);
// these names keep the workflow's code and histories as they were.
type (
	Progress          = incident.Record
	DraftState        = incident.DraftState
	Event             = incident.Event
	BreachFacts       = incident.BreachFacts
	CampaignState     = incident.CampaignState
	AnnouncementState = incident.AnnouncementState
	Filing            = incident.Filing
	WaiveInput        = incident.WaiveInput
	DelayInput        = incident.DelayInput
	AddInput          = incident.AddInput
	CorrectInput      = incident.CorrectInput
	CorrectionState   = incident.CorrectionState
	WaveState         = incident.WaveState
	SubmitInput       = incident.SubmitInput
	ApproveInput      = incident.ApproveInput
	RejectInput       = incident.RejectInput
	ReviseInput       = incident.ReviseInput
	FactsInput        = incident.FactsInput
	ReturnedInput     = incident.ReturnedInput
	ReturnsWatch      = incident.ReturnsWatch
)

// Stages, draft and filing statuses, as the domain names them.
const (
	StageOpen          = incident.StageOpen
	StageScoping       = incident.StageScoping
	StageAssessing     = incident.StageAssessing
	StageDrafting      = incident.StageDrafting
	StageAwaitApproval = incident.StageAwaitApproval
	StageAwaitFiling   = incident.StageAwaitFiling
	StageNotifying     = incident.StageNotifying
	StageAnnouncing    = incident.StageAnnouncing
	StageFiling        = incident.StageFiling
	StageClosed        = incident.StageClosed
	DraftPending       = incident.DraftPending
	DraftApproved      = incident.DraftApproved
	DraftRejected      = incident.DraftRejected
	FilingPending      = incident.FilingPending
	FilingSubmitted    = incident.FilingSubmitted
	FilingOverdue      = incident.FilingOverdue
	FilingWaived       = incident.FilingWaived
)

// Settable are the facts a responder may set or correct.
var Settable = incident.Settable

// NoticeBegun says whether an incident at stage has begun telling people.
func NoticeBegun(stage incident.Stage) bool { return incident.NoticeBegun(stage) }

// FactsOf is the register's view of an incident's spec.
func FactsOf(spec incident.Spec) *BreachFacts { return incident.FactsOf(spec) }
