// The workflow's names, stages and the types its histories carry.

package workflows

import (
	"slices"
	"time"

	"github.com/tocsin/tocsin/activities"
	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/plandata"
	"github.com/tocsin/tocsin/playbooks"
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
	TaskQueue     = "tocsin"
)

// Stages an incident moves through.
const (
	StageOpen          = "open"
	StageScoping       = "scoping"
	StageAssessing     = "assessing"
	StageDrafting      = "drafting"
	StageAwaitApproval = "awaiting_approval"
	StageAwaitFiling   = "awaiting_filing"
	StageNotifying     = "notifying"
	StageAnnouncing    = "announcing"
	StageFiling        = "filing"
	StageClosed        = "closed"
)

// NoticeBegun says whether an incident at stage has begun telling people
// (or finished): from then on a duty to tell them cannot be waived.
func NoticeBegun(stage string) bool {
	return slices.Contains([]string{StageNotifying, StageAnnouncing, StageFiling, StageClosed}, stage)
}

// Draft statuses.
const (
	DraftPending  = "pending"
	DraftApproved = "approved"
	DraftRejected = "rejected"
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
}

// DraftState is a draft as legal sees it.
type DraftState struct {
	Name       string    `json:"name"`
	Kind       string    `json:"kind"`
	Locale     string    `json:"locale"`
	Audience   string    `json:"audience"`
	Revision   int       `json:"revision"`
	Status     string    `json:"status"`
	Author     string    `json:"author"`
	ApprovedBy string    `json:"approved_by,omitempty"`
	DecidedAt  time.Time `json:"decided_at,omitzero"`
	Comment    string    `json:"comment,omitempty"`
	Reason     string    `json:"reason,omitempty"`
	// Missing are required facts the text lacks: until a responder supplies
	// them the draft is incomplete and legal cannot approve it.
	Missing []string `json:"missing,omitempty"`
	// SMSTooLong says why the notice's SMS is over the playbook's limit;
	// legal cannot approve it until the facts it quotes are shorter.
	SMSTooLong string `json:"sms_too_long,omitempty"`
}

func draftState(d activities.DraftInfo) DraftState {
	return DraftState{Name: d.Name, Kind: d.Kind, Locale: d.Locale, Audience: d.Audience, Revision: d.Revision, Author: d.Author, Status: DraftPending, Missing: d.Missing, SMSTooLong: d.SMSTooLong}
}

// Event is one line of the incident's timeline.
type Event struct {
	At    time.Time `json:"at"`
	Stage string    `json:"stage"`
	Text  string    `json:"text"`
}

// Progress is what the progress query returns.
type Progress struct {
	Status       string                 `json:"status"`
	OpenedBy     string                 `json:"opened_by"`
	WarRoom      string                 `json:"war_room,omitempty"`
	Scope        *plandata.ScopeSummary `json:"scope,omitempty"`
	Unreachable  int                    `json:"unreachable"`
	Obligations  []playbooks.Obligation `json:"obligations"`
	Drafts       []DraftState           `json:"drafts"`
	Rung         int                    `json:"rung"`
	Reach        *plandata.Reach        `json:"reach,omitempty"`
	Campaign     *CampaignState         `json:"campaign,omitempty"`
	Announcement *AnnouncementState     `json:"announcement,omitempty"`
	// Filings are the obligations' states, by obligation name.
	Filings map[string]*Filing `json:"filings,omitempty"`
	// Milestones are when the plan reached each stage a playbook sets a
	// target for (scoped, assessed, drafted, approved, notified, closed).
	Milestones map[string]time.Time `json:"milestones,omitempty"`
	Timeline   []Event              `json:"timeline"`
	// TimelineOmitted counts the events dropped from the timeline's middle
	// to keep the record small (the audit chain keeps every decision).
	TimelineOmitted int    `json:"timeline_omitted,omitempty"`
	Error           string `json:"error,omitempty"`
	// Facts are the incident's facts as they now stand, for the register.
	Facts *BreachFacts `json:"facts,omitempty"`
}

