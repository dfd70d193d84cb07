// Package workflows holds the emergency plan as code. Workflows decide; the
// activities act. Histories carry IDs, counts and cursors, never subject lists.
package workflows

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tocsin/tocsin/activities"
	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/plandata"
	"github.com/tocsin/tocsin/internal/senders"
	"github.com/tocsin/tocsin/playbooks"
)

type plan struct {
	in      IncidentInput
	p       Progress
	spec    incident.Spec
	pending []string // drafts a revision was asked for
	// assessedDue are duties' due times as assessed, before a
	// law-enforcement delay moved them.
	assessedDue map[string]time.Time
	reviewer    map[string]string
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
	// changes counts what the plan changed that people see; recorded is
	// how many of them the store has (record-progress).
	changes, recorded int
	closing           bool
	// returnsPending: returned letters left people unreached since the
	// plan last counted who was reached.
	returnsPending bool
	// unchartered is set while the run is checked against the store: no
	// update is taken until then; chartered once it was (signatures then
	// name the run).
	unchartered, chartered bool
	// nonces are the signed updates taken inside SignedWindow.
	nonces map[string]time.Time
	// keys are the actor keys this worker verifies signed updates with.
	keys [][]byte
	// noWaves, noCorrections: this run's history reached the wait for
	// filings before follow-up waves (corrections) existed, so it cannot
	// run one.
	noWaves, noCorrections bool
	// late are the projected misses the war room was warned of.
	late []string
}

// redrafted says whether a draft has a new revision on its way.
func (s *plan) redrafted(name string) bool {
	return slices.Contains(s.pending, name) || slices.Contains(s.refresh, name) || slices.Contains(s.redrafting, name)
}

// IncidentWorkflowName is the name incidents are started and registered under.
const IncidentWorkflowName = "IncidentWorkflow"

// Incidents is the incident workflow as a worker registers it, with the
// actor keys it verifies signed updates with: the current one first, then
// any being rotated out.
type Incidents struct {
	ActorKeys [][]byte
}

// Run runs one incident from opening to closing.
func (w Incidents) Run(ctx workflow.Context, in IncidentInput) (IncidentResult, error) {
	return runIncident(ctx, in, w.ActorKeys)
}

// Register registers the workflow under IncidentWorkflowName.
func (w Incidents) Register(r worker.WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(w.Run, workflow.RegisterOptions{Name: IncidentWorkflowName})
}

// IncidentWorkflow is the incident workflow holding no actor key, which
// refuses every signed update: what clients name to start an incident, and
// what a replay runs (validators do not run on replay).
func IncidentWorkflow(ctx workflow.Context, in IncidentInput) (IncidentResult, error) {
	return runIncident(ctx, in, nil)
}

func runIncident(ctx workflow.Context, in IncidentInput, keys [][]byte) (IncidentResult, error) {
	s := &plan{keys: keys, in: in, spec: in.Spec, p: Progress{Status: StageOpen, OpenedBy: in.OpenedBy, Obligations: []playbooks.Obligation{}, Drafts: []DraftState{}, Facts: FactsOf(in.Spec)}}
	if err := workflow.SetQueryHandler(ctx, QueryProgress, func() (Progress, error) { return s.p, nil }); err != nil {
		return IncidentResult{}, err
	}
	if err := s.registerUpdates(ctx); err != nil {
		return IncidentResult{}, err
	}
	if workflow.GetVersion(ctx, changeCharter, workflow.DefaultVersion, 1) >= 1 {
		if err := s.claimCharter(ctx); err != nil {
			s.p.Error = err.Error()
			return IncidentResult{}, err
		}
	}
	if s.in.Drill != nil && !s.in.Drill.Attended {
		workflow.Go(ctx, s.autopilot)
	}
	recording := workflow.GetVersion(ctx, changeRecordProgress, workflow.DefaultVersion, 1) >= 1
	if recording {
		workflow.Go(ctx, s.recorder)
	}
	res, err := s.run(ctx)
	if err != nil {
		s.p.Error = err.Error()
		if ctx.Err() == nil && s.p.WarRoom != "" && workflow.GetVersion(ctx, changeFailurePosted, workflow.DefaultVersion, 1) >= 1 {
			s.post(ctx, fmt.Sprintf(":x: The plan stopped at %s: %s. Nothing further happens on its own; `tocsin incident show %s` has the record.", s.p.Status, senders.SlackEscape(stopReason(err)), s.in.IncidentID))
		}
	}
	res.Milestones = s.p.Milestones

	// An update accepted as the plan ends (facts set while the last draft
	// is approved) finishes and answers before the run completes, rather
	// than being cut off with its caller waiting.
	if err == nil && workflow.GetVersion(ctx, changeHandlersFinish, workflow.DefaultVersion, 1) >= 1 {
		if werr := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); werr != nil {
			return res, werr
		}
	}
	if recording {
		// The record is final before the run ends: after it, the store is
		// all that remains once the namespace lets the history go.
		s.finalRecord(ctx, &err)
	}
	return res, err
}

