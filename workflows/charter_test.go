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
	env.ExecuteWorkflow(IncidentWorkflowName, in)
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
	env.ExecuteWorkflow(IncidentWorkflowName, in)
	require.ErrorContains(t, byDrill.rejected, "only legal")
	require.NoError(t, byLegal.rejected, "the opener is the store's, so legal@example.com may approve")
	p := progressOf(t, env)
	require.Equal(t, "responder@example.com", p.OpenedBy)
	for _, d := range p.Drafts {
		require.NotEqual(t, DrillIdentity, d.ApprovedBy, "no autopilot approved anything")
	}
}

// A signed update is taken once, while fresh, and only by the run it was
// signed for: a captured facts update sent again (to revert a correction),
// one held back past the window, and one signed for another run are all
// refused, and the corrected facts stand.
func TestASignedUpdateIsTakenOnceWhileFreshByItsRun(t *testing.T) {
	env := setup(t, 0)
	responder := Actor{Identity: "r2@example.com", Role: "responder"}
	var first, replayed, correction, stale, otherRun *updateResult
	var captured any
	env.RegisterDelayedCallback(func() {
		captured = signedAt(env.Now(), UpdateFacts, FactsInput{Actor: responder, Set: map[string]string{"cause": "a phished password"}})
		first = unsignedUpdate(env, UpdateFacts, captured)
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		correction = update(env, UpdateFacts, FactsInput{Actor: responder, Set: map[string]string{"cause": "a leaked access key"}})
		replayed = unsignedUpdate(env, UpdateFacts, captured)
	}, 2*time.Minute)
	env.RegisterDelayedCallback(func() {
		held := FactsInput{Actor: responder, Set: map[string]string{"cause": "a phished password"}}
		held.Actor.At = env.Now().Add(-SignedWindow - time.Minute)
		stale = update(env, UpdateFacts, held)
		elsewhere := FactsInput{Actor: responder, Set: map[string]string{"cause": "a phished password"}}
		elsewhere.Actor.At, elsewhere.Actor.Nonce = env.Now(), "another-run-1"
		SignUpdate(testActorKey, "default-test-workflow-id", "another-run", UpdateFacts, &elsewhere)
		otherRun = unsignedUpdate(env, UpdateFacts, elsewhere)
	}, 20*time.Minute)
	env.RegisterDelayedCallback(func() { env.CancelWorkflow() }, time.Hour)
	env.ExecuteWorkflow(IncidentWorkflowName, input())
	require.NoError(t, first.rejected)
	require.NoError(t, correction.rejected)
	require.ErrorContains(t, replayed.rejected, "already taken once: refused as replayed")
	require.ErrorContains(t, stale.rejected, "more than 5m0s from now")
	require.ErrorContains(t, otherRun.rejected, "made for another run: refused as forged")
	require.Equal(t, "a leaked access key", progressOf(t, env).Facts.Cause, "the correction stands")
}
