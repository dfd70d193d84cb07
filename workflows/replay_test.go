package workflows

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"
)

// TestReplayBasicScenarioHistory replays a recorded run of the basic scenario
// (written by the end-to-end test with TOCSIN_RECORD_HISTORY set), so a change
// that breaks running incidents' determinism fails here.
func TestReplayBasicScenarioHistory(t *testing.T) {
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflow(IncidentWorkflow)
	require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(nil, "testdata/incident_basic.json"))
}
