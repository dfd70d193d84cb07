package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	sdkclient "go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/store/storetest"
	"github.com/tocsin/tocsin/workflows"
)

// Someone with write access to the namespace, and neither the codec key nor
// the actor key, starts IncidentWorkflow in plain JSON: over a real
// incident awaiting approval (terminating its run), as an unattended drill
// on whatever systems they name; under an ID Tocsin never opened; and again
// with the real run's own charter, as a restart of it would. Every such run
// is refused at its first step: nothing is sent, nothing approved, the war
// room is told, and the incident's record lists what was refused.
func TestARunStartedOutsideTocsinIsRefused(t *testing.T) {
	ctx := context.Background()
	d := startDev(t, t.TempDir(), storetest.DSN(t, "sqlite"))
	defer d.Stop()
	responder := as(d, "TOCSIN_TOKEN_RESPONDER")
	require.NoError(t, responder.ImportInventory(ctx, filepath.Join(scenario, "systems.yaml"), filepath.Join(scenario, "subjects.csv"), 0, nil, nil))
	incYAML, err := os.ReadFile(filepath.Join(scenario, "incident.yaml"))
	require.NoError(t, err)
	id := openIncident(t, responder, string(incYAML))
	before := waitStatus(t, responder, id, api.StageAwaitApproval)

	// The intruder's client: no codec, so its input is plain JSON.
	intruder, err := sdkclient.Dial(sdkclient.Options{HostPort: d.TemporalAddr, Namespace: "default"})
	require.NoError(t, err)
	defer intruder.Close()
	opener, err := incident.Parse("incident.yaml", incYAML)
	require.NoError(t, err)
	spec, err := incident.Parse("incident.yaml", incYAML)
	require.NoError(t, err)
	spec.Drill = true
	spec.Systems = append(spec.Systems, "analytics")
	asDrill := workflows.IncidentInput{IncidentID: id, OpenedBy: "intruder@example.com", Spec: spec,
		Drill: &workflows.DrillMode{Attended: false, ApprovalDelay: time.Second, Identity: workflows.DrillIdentity}}
	start := func(wid string, in workflows.IncidentInput) sdkclient.WorkflowRun {
		run, err := intruder.ExecuteWorkflow(ctx, sdkclient.StartWorkflowOptions{ID: wid, TaskQueue: workflows.TaskQueue,
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING}, workflows.IncidentWorkflow, in)
		require.NoError(t, err)
		return run
	}
	refused := func(run sdkclient.WorkflowRun, why string) {
		t.Helper()
		err := run.Get(ctx, nil)
		var app *temporal.ApplicationError
		require.ErrorAs(t, err, &app)
		require.Equal(t, workflows.ErrTypeRunRefused, app.Type())
		// The failure's message is encrypted (the intruder holds no codec
		// key): the reason is read from Tocsin's record of the refusal.
		refusals, err := d.Store.RunRefusals(ctx, run.GetID())
		require.NoError(t, err)
		reasons := []string{}
		for _, r := range refusals {
			if r.RunID == run.GetRunID() {
				reasons = append(reasons, r.Reason)
			}
		}
		require.Len(t, reasons, 1, "run %s: %+v", run.GetRunID(), refusals)
		require.Contains(t, reasons[0], why)
	}
	genuineRun, err := d.Store.ChartedRun(ctx, id)
	require.NoError(t, err)
	require.NotEmpty(t, genuineRun, "the API's run claimed the incident")

	refused(start(id, asDrill), "the run does not carry the charter Tocsin issued")
	refused(start("INC-NEVEROPENED", asDrill), "the run's workflow ID INC-NEVEROPENED is not the incident it names ("+id+")")
	never := asDrill
	never.IncidentID = "INC-NEVEROPENED"
	refused(start("INC-NEVEROPENED", never), "Tocsin has no incident INC-NEVEROPENED")
	// With the real charter (a restart of the incident's own input): the
	// incident already ran, and the disagreeing input is refused too.
	charter, err := d.Store.IncidentCharter(ctx, id)
	require.NoError(t, err)
	withCharter := asDrill
	withCharter.Charter = charter
	refused(start(id, withCharter), "already ran as run "+genuineRun)
	same := workflows.IncidentInput{IncidentID: id, OpenedBy: before.OpenedBy, Charter: charter, Spec: opener}
	refused(start(id, same), "already ran as run "+genuineRun)

	// Nothing reached anyone, nothing was approved, nothing scoped again.
	sent, err := d.Outbox.List(ctx, id)
	require.NoError(t, err)
	for _, e := range sent {
		require.Equal(t, "slack", e.Channel, "nobody was sent anything: %+v", e)
	}
	v := waitStatus(t, responder, id, api.StageAwaitApproval)
	for _, dr := range v.Drafts {
		require.Equal(t, api.DraftPending, dr.Status, dr.Name)
	}
	require.Equal(t, before.Scope.Subjects, v.Scope.Subjects, "scope as opened, not as the intruder named it")
	require.Len(t, v.RefusedRuns, 3, "%+v", v.RefusedRuns)
	require.Contains(t, v.RefusedRuns[0].Reason, "does not carry the charter")
	eventually(t, 100*time.Millisecond, func(c *assert.CollectT) {
		sent, _ := d.Outbox.List(ctx, id)
		n := 0
		for _, e := range sent {
			if strings.Contains(e.Body, "was started outside Tocsin and refused") {
				n++
			}
		}
		assert.Equal(c, 3, n, "the war room is told of each refused run")
	})
	audit, err := d.Store.AuditLog(ctx, id)
	require.NoError(t, err)
	n := 0
	for _, e := range audit {
		if e.Action == "workflow run refused" && e.Outcome == store.AuditRefused {
			n++
		}
	}
	require.Equal(t, 3, n, "each refusal is in the incident's audit chain")
	require.NoError(t, store.VerifyAuditChain(audit))
}