// stopReason is why a run stopped, in the words of the step that failed
// (an activity's own message, not the SDK's wrapping of it).
func stopReason(err error) string {
	var app *temporal.ApplicationError
	if errors.As(err, &app) {
		step, _, _ := strings.Cut(err.Error(), ":")
		return step + ": " + app.Message()
	}
	return err.Error()
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
	s.p.Timeline = append(s.p.Timeline, Event{At: workflow.Now(ctx), Stage: s.p.Status, Text: clip(text, maxEventBytes)})
	if len(s.p.Timeline) > maxTimeline {
		s.p.Timeline = slices.Delete(s.p.Timeline, keepFirst, keepFirst+1)
		s.p.TimelineOmitted++
	}
	s.changes++
}

// recordSpacing is the least time between two records while the plan
// runs: each write carries the whole record and the history keeps every
// one, so a burst of changes (a dozen approvals) is written once. Readers
// of a live incident ask the workflow; the store must be right when it
// ends, and finalRecord writes at once.
const recordSpacing = 10 * time.Second

// recorder writes the record to the store whenever the plan has changed,
// one write at a time: changes made meanwhile are written together by the
// next.
func (s *plan) recorder(ctx workflow.Context) {
	for {
		if err := workflow.Await(ctx, func() bool { return s.changes > s.recorded }); err != nil {
			return
		}
		if err := s.record(ctx); err != nil {
			return // cancelled; finalRecord writes what is left
		}
		if !s.closing {
			if _, err := workflow.AwaitWithTimeout(ctx, recordSpacing, func() bool { return s.closing }); err != nil {
				return
			}
		}
	}
}

// record writes the plan as it now stands (the activity retries until the
// store takes it).
func (s *plan) record(ctx workflow.Context) error {
	seq := s.changes
	// encoding/json's output is a pure function of the value (map keys
	// sorted); workflowcheck flags its reflection cache.
	data, err := json.Marshal(s.p) //workflowcheck:ignore
	if err != nil {
		return err
	}
	err = workflow.ExecuteActivity(activityOptions(ctx), a.RecordIncident, activities.RecordInput{IncidentID: s.in.IncidentID, Seq: seq, Record: data, Summary: s.p.Summary()}).Get(ctx, nil)
	if err == nil && seq > s.recorded {
		s.recorded = seq
	}
	return err
}

// finalRecord writes the last record before the run ends, cancelled or not.
func (s *plan) finalRecord(ctx workflow.Context, runErr *error) {
	s.closing = true
	s.changes++
	if ctx.Err() != nil {
		// Cancelled: the recorder has stopped; write from a context the
		// cancellation does not reach.
		dctx, _ := workflow.NewDisconnectedContext(ctx)
		_ = s.record(dctx)
		return
	}
	// The recorder writes it (after any write under way).
	if err := workflow.Await(ctx, func() bool { return s.changes <= s.recorded }); err != nil && *runErr == nil {
		*runErr = err
	}
}

