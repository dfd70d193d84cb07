package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/tocsin/tocsin/activities"
	"github.com/tocsin/tocsin/internal/plandata"
)

var (
	legalActor     = Actor{Identity: "legal@example.com", Role: "legal"}
	responderActor = Actor{Identity: "responder2@example.com", Role: "responder"}
)

// lettersPlan is an incident where everyone was reached, one person by
// letter alone, until the post office returns it (returned).
func lettersPlan(t *testing.T, returned *bool) *testsuite.TestWorkflowEnvironment {
	assess := activities.AssessResult{Ladder: [][]string{{"email"}, {"letter"}}, ReceiptTimeout: time.Minute, ReturnsWindow: 720 * time.Hour}
	return setup(t, 0, overrides{assess: &assess, reachOf: func() activities.ReachResult {
		if *returned {
			return activities.ReachResult{Reach: plandata.Reach{Reached: 2, Unreached: 1, ByChannel: map[string]int{"email": 2}}}
		}
		return activities.ReachResult{Reach: plandata.Reach{Reached: 3, ByChannel: map[string]int{"email": 2, "letter": 1}}}
	}})
}

// Letters went out and no announcement did: the incident stays open for
// returned mail. When a return leaves someone unreached, the plan drafts
// the public announcement, legal approves it, it is published, and the
// incident closes.
func TestAReturnedLetterDraftsTheAnnouncement(t *testing.T) {
	returned := false
	env := lettersPlan(t, &returned)
	var report *updateResult
	env.RegisterDelayedCallback(func() {
		update(env, UpdateApprove, ApproveInput{Actor: legalActor, Draft: "notice-en", Revision: 1})
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		p := progressOf(t, env)
		require.Equal(t, StageFiling, p.Status, "open for returned mail: %+v", p.Timeline)
		require.NotNil(t, p.Returns)
		require.Equal(t, 1, p.Returns.Letters)
		require.Empty(t, p.Returns.Ended)
		require.Nil(t, p.Announcement)
		returned = true
		report = update(env, UpdateReturned, ReturnedInput{Actor: responderActor, Unreached: 1})
	}, 10*24*time.Hour)
	env.RegisterDelayedCallback(func() {
		p := progressOf(t, env)
		require.Equal(t, StageAnnouncing, p.Status, "%+v", p.Timeline)
		require.True(t, p.Announcement.Required)
		require.Equal(t, "announcement", p.Returns.Ended)
		update(env, UpdateApprove, ApproveInput{Actor: legalActor, Draft: "announcement", Revision: 1})
	}, 10*24*time.Hour+time.Hour)
	env.ExecuteWorkflow(IncidentWorkflowName, input())
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var res IncidentResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.True(t, res.Announced, "the returned letter's person is covered by the announcement")
	require.Equal(t, 1, res.Unreached)
	require.NoError(t, report.rejected)
	require.Equal(t, "a public announcement is being drafted for legal, as substitute notice", report.result)
}

// Nobody's letter comes back: the incident closes when the window ends,
// without an announcement; legal may end the wait early, a responder not.
func TestTheWaitForReturnedMailEndsWithItsWindowOrLegal(t *testing.T) {
	for _, settle := range []bool{false, true} {
		returned := false
		env := lettersPlan(t, &returned)
		var byResponder, byLegal *updateResult
		env.RegisterDelayedCallback(func() {
			update(env, UpdateApprove, ApproveInput{Actor: legalActor, Draft: "notice-en", Revision: 1})
		}, time.Minute)
		if settle {
			env.RegisterDelayedCallback(func() {
				byResponder = update(env, UpdateReturned, ReturnedInput{Actor: responderActor, Settled: true})
				byLegal = update(env, UpdateReturned, ReturnedInput{Actor: legalActor, Settled: true})
			}, 48*time.Hour)
		}
		start := env.Now()
		env.ExecuteWorkflow(IncidentWorkflowName, input())
		require.True(t, env.IsWorkflowCompleted())
		require.NoError(t, env.GetWorkflowError())
		var res IncidentResult
		require.NoError(t, env.GetWorkflowResult(&res))
		require.False(t, res.Announced)
		p := progressOf(t, env)
		took := p.Milestones["closed"].Sub(start)
		if settle {
			require.ErrorContains(t, byResponder.rejected, "legal or an admin decide")
			require.NoError(t, byLegal.rejected)
			require.Equal(t, "settled", p.Returns.Ended)
			require.Equal(t, legalActor.Identity, p.Returns.SettledBy)
			require.Less(t, took, 49*time.Hour)
		} else {
			require.Equal(t, "window", p.Returns.Ended)
			require.GreaterOrEqual(t, took, 720*time.Hour)
		}
	}
}

// A drill's letters went to a sink: nothing can come back, so it does not wait.
func TestADrillDoesNotWaitForReturnedMail(t *testing.T) {
	returned := false
	env := lettersPlan(t, &returned)
	in := input()
	in.Spec.Drill = true
	in.Drill = &DrillMode{ApprovalDelay: time.Minute, Identity: DrillIdentity}
	start := env.Now()
	env.ExecuteWorkflow(IncidentWorkflowName, in)
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	p := progressOf(t, env)
	require.Nil(t, p.Returns)
	require.Less(t, p.Milestones["closed"].Sub(start), time.Hour)
}
