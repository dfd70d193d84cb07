package incident

import (
	"slices"
	"time"

	"github.com/tocsin/tocsin/internal/plandata"
	"github.com/tocsin/tocsin/playbooks"
)

// The incident as the plan records it: stages, drafts, duties and their
// filings, and the updates people make. No Temporal here: the workflow
// runs these, the API and the store read them.

// Stage is where an incident stands in its plan.
type Stage string

// Stages an incident moves through.
const (
	StageOpen          Stage = "open"
	StageScoping       Stage = "scoping"
	StageAssessing     Stage = "assessing"
	StageDrafting      Stage = "drafting"
	StageAwaitApproval Stage = "awaiting_approval"
	StageAwaitFiling   Stage = "awaiting_filing"
	StageNotifying     Stage = "notifying"
	StageAnnouncing    Stage = "announcing"
	StageFiling        Stage = "filing"
	StageClosed        Stage = "closed"
)

// NoticeBegun says whether an incident at stage has begun telling people
// (or finished): from then on a duty to tell them cannot be waived.
func NoticeBegun(stage Stage) bool {
	return slices.Contains([]Stage{StageNotifying, StageAnnouncing, StageFiling, StageClosed}, stage)
}

// DraftStatus is where a draft stands with legal.
type DraftStatus string

// Draft statuses.
const (
	DraftPending  DraftStatus = "pending"
	DraftApproved DraftStatus = "approved"
	DraftRejected DraftStatus = "rejected"
)

// DraftState is a draft as legal sees it.
type DraftState struct {
	Name       string      `json:"name"`
	Kind       string      `json:"kind"`
	Locale     string      `json:"locale"`
	Audience   string      `json:"audience"`
	Revision   int         `json:"revision"`
	Status     DraftStatus `json:"status"`
	Author     string      `json:"author"`
	ApprovedBy string      `json:"approved_by,omitempty"`
	DecidedAt  time.Time   `json:"decided_at,omitzero"`
	Comment    string      `json:"comment,omitempty"`
	Reason     string      `json:"reason,omitempty"`
	// Missing are required facts the text lacks: until a responder supplies
	// them the draft is incomplete and legal cannot approve it.
	Missing []string `json:"missing,omitempty"`
	// SMSTooLong says why the notice's SMS is over the playbook's limit;
	// legal cannot approve it until the facts it quotes are shorter.
	SMSTooLong string `json:"sms_too_long,omitempty"`
	// Untranslated are texts the draft quotes in English because nobody
	// translated them into its language: legal approves it only with a
	// comment saying why, and the text tells its reader so.
	Untranslated []string `json:"untranslated,omitempty"`
	// Zones are where a notice's readers live when they live in several:
	// the draft gives its times in UTC, and each reader gets them in
	// their own zone.
	Zones []string `json:"zones,omitempty"`
	// LanguageNote says why a report is not in a language its recipient
	// accepts: legal approves it only with a comment.
	LanguageNote string `json:"language_note,omitempty"`
}

// ZoneVariant names the rendering of a notice for its readers in one zone:
// the same revision and text as the draft name, its times in that zone.
func ZoneVariant(name, zone string) string { return name + "@" + zone }

// Event is one line of the incident's timeline.
type Event struct {
	At    time.Time `json:"at"`
	Stage Stage     `json:"stage"`
	Text  string    `json:"text"`
}

