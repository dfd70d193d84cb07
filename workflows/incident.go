// Package workflows holds the emergency plan as code. Workflows decide; the
// activities act. Histories carry IDs, counts and cursors, never subject lists.
package workflows

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tocsin/tocsin/activities"
	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/senders"
	"github.com/tocsin/tocsin/internal/store"
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

// Draft statuses.
const (
	DraftPending  = "pending"
	DraftApproved = "approved"
	DraftRejected = "rejected"
)

// IncidentInput starts an incident.
type IncidentInput struct {
	IncidentID string
	OpenedBy   string
	Spec       incident.Spec
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
	Scope        *store.ScopeSummary    `json:"scope,omitempty"`
	Unreachable  int                    `json:"unreachable"`
	Obligations  []playbooks.Obligation `json:"obligations"`
	Drafts       []DraftState           `json:"drafts"`
	Rung         int                    `json:"rung"`
	Reach        *store.Reach           `json:"reach,omitempty"`
	Campaign     *CampaignState         `json:"campaign,omitempty"`
	Announcement *AnnouncementState     `json:"announcement,omitempty"`
	// Filings are the obligations' states, by obligation name.
	Filings map[string]*Filing `json:"filings,omitempty"`
	// Milestones are when the plan reached each stage a playbook sets a
	// target for (scoped, assessed, drafted, approved, notified, closed).
	Milestones map[string]time.Time `json:"milestones,omitempty"`
	Timeline   []Event              `json:"timeline"`
	Error      string               `json:"error,omitempty"`
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
)

// Filing is what was done about one obligation.
type Filing struct {
	Status     string    `json:"status"`
	By         string    `json:"by,omitempty"`
	At         time.Time `json:"at,omitzero"`
	Reference  string    `json:"reference,omitempty"`
	LateReason string    `json:"late_reason,omitempty"`
	Reminders  int       `json:"reminders,omitempty"`
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

type plan struct {
	in       IncidentInput
	p        Progress
	spec     incident.Spec
	pending  []string // drafts a revision was asked for
	reviewer map[string]string
	// refresh are pending drafts to draft again with new facts, each by
	// whom set them; a draft whose text does not change keeps its revision.
	refresh []string
	// redrafting are the drafts being rendered again right now.
	redrafting []string
	// buttons is whether this run posts review buttons and campaign
	// progress to the war room (histories from before them replay without).
	buttons bool
	// postedQuarter is the last quarter of the campaign told to the war room.
	postedQuarter int
}

func (s *plan) approve(ctx workflow.Context, in ApproveInput) DraftState {
	d := s.draft(in.Draft)
	d.Status, d.ApprovedBy, d.Comment, d.DecidedAt = DraftApproved, in.Actor.Identity, in.Comment, workflow.Now(ctx)
	s.event(ctx, fmt.Sprintf("%s revision %d approved by %s", d.Name, d.Revision, in.Actor.Identity))
	return *d
}

// redrafted says whether a draft has a new revision on its way.
func (s *plan) redrafted(name string) bool {
	return slices.Contains(s.pending, name) || slices.Contains(s.refresh, name) || slices.Contains(s.redrafting, name)
}

// IncidentWorkflow runs one incident from opening to closing.
func IncidentWorkflow(ctx workflow.Context, in IncidentInput) (IncidentResult, error) {
	s := &plan{in: in, spec: in.Spec, p: Progress{Status: StageOpen, OpenedBy: in.OpenedBy, Obligations: []playbooks.Obligation{}, Drafts: []DraftState{}}}
	if err := workflow.SetQueryHandler(ctx, QueryProgress, func() (Progress, error) { return s.p, nil }); err != nil {
		return IncidentResult{}, err
	}
	if err := s.registerUpdates(ctx); err != nil {
		return IncidentResult{}, err
	}
	if in.Drill != nil && !in.Drill.Attended {
		workflow.Go(ctx, s.autopilot)
	}
	res, err := s.run(ctx)
	if err != nil {
		s.p.Error = err.Error()
	}
	res.Milestones = s.p.Milestones
	return res, err
}

func (s *plan) milestone(ctx workflow.Context, name string) {
	if s.p.Milestones == nil {
		s.p.Milestones = map[string]time.Time{}
	}
	if _, ok := s.p.Milestones[name]; !ok {
		s.p.Milestones[name] = workflow.Now(ctx)
	}
}

func (s *plan) event(ctx workflow.Context, text string) {
	s.p.Timeline = append(s.p.Timeline, Event{At: workflow.Now(ctx), Stage: s.p.Status, Text: text})
}

func (s *plan) stage(ctx workflow.Context, stage, text string) {
	s.p.Status = stage
	s.event(ctx, text)
}

var a *activities.Activities

func activityOptions(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		HeartbeatTimeout:    time.Minute,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2, MaximumInterval: time.Minute},
	})
}

