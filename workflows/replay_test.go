package workflows

import (
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/worker"

	"github.com/tocsin/tocsin/internal/codec"
)

// TestReplayBasicScenarioHistory replays recorded runs of the basic scenario
// (written by the end-to-end test with TOCSIN_RECORD_HISTORY set), so a change
// that breaks running incidents' determinism fails here. Replays go through
// the payload codec workers use, with testdata/codec.keys (test keys the
// recordings were encrypted with): plaintext histories from before
// encryption pass through it unchanged.
// incident_basic.json predates the partitioned campaign (it replays the
// loop kept for such incidents); incident_fanout.json and its partition's
// incident_fanout_notify.json were recorded after; incident_review.json after
// the war room's review buttons and the end of reminders for overdue duties;
// incident_bounces.json and its partition's incident_bounces_notify.json
// after bounces were awaited (await-bounces) and over-long SMS refused;
// incident_encrypted.json and incident_encrypted_notify.json with payloads
// encrypted, under a key rotated in the middle of the run, and the wait
// for update handlers before the incident completes (versions.go), and
// one where legal waived a duty (incident_waive.json), and one where legal
// waived the duty to tell Hong Kong's residents before notice, so the
// campaign withheld it from them (incident_withhold.json); and one whose
// run claimed its charter from the store and took only fresh, signed
// updates naming the revisions read, with notice free of waived duties'
// reports (incident_charter.json, incident_charter_notify.json); and one
// whose letters alone reached everyone, kept open for returned mail until
// a return drafted the public announcement (incident_returns.json); and
// one held for law enforcement past its duty's due time and lifted early,
// the due time moving with it (incident_delay.json); and one to which
// legal added a follow-up wave while it waited for filings, the wave's new
// duties drafted, approved and its people told (incident_wave.json); and
// one whose English notice legal corrected after it went out, the new
// revision sent to those who got the old one (incident_correction.json);
// and one whose campaign took the wider default batch window
// (incident_window.json); and one whose Koreans, due first, were sent
// their first rung before the Britons (incident_due_first.json); and a
// partition whose batches went on past calls that hang and whose rungs
// were settled before they resolved (incident_settle_notify.json); and a
// partition whose texts went to those its first rung could no longer reach
// while that rung settled (incident_go_ahead_notify.json); and one whose
// partition told the campaign it had sent its first rung, giving its place
// to the next (incident_first_rung_slot.json and its _notify.json); and a
// partition that settled its texts sent ahead beside its first rung
// (incident_settle_ahead_notify.json); and one whose running campaign was
// watched for its measured pace, the watch ended with it
// (incident_pace_watch.json).
func TestReplayBasicScenarioHistory(t *testing.T) {
	keys, err := codec.LoadKeyFile("testdata/codec.keys")
	require.NoError(t, err)
	dc, fc := codec.Converters(keys)
	replayer := func() worker.WorkflowReplayer {
		r, err := worker.NewWorkflowReplayerWithOptions(worker.WorkflowReplayerOptions{DataConverter: dc, FailureConverter: fc})
		require.NoError(t, err)
		return r
	}
	for _, file := range []string{"incident_basic.json", "incident_fanout.json", "incident_review.json", "incident_bounces.json", "incident_encrypted.json", "incident_waive.json", "incident_withhold.json", "incident_charter.json", "incident_returns.json", "incident_delay.json", "incident_wave.json", "incident_correction.json", "incident_window.json", "incident_due_first.json", "incident_first_rung_slot.json", "incident_pace_watch.json"} {
		r := replayer()
		r.RegisterWorkflow(IncidentWorkflow)
		r.RegisterWorkflow(NotifyWorkflow)
		require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(nil, "testdata/"+file), file)
	}
	for _, file := range []string{"incident_fanout_notify.json", "incident_bounces_notify.json", "incident_encrypted_notify.json", "incident_waive_notify.json", "incident_charter_notify.json", "incident_settle_notify.json", "incident_go_ahead_notify.json", "incident_first_rung_slot_notify.json", "incident_settle_ahead_notify.json"} {
		r := replayer()
		r.RegisterWorkflow(NotifyWorkflow)
		require.NoError(t, r.ReplayWorkflowHistoryFromJSONFile(nil, "testdata/"+file), file)
	}
}
