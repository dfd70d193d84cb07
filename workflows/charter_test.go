package workflows

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"

	"github.com/tocsin/tocsin/activities"
)

// A run the store does not recognise (no charter, a second run, input that
// disagrees) ends at its first step: no war room, no scope, no drafts, no
// record written over the real incident's, no autopilot.
func TestARefusedRunDoesNothing(t *testing.T) {
	env := setup(t, 0, overrides{charter: func(context.Context, activities.CharterInput) (activities.CharterResult, error) {
		return activities.CharterResult{Refused: "INC-1 already ran as run r1; a second run of an incident is not acted on"}, nil
	}})
	var ran []string
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, _ converter.EncodedValues) {
		ran = append(ran, info.ActivityType.Name)
	})
	in := input()
	in.Spec.Drill = true
	in.Drill = &DrillMode{Identity: DrillIdentity, ApprovalDelay: time.Second}
	env.ExecuteWorkflow(IncidentWorkflow, in)
	require.True(t, env.IsWorkflowCompleted())
	var app *temporal.ApplicationError
	require.ErrorAs(t, env.GetWorkflowError(), &app)
	require.Equal(t, ErrTypeRunRefused, app.Type())
	require.ErrorContains(t, env.GetWorkflowError(), "run refused: INC-1 already ran")
	require.Equal(t, []string{"ClaimCharter"}, ran, "the run did nothing but ask the store")
	require.Equal(t, StageOpen, progressOf(t, env).Status)
}

// The run acts on the incident as the store has it: an input that calls a
// real incident an unattended drill gets no autopilot when the store says
// otherwise, and the drill role may not approve it.
func TestTheStoresDrillModeWinsOverTheInput(t *testing.T) {
	env := setup(t, 0, overrides{charter: func(_ context.Context, in activities.CharterInput) (activities.CharterResult, error) {
		spec := in.Spec
		spec.Drill = false
		return activities.CharterResult{OpenedBy: "responder@example.com", Spec: spec}, nil
	}})
	in := input()
	in.OpenedBy = "legal@example.com" // what the starter claims
	in.Spec.Drill = true
	in.Drill = &DrillMode{Identity: DrillIdentity, ApprovalDelay: time.Second}
	var byDrill, byLegal *updateResult
	env.RegisterDelayedCallback(func() {
		byDrill = update(env, UpdateApprove, ApproveInput{Actor: Actor{Identity: DrillIdentity, Role: "drill"}, Draft: "notice-en"})
		byLegal = update(env, UpdateApprove, ApproveInput{Actor: Actor{Identity: "legal@example.com", Role: "legal"}, Draft: "notice-en"})
	}, time.Hour)
	env.RegisterDelayedCallback(func() { env.CancelWorkflow() }, 2*time.Hour)
	env.ExecuteWorkflow(IncidentWorkflow, in)
	require.ErrorContains(t, byDrill.rejected, "only legal")
	require.NoError(t, byLegal.rejected, "the opener is the store's, so legal@example.com may approve")
	p := progressOf(t, env)
	require.Equal(t, "responder@example.com", p.OpenedBy)
	for _, d := range p.Drafts {
		require.NotEqual(t, DrillIdentity, d.ApprovedBy, "no autopilot approved anything")
	}
}
