package workflows

import (
	"github.com/tocsin/tocsin/internal/plandata"

	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/activities"
	"github.com/tocsin/tocsin/playbooks"
)

func TestDrillRoleCannotApproveARealIncident(t *testing.T) {
	env := setup(t, 0)
	var byDrill, factsByDrill *updateResult
	env.RegisterDelayedCallback(func() {
		byDrill = update(env, UpdateApprove, ApproveInput{Actor: Actor{Identity: DrillIdentity, Role: "drill"}, Draft: "notice-en"})
		factsByDrill = update(env, UpdateFacts, FactsInput{Actor: Actor{Identity: DrillIdentity, Role: "drill"}, Set: map[string]string{"cause": "x"}})
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		update(env, UpdateApprove, ApproveInput{Actor: Actor{Identity: "legal@example.com", Role: "legal"}, Draft: "notice-en"})
	}, 2*time.Minute)
	env.ExecuteWorkflow(IncidentWorkflowName, input())
	require.NoError(t, env.GetWorkflowError())
	require.ErrorContains(t, byDrill.rejected, "only legal")
	require.ErrorContains(t, factsByDrill.rejected, "only responders")
}

// The drill workflow prepares its synthetic breach, runs the plan as a child
// with the drill identity approving after the delay, and hands every
// milestone to the report.
func TestUnattendedDrillRunsThePlanAndReportsEveryMilestone(t *testing.T) {
	env := setup(t, 1)
	var a *activities.Activities
	spec := input().Spec
	spec.Drill = true
	env.OnActivity(a.PrepareDrill, mock.Anything, mock.Anything).Return(activities.DrillSetup{IncidentID: "DRILL-1", Spec: spec}, nil)
	var finished activities.FinishInput
	env.OnActivity(a.FinishDrill, mock.Anything, mock.Anything).Return(func(_ context.Context, in activities.FinishInput) (plandata.DrillReport, error) {
		finished = in
		return plandata.DrillReport{Passed: true}, nil
	})
	env.ExecuteWorkflow(DrillWorkflow, DrillRequest{DrillID: "DR-1", RequestedBy: "responder@example.com", ApprovalDelay: 10 * time.Minute})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	require.Equal(t, "DR-1", finished.DrillID)
	require.Empty(t, finished.Error)
	for _, m := range playbooks.Milestones {
		require.Contains(t, finished.Milestones, m)
	}
	// Notices, then the announcement: each approved only after the delay.
	took := finished.Milestones["approved"].Sub(finished.Milestones["drafted"])
	require.GreaterOrEqual(t, took, 10*time.Minute)
	require.GreaterOrEqual(t, finished.Milestones["closed"].Sub(finished.Milestones["notified"]), 10*time.Minute, "the announcement waited for the drill identity too")
}
