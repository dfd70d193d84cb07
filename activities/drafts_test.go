package activities

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/store/storetest"
)

// English readers in Singapore, New York and Iceland share one notice,
// which legal reads with its times in UTC; each of them gets those times
// in their own zone.
func TestANoticeReadInSeveralZonesGivesEachReaderTheirOwnTime(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		c := newCampaignOf(t, s, "subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems\n"+
			"sg,Ann,ann@example.com,,,en,SG,1980,crm\n"+
			"ny,Bo,bo@example.com,,,en,US-NY,1990,crm\n"+
			"is,Cy,cy@example.com,,,en,IS,1990,crm\n", nil, 0)
		snap, err := s.CurrentSnapshot(ctx)
		require.NoError(t, err)
		scope, err := s.Scope(ctx, store.ScopeInput{IncidentID: "INC-N", Snapshot: snap, Systems: []string{"crm"}, Year: 2026})
		require.NoError(t, err)
		spec := incident.Spec{Title: "Breach", DetectedAt: time.Date(2026, 11, 20, 8, 0, 0, 0, time.UTC), Description: "A key leaked."}
		res, err := c.acts.RenderDrafts(ctx, DraftInput{IncidentID: "INC-N", Spec: spec, Scope: scope, DefaultLocale: "en", Author: "tocsin", Revision: 2})
		require.NoError(t, err)
		require.Len(t, res.Drafts, 1)
		require.Equal(t, []string{"America/New_York", "Asia/Singapore", "Atlantic/Reykjavik"}, res.Drafts[0].Zones, "legal is told where its readers live")
		d, err := s.GetDraft(ctx, "INC-N", "notice-en", 2)
		require.NoError(t, err)
		require.Contains(t, d.Body, "2026-11-20 08:00 UTC", "legal reads the draft in UTC")

		in := batch("email")
		in.Notices = map[string]int{"notice-en": 2}
		_, err = c.acts.SendBatch(ctx, in)
		require.NoError(t, err)
		entries, err := c.outbox.List(ctx, "INC-N")
		require.NoError(t, err)
		got := map[string]string{}
		for _, e := range entries {
			got[e.SubjectID] = e.Body
		}
		require.Contains(t, got["sg"], "2026-11-20 16:00 UTC+08:00")
		require.Contains(t, got["ny"], "2026-11-20 03:00 EST")
		require.Contains(t, got["is"], "2026-11-20 08:00 GMT")
		for id, body := range got {
			require.Contains(t, body, "A key leaked.", "%s reads the approved text", id)
		}
	})
}