func (s *plan) post(ctx workflow.Context, text string) {
	if s.p.WarRoom == "" {
		return
	}
	// The timeline is a courtesy to responders: a Slack outage must not stop the plan.
	pctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: 30 * time.Second, RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 5}})
	if err := workflow.ExecuteActivity(pctx, a.Post, activities.PostInput{ChannelID: s.p.WarRoom, Text: text}).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("war room post failed", "error", err)
	}
}

// review puts draft revisions in front of legal in the war room, with
// Approve and Reject buttons. Like every war-room post it must not stop the plan.
func (s *plan) review(ctx workflow.Context, drafts []activities.DraftInfo) {
	if !s.buttons || s.p.WarRoom == "" || len(drafts) == 0 {
		return
	}
	in := activities.ReviewInput{ChannelID: s.p.WarRoom, IncidentID: s.in.IncidentID}
	for _, d := range drafts {
		in.Drafts = append(in.Drafts, activities.DraftRef{Name: d.Name, Revision: d.Revision, Missing: d.Missing})
	}
	pctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute, RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 5}})
	if err := workflow.ExecuteActivity(pctx, a.PostReview, in).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("war room review post failed", "error", err)
	}
}

func (s *plan) run(ctx workflow.Context) (IncidentResult, error) {
	ctx = activityOptions(ctx)
	id := s.in.IncidentID
	s.event(ctx, fmt.Sprintf("incident opened by %s", s.in.OpenedBy))

	var open activities.OpenWarRoomResult
	if err := workflow.ExecuteActivity(ctx, a.OpenWarRoom, activities.OpenWarRoomInput{IncidentID: id, Title: s.spec.Title, Playbook: s.spec.Playbook, Drill: s.spec.Drill, Restricted: len(s.spec.RestrictedTo) > 0}).Get(ctx, &open); err != nil {
		return IncidentResult{}, fmt.Errorf("open war room: %w", err)
	}
	s.p.WarRoom = open.ChannelID
	s.buttons = workflow.GetVersion(ctx, "warroom-review", workflow.DefaultVersion, 1) >= 1
	s.post(ctx, fmt.Sprintf(":rotating_light: %s %s opened by %s. Responders paged: %s.", id, senders.SlackEscape(s.spec.Title), senders.SlackEscape(s.in.OpenedBy), strings.Join(open.Paged, ", ")))

	s.stage(ctx, StageScoping, "scoping the affected people from the data inventory")
	var scope activities.ScopeResult
	if err := workflow.ExecuteActivity(ctx, a.Scope, activities.ScopeInput{IncidentID: id, Systems: s.spec.Systems, Categories: s.spec.Categories, Regions: s.spec.Regions, Year: s.spec.DetectedAt.Year()}).Get(ctx, &scope); err != nil {
		return IncidentResult{}, fmt.Errorf("scope: %w", err)
	}
	s.p.Scope = &scope.Summary
	s.p.Unreachable = scope.Summary.NoContact
	s.milestone(ctx, "scoped")
	severity := "sensitive data involved"
	if scope.Summary.Sensitive == 0 {
		severity = "no sensitive data"
	}
	s.event(ctx, fmt.Sprintf("%d people affected (%s), %d minors, %d without any contact", scope.Summary.Subjects, severity, scope.Summary.Minors, scope.Summary.NoContact))
	s.post(ctx, fmt.Sprintf("Scope: %d people affected, %d with sensitive exposure, %d minors.", scope.Summary.Subjects, scope.Summary.Sensitive, scope.Summary.Minors))

	s.stage(ctx, StageAssessing, "assessing legal duties")
	var plan activities.AssessResult
	if err := workflow.ExecuteActivity(ctx, a.Assess, activities.AssessInput{Playbook: s.spec.Playbook, Scope: scope.Summary, DetectedAt: s.spec.DetectedAt, AssessedAt: workflow.Now(ctx), Spec: s.spec}).Get(ctx, &plan); err != nil {
		return IncidentResult{}, fmt.Errorf("assess: %w", err)
	}
	s.p.Obligations = plan.Obligations
	s.milestone(ctx, "assessed")
	s.event(ctx, fmt.Sprintf("%d obligations apply", len(plan.Obligations)))
	// Histories from before deadline tracking replay without its timers.
	tracking := workflow.GetVersion(ctx, "deadlines", workflow.DefaultVersion, 1) >= 1
	if tracking {
		s.trackDeadlines(ctx, plan)
	}

	s.stage(ctx, StageDrafting, "drafting regulator reports and notices")
	draftIn := activities.DraftInput{IncidentID: id, Spec: s.spec, Scope: scope.Summary, Obligations: plan.Obligations, DefaultLocale: plan.DefaultLocale, Author: s.in.OpenedBy, Revision: 1, SMSMaxSegments: plan.SMSMaxSegments}
	var drafts activities.DraftResult
	if err := workflow.ExecuteActivity(ctx, a.RenderDrafts, draftIn).Get(ctx, &drafts); err != nil {
		return IncidentResult{}, fmt.Errorf("draft: %w", err)
	}
	for _, d := range drafts.Drafts {
		s.p.Drafts = append(s.p.Drafts, draftState(d))
	}
	s.milestone(ctx, "drafted")

	s.stage(ctx, StageAwaitApproval, "waiting for legal to approve every draft")
	s.post(ctx, fmt.Sprintf("%d drafts are ready for legal review.", len(drafts.Drafts)))
	s.review(ctx, drafts.Drafts)
	if err := s.awaitApproval(ctx, draftIn, func(d DraftState) bool { return d.Kind != activities.KindAnnouncement }); err != nil {
		return IncidentResult{}, err
	}
	s.milestone(ctx, "approved")
	s.post(ctx, "Legal approved every draft. Notifying affected people.")
	if tracking {
		if err := s.awaitFilingsBeforeNotice(ctx); err != nil {
			return IncidentResult{}, err
		}
	}

	s.stage(ctx, StageNotifying, "notifying affected people")
	notices := map[string]int{}
	for _, d := range s.p.Drafts {
		if d.Kind == activities.KindNotice {
			notices[d.Name] = d.Revision
		}
	}
	// Incidents started before campaigns were partitioned keep their loop.
	if workflow.GetVersion(ctx, "fanout", workflow.DefaultVersion, 1) >= 1 {
		if err := s.campaign(ctx, plan, notices); err != nil {
			return IncidentResult{}, err
		}
	} else {
		for i, channels := range plan.Ladder {
			rung := i + 1
			s.p.Rung = rung
			if err := s.notifyRung(ctx, rung, channels, plan, notices); err != nil {
				return IncidentResult{}, err
			}
		}
	}
	var reach activities.ReachResult
	if err := workflow.ExecuteActivity(ctx, a.Reach, id).Get(ctx, &reach); err != nil {
		return IncidentResult{}, fmt.Errorf("reach: %w", err)
	}
	s.p.Reach = &reach.Reach
	s.p.Unreachable = reach.Reach.Unreached
	s.milestone(ctx, "notified")
	s.event(ctx, fmt.Sprintf("%d people reached individually, %d not reachable", reach.Reach.Reached, reach.Reach.Unreached))
	s.post(ctx, fmt.Sprintf("Individual notice done: %d reached, %d not reachable.", reach.Reach.Reached, reach.Reach.Unreached))

	announced, err := s.announce(ctx, draftIn, reach.Reach)
	if err != nil {
		return IncidentResult{}, err
	}

	if tracking {
		if err := s.awaitFilings(ctx, reach, announced); err != nil {
			return IncidentResult{}, err
		}
	}

	s.milestone(ctx, "closed")
	s.stage(ctx, StageClosed, fmt.Sprintf("closed: %d reached (%s), %d by public announcement", reach.Reach.Reached, channelSummary(reach.Reach.ByChannel), reach.Reach.Unreached))
	s.post(ctx, fmt.Sprintf(":white_check_mark: %s closed. %d reached individually, %d covered by the public announcement.", id, reach.Reach.Reached, reach.Reach.Unreached))
	return IncidentResult{Reached: reach.Reach.Reached, Unreached: reach.Reach.Unreached, ByChannel: reach.Reach.ByChannel, Announced: announced}, nil
}