// Record is an incident as its plan stands: what the progress query
// answers, what the store keeps once the workflow is gone, and what the
// API and the register read. Its JSON keys are the history's and the
// store's: never rename one.
type Record struct {
	Status       Stage                  `json:"status"`
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
	// Returns is the wait for returned letters, where letters went out and
	// no public announcement did.
	Returns *ReturnsWatch `json:"returns,omitempty"`
	// Waves are the follow-up waves asked for after the first notice,
	// oldest first.
	Waves []WaveState `json:"waves,omitempty"`
	// Corrections are the corrections of notices that went out, oldest first.
	Corrections []CorrectionState `json:"corrections,omitempty"`
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
func FactsOf(spec Spec) *BreachFacts {
	return &BreachFacts{Kind: spec.Kind, DetectedAt: spec.DetectedAt, OccurredFrom: spec.OccurredFrom, OccurredTo: spec.OccurredTo, Cause: spec.Facts["cause"],
		Description: spec.Description, Impact: spec.Impact, Measures: spec.Measures, Remedies: spec.Remedies, Categories: spec.Categories}
}

// Summary is what lists and the breach register filter and sort by, kept
// beside the record (the JSON keys are those activity inputs carry).
type Summary struct {
	Status        string   `json:",omitempty"`
	Jurisdictions []string `json:",omitempty"`
	Subjects      int      `json:",omitempty"`
	Reached       int      `json:",omitempty"`
}

// Summary is what lists and the breach register filter and sort by.
func (p Record) Summary() Summary {
	sum := Summary{Status: string(p.Status)}
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

// WaveState is one follow-up wave as the plan ran it.
type WaveState struct {
	Number       int       `json:"wave"`
	RequestedBy  string    `json:"requested_by"`
	RequestedAt  time.Time `json:"requested_at"`
	Systems      []string  `json:"systems,omitempty"`
	SubjectsFile string    `json:"subjects_file,omitempty"`
	Named        int64     `json:"named,omitempty"`
	// Status is queued, scoping, awaiting_approval, notifying, done or
	// failed (Error says why).
	Status string `json:"status"`
	// Added is how many people the wave brought into the affected set.
	Added int `json:"added"`
	// Duties are the duties it newly triggered; Drafts the drafts written
	// for them and its new readers.
	Duties []string `json:"duties,omitempty"`
	Drafts []string `json:"drafts,omitempty"`
	// Supplementary are reports drafted again with the new totals, for
	// regulators already reported to (or about to be) whose jurisdiction
	// it adds people to.
	Supplementary []string `json:"supplementary,omitempty"`
	// Reached is how many of everyone affected were reached once it was done.
	Reached int    `json:"reached,omitempty"`
	Error   string `json:"error,omitempty"`
}

// CorrectionState is one correction of a notice as the plan ran it.
type CorrectionState struct {
	Number      int       `json:"correction"`
	Draft       string    `json:"draft"`
	RequestedBy string    `json:"requested_by"`
	RequestedAt time.Time `json:"requested_at"`
	// From is the revision that was approved when it was asked for (the
	// copies it follows are of any revision before Revision); Revision is
	// the corrected one, once drafted.
	From     int `json:"from"`
	Revision int `json:"revision,omitempty"`
	// Status is queued, drafting, awaiting_approval, sending or done.
	Status string `json:"status"`
	// Copies is how many copies of an earlier revision it followed; Sent
	// and Failed how its own went.
	Copies int `json:"copies"`
	Sent   int `json:"sent"`
	Failed int `json:"failed,omitempty"`
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

// ReturnsWatch is the wait for letters the post office returns: until
// Until (the playbook's returns_window after notice), a person whom only
// a returned letter had reached makes the plan draft a public
// announcement, for legal, as substitute notice.
type ReturnsWatch struct {
	Letters int       `json:"letters"`
	Until   time.Time `json:"until"`
	// Ended says why the wait is over: "window", "settled" or
	// "announcement" (substitute notice now covers later returns).
	Ended     string    `json:"ended,omitempty"`
	SettledBy string    `json:"settled_by,omitempty"`
	EndedAt   time.Time `json:"ended_at,omitzero"`
}

// FilingStatus is what was done about a duty.
type FilingStatus string

// Filing statuses.
const (
	FilingPending   FilingStatus = "pending"
	FilingSubmitted FilingStatus = "submitted"
	FilingOverdue   FilingStatus = "overdue"
	// FilingWaived is a duty legal decided does not apply, with the reason
	// (GDPR art. 33(5): the register keeps breaches not notified and why).
	FilingWaived FilingStatus = "waived"
)

// Filing is what was done about one obligation.
type Filing struct {
	Status     FilingStatus `json:"status"`
	By         string       `json:"by,omitempty"`
	At         time.Time    `json:"at,omitzero"`
	Reference  string       `json:"reference,omitempty"`
	LateReason string       `json:"late_reason,omitempty"`
	Reminders  int          `json:"reminders,omitempty"`
	// WaivedBecause is legal's reason for waiving the duty.
	WaivedBecause string `json:"waived_because,omitempty"`
	// DelayedUntil is when a law-enforcement delay ends, which the duty
	// is not due before (DelayRequestedBy asked for it).
	DelayedUntil     time.Time `json:"delayed_until,omitzero"`
	DelayRequestedBy string    `json:"delay_requested_by,omitempty"`
}

// Met says whether nothing more is owed on the duty: filed, or waived.
func (f *Filing) Met() bool {
	return f != nil && (f.Status == FilingSubmitted || f.Status == FilingWaived)
}
