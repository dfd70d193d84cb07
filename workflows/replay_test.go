package workflows

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
)

// TestReplayBasicScenarioHistory replays a recorded run of the basic scenario
// (written by the end-to-end test with TOCSIN_RECORD_HISTORY set), so a change
// that breaks running incidents' determinism fails here.
// incident_basic.json predates the partitioned campaign (it replays the
// loop kept for such incidents); incident_fanout.json and its partition's
// incident_fanout_notify.json were recorded after; incident_review.json after
// the war room's review buttons and the end of reminders for overdue duties;
// incident_bounces.json and its partition's incident_bounces_notify.json
// after bounces were awaited (await-bounces) and over-long SMS refused.
func TestReplayBasicScenarioHistory(t *testing.T) {
	for _, file := range []string{"incident_basic.json", "incident_fanout.json", "incident_review.json", "incident_bounces.json"} {
		r := worker.NewWorkflowReplayer()
		r.RegisterWorkflow(IncidentWorkflow)
		r.RegisterWorkflow(NotifyWorkflow)
		require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(nil, "testdata/"+file), file)
	}
	for _, file := range []string{"incident_fanout_notify.json", "incident_bounces_notify.json"} {
		r := worker.NewWorkflowReplayer()
		r.RegisterWorkflow(NotifyWorkflow)
		require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(nil, "testdata/"+file), file)
	}
}