func (s *plan) stage(ctx workflow.Context, stage incident.Stage, text string) {
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
	s.buttons = workflow.GetVersion(ctx, changeWarRoomReview, workflow.DefaultVersion, 1) >= 1
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
	tracking := workflow.GetVersion(ctx, changeDeadlines, workflow.DefaultVersion, 1) >= 1
	if tracking {
		s.trackDeadlines(ctx, plan)
	} else {
		s.noWaves, s.noCorrections = true, true // they run in the wait for filings
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
	needed := func(d DraftState) bool { return d.Kind != activities.KindAnnouncement }
	if workflow.GetVersion(ctx, changeWaiverReleasesNotice, workflow.DefaultVersion, 1) >= 1 {
		// The report of a duty legal waived will never be filed: notice
		// does not wait for legal to approve it.
		needed = func(d DraftState) bool { return d.Kind != activities.KindAnnouncement && !s.reportWaived(d.Name) }
	}
	if err := s.awaitApproval(ctx, draftIn, needed); err != nil {
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
	if workflow.GetVersion(ctx, changeWithholdWaived, workflow.DefaultVersion, 1) >= 1 {
		if err := s.withholdWaived(ctx); err != nil {
			return IncidentResult{}, err
		}
	}
	notices := s.noticeRevisions()
	// Incidents started before campaigns were partitioned keep their loop.
	if workflow.GetVersion(ctx, changeFanout, workflow.DefaultVersion, 1) >= 1 {
		if err := s.campaign(ctx, plan, notices, 1); err != nil {
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
	withheld := ""
	if reach.Reach.Withheld > 0 {
		withheld = fmt.Sprintf(", %d withheld (duty waived)", reach.Reach.Withheld)
	}
	s.event(ctx, fmt.Sprintf("%d people reached individually, %d not reachable%s", reach.Reach.Reached, reach.Reach.Unreached, withheld))
	s.post(ctx, fmt.Sprintf("Individual notice done: %d reached, %d not reachable%s.", reach.Reach.Reached, reach.Reach.Unreached, withheld))

	announced, err := s.announce(ctx, draftIn, reach.Reach)
	if err != nil {
		return IncidentResult{}, err
	}

	if tracking {
		again := func(r plandata.Reach) (bool, error) { return s.announce(ctx, draftIn, r) }
		follow := func(w *WaveState, r activities.ReachResult, announced bool) (activities.ReachResult, bool, error) {
			return s.followUp(ctx, w, &draftIn, r, announced)
		}
		correct := func(c *CorrectionState) error { return s.correct(ctx, c, draftIn) }
		if reach, announced, err = s.awaitFilings(ctx, reach, announced, plan.ReturnsWindow, again, follow, correct); err != nil {
			return IncidentResult{}, err
		}
	}

	s.milestone(ctx, "closed")
	s.stage(ctx, StageClosed, fmt.Sprintf("closed: %d reached (%s), %d by public announcement", reach.Reach.Reached, channelSummary(reach.Reach.ByChannel), reach.Reach.Unreached))
	s.post(ctx, fmt.Sprintf(":white_check_mark: %s closed. %d reached individually, %d covered by the public announcement.", id, reach.Reach.Reached, reach.Reach.Unreached))
	return IncidentResult{Reached: reach.Reach.Reached, Unreached: reach.Reach.Unreached, ByChannel: reach.Reach.ByChannel, Announced: announced, Late: s.late}, nil
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
				d.Missing, d.SMSTooLong, d.Untranslated, d.Zones, d.LanguageNote = got.Missing, got.SMSTooLong, got.Untranslated, got.Zones, got.LanguageNote
				continue
			}
			pendRevision(d, got)
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

// reportWaived says whether a draft is the report of a duty legal waived.
func (s *plan) reportWaived(draft string) bool {
	for _, o := range s.p.Obligations {
		if activities.ReportDraftName(o.Name) == draft {
			f := s.p.Filings[o.Name]
			return f != nil && f.Status == FilingWaived
		}
	}
	return false
}

// noticeRevisions maps each notice to its current revision: what a
// campaign sends (it starts only once they are approved).
func (s *plan) noticeRevisions() map[string]int {
	notices := map[string]int{}
	for _, d := range s.p.Drafts {
		if d.Kind == activities.KindNotice {
			notices[d.Name] = d.Revision
		}
	}
	return notices
}

func (s *plan) draft(name string) *DraftState {
	for i := range s.p.Drafts {
		if s.p.Drafts[i].Name == name {
			return &s.p.Drafts[i]
		}
	}
	return nil
}