func channelSummary(by map[string]int) string {
	var parts []string
	for _, ch := range []string{"onsite", "email", "sms", "voice"} {
		if by[ch] > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", ch, by[ch]))
		}
	}
	return strings.Join(parts, ", ")
}

// campaign splits the affected set into partitions and runs a NotifyWorkflow
// for each, PartitionWindow at a time.
func (s *plan) campaign(ctx workflow.Context, plan activities.AssessResult, notices map[string]int) error {
	id := s.in.IncidentID
	size := s.in.PartitionSize
	if size <= 0 {
		size = DefaultPartitionSize
	}
	var split activities.SplitResult
	if err := workflow.ExecuteActivity(ctx, a.SplitRange, activities.SplitInput{IncidentID: id, Size: size}).Get(ctx, &split); err != nil {
		return fmt.Errorf("split campaign: %w", err)
	}
	c := &CampaignState{StartedAt: workflow.Now(ctx), Subjects: split.Subjects, Partitions: len(split.Ranges)}
	s.p.Campaign = c
	batch := s.in.BatchSize
	if batch <= 0 {
		batch = DefaultBatchSize
	}
	window, bwindow := s.in.PartitionWindow, s.in.BatchWindow
	if window <= 0 {
		window = DefaultPartitionWindow
	}
	if bwindow <= 0 {
		bwindow = DefaultBatchWindow
	}
	s.event(ctx, fmt.Sprintf("campaign: %d people in %d partitions of up to %d, batches of %d", split.Subjects, len(split.Ranges), size, batch))
	reached := make([]int, len(plan.Ladder))
	var firstErr error
	inflight := 0
	sel := workflow.NewSelector(ctx)
	for i, r := range split.Ranges {
		for inflight >= window {
			sel.Select(ctx)
			s.campaignProgress(ctx)
		}
		if firstErr != nil {
			break
		}
		cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: fmt.Sprintf("%s-notify-%d", id, i+1)})
		in := NotifyInput{IncidentID: id, Partition: i + 1, Range: r, Ladder: plan.Ladder, BatchSize: batch, Window: bwindow, DefaultLocale: plan.DefaultLocale,
			Notices: notices, Quiet: plan.Quiet, ReceiptTimeout: plan.ReceiptTimeout, ReceiptPoll: s.in.ReceiptPoll, BounceWindow: plan.BounceWindow, NoVoicemail: plan.NoVoicemail}
		inflight++
		sel.AddFuture(workflow.ExecuteChildWorkflow(cctx, NotifyWorkflow, in), func(f workflow.Future) {
			inflight--
			var res NotifyResult
			if err := f.Get(ctx, &res); err != nil {
				if firstErr == nil {
					firstErr = fmt.Errorf("notify partition %d: %w", in.Partition, err)
				}
				return
			}
			c.PartitionsDone++
			c.Attempts += res.Attempts
			c.Failed += res.Failed
			c.Recovered += res.Recovered
			c.Deferred += res.Deferred
			for k, n := range res.Reached {
				if k < len(reached) {
					reached[k] += n
				}
			}
		})
	}
	for inflight > 0 {
		sel.Select(ctx)
		s.campaignProgress(ctx)
	}
	if firstErr != nil {
		return firstErr
	}
	for i, channels := range plan.Ladder {
		s.event(ctx, fmt.Sprintf("rung %d (%s) reached %d people", i+1, strings.Join(channels, "+"), reached[i]))
	}
	if c.Recovered > 0 {
		s.event(ctx, fmt.Sprintf("%d sends interrupted by a crash were recovered without sending twice", c.Recovered))
	}
	return nil
}

