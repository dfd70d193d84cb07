package activities

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/playbooks"
)

// A drill whose campaign would miss a duty at the configured rates fails,
// and its report says which and what rate meets it.
func TestADrillFailsWhenItsCampaignWouldBeLate(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(filepath.Join(t.TempDir(), "t.db"))
	require.NoError(t, err)
	t.Cleanup(func() { st.Close() })
	started := time.Now().Add(-time.Minute)
	require.NoError(t, st.SaveDrill(ctx, store.Drill{ID: "DR-1", Playbook: "default", RequestedBy: "responder@example.com", IncidentID: "DRILL-1", Status: "running", StartedAt: started}))
	a := &Activities{Store: st}
	milestones := map[string]time.Time{}
	for _, m := range playbooks.Milestones {
		milestones[m] = started.Add(time.Second)
	}
	late := "at 4 sms/s the people still waiting are told 18h 17m after kr-individuals (KR) is due at 2026-12-08 00:00 UTC; 5.02 sms/s meets it"
	on, err := a.FinishDrill(ctx, FinishInput{DrillID: "DR-1", Playbook: "default", IncidentID: "DRILL-1", StartedAt: started, Milestones: milestones})
	require.NoError(t, err)
	require.True(t, on.Passed, "every stage on time, and the campaign too")
	rep, err := a.FinishDrill(ctx, FinishInput{DrillID: "DR-1", Playbook: "default", IncidentID: "DRILL-1", StartedAt: started, Milestones: milestones, Late: []string{late}})
	require.NoError(t, err)
	require.False(t, rep.Passed)
	require.Contains(t, rep.Notes, "at the configured rates the campaign would be late: "+late)
	d, err := st.GetDrill(ctx, "DR-1")
	require.NoError(t, err)
	require.Equal(t, store.DrillFailed, d.Status)
}
