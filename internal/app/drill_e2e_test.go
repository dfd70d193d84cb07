package app

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdkclient "go.temporal.io/sdk/client"

	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/client"
	"github.com/tocsin/tocsin/internal/devtools/devpeers"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/store/storetest"
	"github.com/tocsin/tocsin/playbooks"
	"github.com/tocsin/tocsin/workflows"
)

// A drill runs the whole plan on the embedded server: a synthetic inventory
// beside the real one, every draft approved and every duty filed by the drill
// identity, every message kept by the drill sinks and none by the local peers
// (which stand for the real providers), and a report of each milestone
// against the playbook's targets. A Temporal Schedule starts the same drill.
func TestDrillEndToEnd(t *testing.T) {
	ctx := context.Background()
	d := startDev(t, t.TempDir(), storetest.DSN(t, "sqlite"))
	defer d.Stop()
	responder, viewer := as(d, "TOCSIN_TOKEN_RESPONDER"), as(d, "TOCSIN_TOKEN_VIEWER")

	// The real inventory stays current whatever the drill loads.
	require.NoError(t, responder.ImportInventory(ctx, filepath.Join(scenario, "systems.yaml"), filepath.Join(scenario, "subjects.csv"), 0, nil, nil))
	before, err := d.Store.CurrentSnapshot(ctx)
	require.NoError(t, err)

	err = viewer.Do(ctx, "POST", "/api/v1/drills", api.DrillRequest{}, nil)
	var apiErr *client.APIError
	require.True(t, errors.As(err, &apiErr) && apiErr.Status == http.StatusForbidden, "a viewer cannot start a drill: %v", err)
	err = responder.Do(ctx, "POST", "/api/v1/drills", api.DrillRequest{Playbook: "nope"}, nil)
	require.True(t, errors.As(err, &apiErr) && apiErr.Status == http.StatusUnprocessableEntity, "unknown playbook: %v", err)

	var started map[string]string
	require.NoError(t, responder.Do(ctx, "POST", "/api/v1/drills", api.DrillRequest{ApprovalDelay: "1s", Subjects: 120}, &started))
	drill := waitDrill(t, responder, started["id"])
	require.Equal(t, store.DrillPassed, drill.Status, "%+v", drill.Report)
	require.Equal(t, "responder@example.com", drill.RequestedBy)
	var names []string
	for _, m := range drill.Report.Milestones {
		names = append(names, m.Name)
		require.True(t, m.Reached, m.Name)
		require.Positive(t, m.Target, "%s has a target in the default playbook", m.Name)
		require.LessOrEqual(t, m.Took, m.Target, m.Name)
		require.True(t, m.Passed, m.Name)
	}
	require.Equal(t, playbooks.Milestones, names)

	// The incident closed with every draft approved by the drill identity.
	var v api.View
	require.NoError(t, responder.Do(ctx, "GET", "/api/v1/incidents/"+drill.IncidentID, nil, &v))
	require.Equal(t, api.StageClosed, v.Status)
	require.True(t, v.Drill)
	require.Equal(t, 120, v.Scope.Subjects)
	for _, dr := range v.Drafts {
		require.Equal(t, workflows.DrillIdentity, dr.ApprovedBy, dr.Name)
	}
	require.True(t, v.Announcement.Published, "the synthetic inventory has people nobody can reach")

	// Every rung and the announcement went to the drill sinks; the peers,
	// which stand for the real providers, received nothing.
	for _, ch := range []string{"onsite", "email", "sms", "slack", "announcement"} {
		require.Positive(t, drill.Messages[ch], "drill sink for %s", ch)
	}
	var outbox []devpeers.Entry
	require.NoError(t, responder.Do(ctx, "GET", "/api/v1/outbox?incident="+drill.IncidentID, nil, &outbox))
	require.Empty(t, outbox, "a drill reached a provider")
	resp, err := http.Get(d.URL + "/announcements/" + drill.IncidentID)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusNotFound, resp.StatusCode, "a drill's announcement is never public")

	after, err := d.Store.CurrentSnapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, before, after, "the drill's synthetic inventory must not become current")

	// drill list keeps it.
	var list []store.Drill
	require.NoError(t, viewer.Do(ctx, "GET", "/api/v1/drills", nil, &list))
	require.Len(t, list, 1)
	require.Equal(t, started["id"], list[0].ID)

	// A schedule is a Temporal Schedule that starts the same drill.
	err = responder.Do(ctx, "POST", "/api/v1/drill-schedules", api.DrillRequest{Name: "nightly"}, nil)
	require.True(t, errors.As(err, &apiErr) && apiErr.Status == http.StatusBadRequest, "no cron: %v", err)
	var sched api.DrillSchedule
	require.NoError(t, responder.Do(ctx, "POST", "/api/v1/drill-schedules", api.DrillRequest{Name: "nightly", Cron: "0 3 * * *", ApprovalDelay: "1s", Subjects: 40}, &sched))
	err = responder.Do(ctx, "POST", "/api/v1/drill-schedules", api.DrillRequest{Name: "nightly", Cron: "0 4 * * *"}, nil)
	require.True(t, errors.As(err, &apiErr) && apiErr.Status == http.StatusConflict, "same name twice: %v", err)
	err = responder.Do(ctx, "POST", "/api/v1/drill-schedules", api.DrillRequest{Name: "broken", Cron: "every tuesday"}, nil)
	require.True(t, errors.As(err, &apiErr) && apiErr.Status == http.StatusBadRequest, "bad cron: %v", err)
	h := d.Temporal.ScheduleClient().GetHandle(ctx, sched.ID)
	desc, err := h.Describe(ctx)
	require.NoError(t, err)
	require.NotEmpty(t, desc.Info.NextActionTimes)
	next := desc.Info.NextActionTimes[0].UTC()
	require.Equal(t, 3, next.Hour(), "next run at 03:00 UTC, got %s", next)
	require.NoError(t, h.Trigger(ctx, sdkclient.ScheduleTriggerOptions{}))
	var ds []store.Drill
	defer func() {
		if t.Failed() {
			desc, _ := h.Describe(ctx)
			t.Logf("drills: %+v\nschedule: %+v", ds, desc)
		}
	}()
	require.Eventually(t, func() bool {
		ds = nil
		viewer.Do(ctx, "GET", "/api/v1/drills", nil, &ds)
		for _, x := range ds {
			if strings.HasPrefix(x.ID, "drill-nightly-") && x.Status == store.DrillPassed && x.RequestedBy == "responder@example.com" {
				return true
			}
		}
		return false
	}, 90*time.Second, 200*time.Millisecond, "the triggered schedule never produced a passed drill")
}

func waitDrill(t *testing.T, c *client.Client, id string) api.DrillView {
	t.Helper()
	var v api.DrillView
	require.Eventually(t, func() bool {
		v = api.DrillView{}
		return c.Do(context.Background(), "GET", "/api/v1/drills/"+id, nil, &v) == nil && v.Status != store.DrillRunning
	}, 90*time.Second, 100*time.Millisecond, "drill %s never finished", id)
	return v
}