// campaignProgress tells the war room each time another quarter of the
// campaign's partitions is done.
func (s *plan) campaignProgress(ctx workflow.Context) {
	c := s.p.Campaign
	if !s.buttons || c == nil || c.Partitions == 0 {
		return
	}
	quarter := c.PartitionsDone * 4 / c.Partitions
	if quarter <= s.postedQuarter {
		return
	}
	s.postedQuarter = quarter
	s.post(ctx, fmt.Sprintf(":mega: Individual notice: %d of %d partitions done (%d%% of %d people), %d sends so far, %d failed.",
		c.PartitionsDone, c.Partitions, c.PartitionsDone*100/c.Partitions, c.Subjects, c.Attempts, c.Failed))
}

func (s *plan) notifyRung(ctx workflow.Context, rung int, channels []string, plan activities.AssessResult, notices map[string]int) error {
	id := s.in.IncidentID
	cursor := ""
	for {
		var res activities.BatchResult
		in := activities.BatchInput{IncidentID: id, Rung: rung, Channels: channels, After: cursor, Limit: s.in.BatchSize, DefaultLocale: plan.DefaultLocale, Notices: notices}
		if err := workflow.ExecuteActivity(ctx, a.SendBatch, in).Get(ctx, &res); err != nil {
			return fmt.Errorf("notify rung %d: %w", rung, err)
		}
		if res.Done {
			break
		}
		cursor = res.Next
	}
	if slices.Contains(channels, "sms") || slices.Contains(channels, "voice") {
		rctx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: plan.ReceiptTimeout + time.Minute, HeartbeatTimeout: time.Minute})
		var rr activities.ReceiptsResult
		if err := workflow.ExecuteActivity(rctx, a.AwaitReceipts, activities.ReceiptsInput{IncidentID: id, Rung: rung, Timeout: plan.ReceiptTimeout, Poll: s.in.ReceiptPoll}).Get(ctx, &rr); err != nil {
			return fmt.Errorf("receipts rung %d: %w", rung, err)
		}
		if rr.Pending > 0 {
			s.event(ctx, fmt.Sprintf("%d %s receipts never came; those people move down the ladder", rr.Pending, strings.Join(channels, "+")))
		}
	}
	var resolved activities.ResolveResult
	if err := workflow.ExecuteActivity(ctx, a.ResolveRung, activities.ResolveInput{IncidentID: id, Rung: rung, Channels: channels, NoVoicemail: plan.NoVoicemail}).Get(ctx, &resolved); err != nil {
		return fmt.Errorf("resolve rung %d: %w", rung, err)
	}
	s.event(ctx, fmt.Sprintf("rung %d (%s) reached %d people", rung, strings.Join(channels, "+"), resolved.Reached))
	return nil
}

