package workflows

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/activities"
	"github.com/tocsin/tocsin/playbooks"
)

// The largest input of every kind, many times over, goes through a whole
// incident, which closes; every record the store is handed stays far below
// Temporal's 2 MB limit (the timeline keeps its opening and newest events).
// One byte more than a limit is refused, naming the field and the limit.
func TestTheLargestInputsKeepTheRecordSmallAndTheIncidentCloses(t *testing.T) {
	detected := time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC)
	obligations := []playbooks.Obligation{
		{Name: "eu-authority", Jurisdiction: "EU", Audience: "regulator", AnchorAt: detected, DueAt: detected.Add(time.Hour)},
		{Name: "sg-pdpc", Jurisdiction: "SG", Audience: "regulator", AnchorAt: detected, DueAt: detected.Add(72 * time.Hour)},
	}
	largest := 0
	env := setup(t, 0, overrides{
		assess: &activities.AssessResult{Obligations: obligations, Ladder: [][]string{{"email"}}, ReceiptTimeout: time.Minute},
		record: func(_ context.Context, in activities.RecordInput) error {
			// As Temporal carries it: the activity's input in JSON.
			data, err := json.Marshal(in)
			largest = max(largest, len(data))
			return err
		},
	})
	env.SetStartTime(detected)
	note := strings.Repeat("é", MaxNoteBytes/2) // multi-byte text at the limit
	ref := strings.Repeat("R", MaxReferenceBytes)
	fact := strings.Repeat("f", MaxFactBytes)
	legal := Actor{Identity: "legal@example.com", Role: "legal"}
	responder := Actor{Identity: "r2@example.com", Role: "responder"}
	var refused []*updateResult
	var rounds int
	// Reject and revise the notice 60 times, each with the largest reason
	// and facts: hundreds of events, each as long as allowed.
	var cycle func()
	cycle = func() {
		rounds++
		update(env, UpdateReject, RejectInput{Actor: legal, Draft: "notice-en", Revision: progressOf(t, env).Drafts[0].Revision, Reason: note})
		update(env, UpdateRevise, ReviseInput{Actor: responder, Draft: "notice-en", Changes: map[string]string{"description": fact, "measures": fact}})
		update(env, UpdateFacts, FactsInput{Actor: responder, Set: map[string]string{"impact": fact, "advice": fact}})
		if rounds < 60 {
			env.RegisterDelayedCallback(cycle, time.Minute)
		} else {
			env.RegisterDelayedCallback(func() {
				d := progressOf(t, env).Drafts[0]
				refused = append(refused,
					update(env, UpdateApprove, ApproveInput{Actor: legal, Draft: d.Name, Revision: d.Revision, Comment: note + "x"}),
					update(env, UpdateWaive, WaiveInput{Actor: legal, Obligation: "sg-pdpc", Reason: note + "x"}),
					update(env, UpdateSubmit, SubmitInput{Actor: legal, Obligation: "eu-authority", Reference: ref + "x", LateReason: note}),
					update(env, UpdateFacts, FactsInput{Actor: responder, Set: map[string]string{"impact": fact + "x"}}),
				)
				update(env, UpdateApprove, ApproveInput{Actor: legal, Draft: d.Name, Revision: d.Revision, Comment: note})
				update(env, UpdateWaive, WaiveInput{Actor: legal, Obligation: "sg-pdpc", Reason: note})
				update(env, UpdateSubmit, SubmitInput{Actor: legal, Obligation: "eu-authority", Reference: ref, LateReason: note})
			}, time.Minute)
		}
	}
	env.RegisterDelayedCallback(cycle, time.Minute)
	env.ExecuteWorkflow(IncidentWorkflowName, input())
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	p := progressOf(t, env)
	require.Equal(t, StageClosed, p.Status)
	for i, want := range []string{"comment: 2049 bytes; at most 2048", "reason: 2049 bytes; at most 2048", "reference: 257 bytes; at most 256", "longer than a notice can carry"} {
		require.ErrorContains(t, refused[i].rejected, want)
	}
	require.LessOrEqual(t, len(p.Timeline), maxTimeline)
	require.Positive(t, p.TimelineOmitted, "the timeline's middle was dropped")
	require.Equal(t, "incident opened by responder@example.com", p.Timeline[0].Text, "the opening events are kept")
	require.Less(t, largest, 1<<20, "every record far below the 2 MB blob limit")
	t.Logf("largest record activity input: %d bytes", largest)
}