// BreachFacts are what the breach register states of an incident: what
// happened, its effects and what was done (GDPR art. 33(5)); never who
// reported it or how to reach them.
type BreachFacts struct {
	Kind         string    `json:"kind"`
	DetectedAt   time.Time `json:"detected_at"`
	OccurredFrom time.Time `json:"occurred_from,omitzero"`
	OccurredTo   time.Time `json:"occurred_to,omitzero"`
	Cause        string    `json:"cause,omitempty"`
	Description  string    `json:"description,omitempty"`
	Impact       string    `json:"impact,omitempty"`
	Measures     string    `json:"measures,omitempty"`
	Remedies     string    `json:"remedies,omitempty"`
	Categories   []string  `json:"categories,omitempty"`
}

// FactsOf is the register's view of an incident's spec.
func FactsOf(spec incident.Spec) *BreachFacts {
	return &BreachFacts{Kind: spec.Kind, DetectedAt: spec.DetectedAt, OccurredFrom: spec.OccurredFrom, OccurredTo: spec.OccurredTo, Cause: spec.Facts["cause"],
		Description: spec.Description, Impact: spec.Impact, Measures: spec.Measures, Remedies: spec.Remedies, Categories: spec.Categories}
}

// Summary is what lists and the breach register filter and sort by.
func (p Progress) Summary() activities.RecordSummary {
	sum := activities.RecordSummary{Status: p.Status}
	for _, o := range p.Obligations {
		if !slices.Contains(sum.Jurisdictions, o.Jurisdiction) {
			sum.Jurisdictions = append(sum.Jurisdictions, o.Jurisdiction)
		}
	}
	if p.Scope != nil {
		sum.Subjects = p.Scope.Subjects
	}
	if p.Reach != nil {
		sum.Reached = p.Reach.Reached
	}
	return sum
}

// CampaignState is the individual-notice campaign as the workflow sees it:
// partitions finished and their totals. Live per-channel counts come from
// the delivery ledger (the API adds them).
type CampaignState struct {
	StartedAt      time.Time `json:"started_at,omitzero"`
	Subjects       int       `json:"subjects"`
	Partitions     int       `json:"partitions"`
	PartitionsDone int       `json:"partitions_done"`
	Attempts       int       `json:"attempts"`
	Failed         int       `json:"failed"`
	Recovered      int       `json:"recovered,omitempty"`
	Deferred       int       `json:"deferred,omitempty"`
}

// AnnouncementState says whether and where the public notice went out.
type AnnouncementState struct {
	Required  bool   `json:"required"`
	Published bool   `json:"published"`
	URL       string `json:"url,omitempty"`
	Reason    string `json:"reason,omitempty"`
}

// Filing statuses.
const (
	FilingPending   = "pending"
	FilingSubmitted = "submitted"
	FilingOverdue   = "overdue"
	// FilingWaived is a duty legal decided does not apply, with the reason
	// (GDPR art. 33(5): the register keeps breaches not notified and why).
	FilingWaived = "waived"
)

// Filing is what was done about one obligation.
type Filing struct {
	Status     string    `json:"status"`
	By         string    `json:"by,omitempty"`
	At         time.Time `json:"at,omitzero"`
	Reference  string    `json:"reference,omitempty"`
	LateReason string    `json:"late_reason,omitempty"`
	Reminders  int       `json:"reminders,omitempty"`
	// WaivedBecause is legal's reason for waiving the duty.
	WaivedBecause string `json:"waived_because,omitempty"`
}

// Met says whether nothing more is owed on the duty: filed, or waived.
func (f *Filing) Met() bool {
	return f != nil && (f.Status == FilingSubmitted || f.Status == FilingWaived)
}

// WaiveInput records legal's decision that a duty does not apply.
type WaiveInput struct {
	Actor      Actor
	Obligation string
	Reason     string
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
}

// Settable are the facts a responder may set or correct while drafts are
// reviewed: the incident's texts, the report facts, and when it happened.
var Settable = slices.Concat([]string{"description", "impact", "measures", "advice", "remedies", "contact", "occurred_from", "occurred_to"}, incident.FactKeys)