func (s *plan) announce(ctx workflow.Context, draftIn activities.DraftInput, reach store.Reach) (bool, error) {
	if reach.Unreached == 0 {
		return false, nil
	}
	const reason = "some affected people could not be reached individually"
	s.p.Announcement = &AnnouncementState{Required: true, Reason: reason}
	s.stage(ctx, StageAnnouncing, fmt.Sprintf("%d people could not be reached: drafting a public announcement", reach.Unreached))
	in := draftIn
	in.Spec = s.spec
	in.Announcement = true
	var res activities.DraftResult
	if err := workflow.ExecuteActivity(ctx, a.RenderDrafts, in).Get(ctx, &res); err != nil {
		return false, fmt.Errorf("draft announcement: %w", err)
	}
	for _, d := range res.Drafts {
		s.p.Drafts = append(s.p.Drafts, draftState(d))
	}
	s.post(ctx, "The public announcement is ready for legal review.")
	s.review(ctx, res.Drafts)
	if err := s.awaitApproval(ctx, in, func(d DraftState) bool { return d.Kind == activities.KindAnnouncement }); err != nil {
		return false, err
	}
	var pub activities.PublishResult
	rev := s.draft("announcement").Revision
	if err := workflow.ExecuteActivity(ctx, a.PublishAnnouncement, activities.PublishInput{IncidentID: s.in.IncidentID, Revision: rev, Unreached: reach.Unreached, Reason: reason}).Get(ctx, &pub); err != nil {
		return false, fmt.Errorf("publish announcement: %w", err)
	}
	s.p.Announcement.Published, s.p.Announcement.URL = true, pub.URL
	s.event(ctx, "public announcement published at "+pub.URL)
	s.post(ctx, "Public announcement published: "+pub.URL)
	return true, nil
}

