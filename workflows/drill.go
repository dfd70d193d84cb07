package workflows

import (
	"github.com/tocsin/tocsin/internal/plandata"

	"fmt"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/workflow"

	"github.com/tocsin/tocsin/activities"
	"github.com/tocsin/tocsin/internal/roles"
)

// DrillIdentity approves and files in unattended drills. Its role, drill,
// may approve only drill incidents.
const DrillIdentity = "drill@tocsin"

// defaultApprovalDelay is how long the drill identity waits before it
// approves or files.
const defaultApprovalDelay = 30 * time.Second

// DrillRequest starts a drill: the whole plan on a synthetic breach.
type DrillRequest struct {
	// DrillID names the drill; empty uses the workflow ID (scheduled runs).
	DrillID     string
	Playbook    string
	RequestedBy string
	Attended    bool
	// ApprovalDelay is how long the drill identity waits before approving
	// or filing what is ready (unattended drills).
	ApprovalDelay time.Duration
	Subjects      int
	BatchSize     int
	ReceiptPoll   time.Duration
	// Campaign sizing passed to the drill's incident (0: the defaults).
	BatchWindow     int `json:",omitempty"`
	PartitionSize   int `json:",omitempty"`
	PartitionWindow int `json:",omitempty"`
}

// DrillWorkflow runs a drill: a synthetic inventory aside from the real one,
// the incident plan as a child workflow confined to drill sinks, and a
// report of each milestone against the playbook's targets.
func DrillWorkflow(ctx workflow.Context, in DrillRequest) (plandata.DrillReport, error) {
	if in.DrillID == "" {
		in.DrillID = workflow.GetInfo(ctx).WorkflowExecution.ID
	}
	if in.Playbook == "" {
		in.Playbook = "default"
	}
	if in.RequestedBy == "" {
		in.RequestedBy = "schedule"
	}
	if in.ApprovalDelay <= 0 {
		in.ApprovalDelay = defaultApprovalDelay
	}
	ctx = activityOptions(ctx)
	started := workflow.Now(ctx)
	var setup activities.DrillSetup
	if err := workflow.ExecuteActivity(ctx, a.PrepareDrill, activities.DrillInput{DrillID: in.DrillID, Playbook: in.Playbook, RequestedBy: in.RequestedBy,
		Attended: in.Attended, Subjects: in.Subjects, StartedAt: started}).Get(ctx, &setup); err != nil {
		return plandata.DrillReport{}, fmt.Errorf("prepare drill: %w", err)
	}
	cctx := workflow.WithChildOptions(ctx, workflow.ChildWorkflowOptions{WorkflowID: setup.IncidentID, TaskQueue: TaskQueue,
		ParentClosePolicy: enums.PARENT_CLOSE_POLICY_TERMINATE})
	var res IncidentResult
	err := workflow.ExecuteChildWorkflow(cctx, IncidentWorkflow, IncidentInput{IncidentID: setup.IncidentID, OpenedBy: in.RequestedBy, Spec: setup.Spec, Charter: setup.Charter,
		BatchSize: in.BatchSize, ReceiptPoll: in.ReceiptPoll, BatchWindow: in.BatchWindow, PartitionSize: in.PartitionSize, PartitionWindow: in.PartitionWindow,
		Drill: &DrillMode{Attended: in.Attended, ApprovalDelay: in.ApprovalDelay, Identity: DrillIdentity}}).Get(ctx, &res)
	finish := activities.FinishInput{DrillID: in.DrillID, Playbook: in.Playbook, IncidentID: setup.IncidentID, StartedAt: started, Milestones: res.Milestones, Late: res.Late}
	if err != nil {
		finish.Error = err.Error()
	}
	var report plandata.DrillReport
	if err := workflow.ExecuteActivity(ctx, a.FinishDrill, finish).Get(ctx, &report); err != nil {
		return report, fmt.Errorf("finish drill: %w", err)
	}
	return report, nil
}

// autopilot is the drill identity of an unattended drill: whenever a draft
// waits for approval or a duty can be filed, it waits the approval delay,
// then approves and files through the same checks people go through.
func (s *plan) autopilot(ctx workflow.Context) {
	actor := Actor{Identity: s.in.Drill.Identity, Role: roles.Drill}
	for {
		if err := workflow.Await(ctx, func() bool {
			return s.p.Status == StageClosed || len(s.approvable(actor)) > 0 || len(s.fileable(ctx, actor)) > 0
		}); err != nil || s.p.Status == StageClosed {
			return
		}
		if err := workflow.Sleep(ctx, s.in.Drill.ApprovalDelay); err != nil {
			return
		}
		for _, name := range s.approvable(actor) {
			s.approve(ctx, ApproveInput{Actor: actor, Draft: name, Comment: drillComment})
		}
		for _, in := range s.fileable(ctx, actor) {
			s.submit(ctx, in)
		}
	}
}

// drillComment is the drill identity's comment on what it approves: a
// drill reaches nobody, so an untranslated text may go.
const drillComment = "drill: approved by the drill identity"

func (s *plan) approvable(actor Actor) []string {
	var out []string
	for _, d := range s.p.Drafts {
		if d.Status == DraftPending && s.checkApprove(ApproveInput{Actor: actor, Draft: d.Name, Comment: drillComment}) == nil {
			out = append(out, d.Name)
		}
	}
	return out
}

func (s *plan) fileable(ctx workflow.Context, actor Actor) []SubmitInput {
	var out []SubmitInput
	for _, o := range s.p.Obligations {
		f := s.p.Filings[o.Name]
		if o.Audience == "individuals" || o.Voluntary || f == nil || f.Met() {
			continue
		}
		in := SubmitInput{Actor: actor, Obligation: o.Name, Reference: "DRILL-" + o.Name}
		if !o.DueAt.IsZero() && workflow.Now(ctx).After(o.DueAt) {
			in.LateReason = "drill: filed by the drill identity"
		}
		if s.checkSubmit(ctx, in) == nil {
			out = append(out, in)
		}
	}
	return out
}