// awaitApproval blocks until every draft that matches is approved, rendering a
// new revision whenever a responder revises a rejected one or sets facts a
// pending one states.
func (s *plan) awaitApproval(ctx workflow.Context, in activities.DraftInput, match func(DraftState) bool) error {
	for {
		if err := workflow.Await(ctx, func() bool { return len(s.pending) > 0 || len(s.refresh) > 0 || s.allApproved(match) }); err != nil {
			return err
		}
		if len(s.pending) == 0 && len(s.refresh) == 0 {
			return nil
		}
		revise, refresh := s.pending, s.refresh
		s.pending, s.refresh = nil, nil
		s.redrafting = slices.Concat(revise, refresh)
		var redrafted []activities.DraftInfo
		for _, name := range s.redrafting {
			d := s.draft(name)
			if d.Status == DraftApproved {
				continue
			}
			rin := in
			rin.Spec = s.spec
			rin.Only = []string{name}
			rin.Revision = d.Revision + 1
			rin.Author = s.reviewer[name]
			rin.Announcement = d.Kind == activities.KindAnnouncement
			rin.IfChanged = !slices.Contains(revise, name)
			var res activities.DraftResult
			if err := workflow.ExecuteActivity(ctx, a.RenderDrafts, rin).Get(ctx, &res); err != nil {
				return fmt.Errorf("revise %s: %w", name, err)
			}
			if len(res.Drafts) != 1 {
				return fmt.Errorf("revise %s: %d drafts rendered", name, len(res.Drafts))
			}
			got := res.Drafts[0]
			if got.Revision == d.Revision {
				d.Missing, d.SMSTooLong = got.Missing, got.SMSTooLong
				continue
			}
			d.Revision, d.Status, d.Author, d.ApprovedBy, d.Comment, d.Reason, d.Missing = got.Revision, DraftPending, got.Author, "", "", "", got.Missing
			d.SMSTooLong = got.SMSTooLong
			s.event(ctx, fmt.Sprintf("%s revision %d drafted by %s", name, d.Revision, d.Author))
			redrafted = append(redrafted, got)
		}
		s.redrafting = nil
		// One post for all the new revisions, after the whole redraft: the
		// update that asked for them answers without waiting on Slack.
		s.review(ctx, redrafted)
	}
}

func (s *plan) allApproved(match func(DraftState) bool) bool {
	for _, d := range s.p.Drafts {
		if match(d) && d.Status != DraftApproved {
			return false
		}
	}
	return true
}

func (s *plan) draft(name string) *DraftState {
	for i := range s.p.Drafts {
		if s.p.Drafts[i].Name == name {
			return &s.p.Drafts[i]
		}
	}
	return nil
}

// ErrTypeForbidden is the type of an update refused for who asked (an
// ApplicationError, so the API tells it from other refusals by its type).
const ErrTypeForbidden = "Forbidden"

// forbidden refuses an update for who asked; the message keeps the
// "forbidden: " the API has always shown.
func forbidden(format string, args ...any) error {
	return temporal.NewApplicationError("forbidden: "+fmt.Sprintf(format, args...), ErrTypeForbidden)
}

// checkLegal is the legal gate every decision on a draft passes; revision,
// when not 0, must be the draft's current one.
func (s *plan) checkLegal(actor Actor, name string, revision int) (*DraftState, error) {
	if actor.Role != "legal" && (actor.Role != "drill" || !s.spec.Drill) {
		return nil, forbidden("only legal may approve or reject drafts (%s is %s)", actor.Identity, actor.Role)
	}
	d := s.draft(name)
	if d == nil {
		return nil, fmt.Errorf("no draft named %q", name)
	}
	if strings.EqualFold(actor.Identity, s.in.OpenedBy) {
		return nil, forbidden("%s opened this incident and cannot approve its drafts", actor.Identity)
	}
	if strings.EqualFold(actor.Identity, d.Author) {
		return nil, forbidden("%s wrote revision %d of %s and cannot approve it", actor.Identity, d.Revision, name)
	}
	if revision != 0 && revision != d.Revision {
		return nil, fmt.Errorf("revision %d of %s was replaced by revision %d; review that one", revision, name, d.Revision)
	}
	if d.Status != DraftPending {
		return nil, fmt.Errorf("draft %s revision %d is %s, not pending", name, d.Revision, d.Status)
	}
	if s.redrafted(name) {
		return nil, fmt.Errorf("draft %s is being drafted again with new facts; review the new revision", name)
	}
	return d, nil
}

// checkApprove is approve's validator, for the drill identity too.
func (s *plan) checkApprove(in ApproveInput) error {
	d, err := s.checkLegal(in.Actor, in.Draft, in.Revision)
	if err == nil && len(d.Missing) > 0 {
		return fmt.Errorf("draft %s revision %d is incomplete: the law requires %s; a responder supplies them with %s",
			d.Name, d.Revision, strings.Join(d.Missing, ", "), FactsHint(s.in.IncidentID, d.Missing))
	}
	if err == nil && d.SMSTooLong != "" {
		return fmt.Errorf("draft %s revision %d cannot be approved: %s; a responder shortens the description or advice it quotes with %s, or the playbook allows more",
			d.Name, d.Revision, d.SMSTooLong, FactsHint(s.in.IncidentID, []string{"description", "advice"}))
	}
	return err
}

func (s *plan) registerUpdates(ctx workflow.Context) error {
	err := workflow.SetUpdateHandlerWithOptions(ctx, UpdateApprove, func(ctx workflow.Context, in ApproveInput) (DraftState, error) {
		return s.approve(ctx, in), nil
	}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, in ApproveInput) error {
		if err := verifySigned(ctx, UpdateApprove, &in); err != nil {
			return err
		}
		return s.checkApprove(in)
	}})
	if err != nil {
		return err
	}
	err = workflow.SetUpdateHandlerWithOptions(ctx, UpdateReject, func(ctx workflow.Context, in RejectInput) (DraftState, error) {
		d := s.draft(in.Draft)
		d.Status, d.Reason, d.DecidedAt = DraftRejected, in.Reason, workflow.Now(ctx)
		s.event(ctx, fmt.Sprintf("%s revision %d rejected by %s: %s", d.Name, d.Revision, in.Actor.Identity, in.Reason))
		return *d, nil
	}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, in RejectInput) error {
		if err := verifySigned(ctx, UpdateReject, &in); err != nil {
			return err
		}
		if strings.TrimSpace(in.Reason) == "" {
			return errors.New("a rejection needs a reason, so the draft can be revised")
		}
		_, err := s.checkLegal(in.Actor, in.Draft, in.Revision)
		return err
	}})
	if err != nil {
		return err
	}
	if err := s.registerSubmit(ctx); err != nil {
		return err
	}
	if err := s.registerFacts(ctx); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateRevise, func(ctx workflow.Context, in ReviseInput) (DraftState, error) {
		s.setFacts(in.Changes)
		if s.reviewer == nil {
			s.reviewer = map[string]string{}
		}
		s.reviewer[in.Draft] = in.Actor.Identity
		s.pending = append(s.pending, in.Draft)
		d := s.draft(in.Draft)
		s.event(ctx, fmt.Sprintf("%s revision requested by %s", in.Draft, in.Actor.Identity))
		return *d, nil
	}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, in ReviseInput) error {
		if err := verifySigned(ctx, UpdateRevise, &in); err != nil {
			return err
		}
		if in.Actor.Role != "responder" && in.Actor.Role != "admin" {
			return forbidden("only responders revise drafts (%s is %s)", in.Actor.Identity, in.Actor.Role)
		}
		d := s.draft(in.Draft)
		if d == nil {
			return fmt.Errorf("no draft named %q", in.Draft)
		}
		if d.Status != DraftRejected {
			return fmt.Errorf("draft %s is %s: only a rejected draft is revised", in.Draft, d.Status)
		}
		if s.redrafted(in.Draft) {
			return fmt.Errorf("draft %s is already being revised", in.Draft)
		}
		return checkSettable(in.Changes)
	}})
}

// factExamples are how a hint shows each fact a law may require. A content
// field is named as the law names it; occurred_at is set as occurred_from
// (and occurred_to), the only spelling the facts command takes.
var factExamples = map[string]string{
	"description": `description="What happened, in plain words"`, "impact": `impact="What it may mean for the people affected"`,
	"measures": `measures="What was done to contain it"`, "advice": `advice="What people can do to protect themselves"`,
	"remedies": `remedies="What we offer (credit monitoring, a hotline)"`, "contact": `contact="privacy@example.com, +1 800 555 0100"`,
	"occurred_at": `occurred_from=2026-11-18T00:00:00Z`, "cause": `cause="How it happened"`,
	"organisation": `organisation="The company's legal name"`, "reporter": `reporter="Who reports it, with a phone number"`,
	"dpo_contact": `dpo_contact=dpo@example.com`,
}

// FactsHint is a `tocsin incident facts` command that supplies the missing
// fields (with example values to replace). Fields no command can supply
// (detected_at and categories come from the incident file and the inventory)
// are named after it.
func FactsHint(incidentID string, missing []string) string {
	var set, other []string
	for _, f := range missing {
		if ex, ok := factExamples[f]; ok {
			set = append(set, "--set "+ex)
		} else {
			other = append(other, f)
		}
	}
	hint := ""
	if len(set) > 0 {
		hint = "`tocsin incident facts " + incidentID + " " + strings.Join(set, " ") + "` (with the incident's own values)"
	}
	if len(other) > 0 {
		if hint != "" {
			hint += "; "
		}
		hint += strings.Join(other, ", ") + " come from the incident file and the inventory's systems: open a corrected incident"
	}
	return hint
}

// MaxFactBytes bounds one fact: a fact is a paragraph of a notice, and
// every draft and its revision diff is computed from it.
const MaxFactBytes = 8 << 10

func checkSettable(set map[string]string) error {
	// Checked in Settable's order, never the map's, so that the same request
	// always gets the same answer.
	known := 0
	for _, k := range Settable {
		v, ok := set[k]
		if !ok {
			continue
		}
		known++
		if len(v) > MaxFactBytes {
			return fmt.Errorf("%s: %d bytes is longer than a notice can carry (at most %d); shorten it", k, len(v), MaxFactBytes)
		}
		if k == "occurred_from" || k == "occurred_to" {
			if _, err := time.Parse(time.RFC3339, v); err != nil {
				return fmt.Errorf("%s: %q is not an RFC 3339 time (2026-11-18T00:00:00Z)", k, v)
			}
		}
	}
	if known < len(set) {
		return fmt.Errorf("%q is not a fact a draft states; use one of %s", firstUnknown(set), strings.Join(Settable, ", "))
	}
	return nil
}

// firstUnknown is the alphabetically first key of set that is not settable.
func firstUnknown(set map[string]string) string {
	var unknown []string
	// The keys are sorted before use, so the map's order does not matter.
	//workflowcheck:ignore
	for k := range set {
		if !slices.Contains(Settable, k) {
			unknown = append(unknown, k)
		}
	}
	slices.Sort(unknown)
	return unknown[0]
}

// registerFacts lets responders supply facts the law requires while drafts
// wait for legal: each pending draft is drafted again if its text changes.
func (s *plan) registerFacts(ctx workflow.Context) error {
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateFacts, func(ctx workflow.Context, in FactsInput) ([]DraftState, error) {
		keys := s.setFacts(in.Set)
		if s.reviewer == nil {
			s.reviewer = map[string]string{}
		}
		var touched []string
		for _, d := range s.p.Drafts {
			if d.Status == DraftPending && !s.redrafted(d.Name) {
				s.refresh = append(s.refresh, d.Name)
				s.reviewer[d.Name] = in.Actor.Identity
				touched = append(touched, d.Name)
			}
		}
		s.event(ctx, fmt.Sprintf("%s set by %s", strings.Join(keys, ", "), in.Actor.Identity))
		// Pending drafts exist only while the plan awaits approval, which
		// drafts them again: answer with the drafts as legal will now see them.
		if err := workflow.Await(ctx, func() bool {
			return !slices.ContainsFunc(touched, s.redrafted)
		}); err != nil {
			return nil, err
		}
		out := []DraftState{}
		for _, n := range touched {
			out = append(out, *s.draft(n))
		}
		return out, nil
	}, workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, in FactsInput) error {
		if err := verifySigned(ctx, UpdateFacts, &in); err != nil {
			return err
		}
		if in.Actor.Role != "responder" && in.Actor.Role != "admin" && (in.Actor.Role != "drill" || !s.spec.Drill) {
			return forbidden("only responders set an incident's facts (%s is %s)", in.Actor.Identity, in.Actor.Role)
		}
		if len(in.Set) == 0 {
			return errors.New("set at least one fact (key=value)")
		}
		if s.p.Status == StageClosed {
			return errors.New("the incident is closed")
		}
		return checkSettable(in.Set)
	}})
}

// setFacts applies the settable facts of set to the incident, in Settable's
// order, and returns the keys it set.
func (s *plan) setFacts(set map[string]string) []string {
	var keys []string
	for _, k := range Settable {
		if v, ok := set[k]; ok {
			setField(&s.spec, k, v)
			keys = append(keys, k)
		}
	}
	return keys
}

func setField(spec *incident.Spec, k, v string) {
	switch k {
	case "description":
		spec.Description = v
	case "impact":
		spec.Impact = v
	case "measures":
		spec.Measures = v
	case "advice":
		spec.Advice = v
	case "remedies":
		spec.Remedies = v
	case "contact":
		spec.Contact = v
	case "occurred_from":
		spec.OccurredFrom, _ = time.Parse(time.RFC3339, v)
	case "occurred_to":
		spec.OccurredTo, _ = time.Parse(time.RFC3339, v)
	default:
		// A new map, so the input's spec is not changed under it; filled in
		// FactKeys' order (the only keys a spec's facts hold).
		facts := make(map[string]string, len(spec.Facts)+1)
		for _, fk := range incident.FactKeys {
			if fv, ok := spec.Facts[fk]; ok {
				facts[fk] = fv
			}
		}
		facts[k] = v
		spec.Facts = facts
	}
}
