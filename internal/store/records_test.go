package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/incident"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/store/storetest"
)

// The record keeps the newest state written: a retried write of an older
// one, arriving late, does not take the incident back, nor its list line.
func TestAnIncidentRecordKeepsItsNewestState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		require.NoError(t, s.CreateIncident(ctx, store.Incident{ID: "INC-1", Title: "t", OpenedBy: "r@example.com", OpenedAt: time.Now()}, nil))
		_, err := s.GetRecord(ctx, "INC-1")
		require.ErrorIs(t, err, store.ErrNotFound)
		require.NoError(t, s.SaveRecord(ctx, "INC-1", 1, []byte(`{"status":"open"}`), store.RecordSummary{Status: "open"}))
		require.NoError(t, s.SaveRecord(ctx, "INC-1", 3, []byte(`{"status":"closed"}`), store.RecordSummary{Status: "closed", Jurisdictions: []string{"EU"}, Subjects: 5, Reached: 4}))
		require.NoError(t, s.SaveRecord(ctx, "INC-1", 2, []byte(`{"status":"notifying"}`), store.RecordSummary{Status: "notifying"}))
		rec, err := s.GetRecord(ctx, "INC-1")
		require.NoError(t, err)
		require.Equal(t, 3, rec.Seq)
		require.JSONEq(t, `{"status":"closed"}`, string(rec.Record))
		require.WithinDuration(t, time.Now(), rec.WrittenAt, time.Minute, "when the kept record was written")
		page, err := s.ListIncidents(ctx, store.IncidentQuery{})
		require.NoError(t, err)
		require.Len(t, page.Incidents, 1)
		got := page.Incidents[0]
		require.Equal(t, "closed", got.Status)
		require.Equal(t, []string{"EU"}, got.Jurisdictions)
		require.Equal(t, 5, got.Subjects)
		require.Equal(t, 4, got.Reached)
	})
}

// A list pages newest first through every incident exactly once, and each
// filter keeps only what it names; a restricted incident is listed only to
// its opener and the people it names.
func TestIncidentListsPageAndFilterInTheStore(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		base := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		for i := range 25 {
			inc := store.Incident{ID: fmt.Sprintf("INC-%02d", i), Title: "t", OpenedBy: "r@example.com", OpenedAt: base.Add(time.Duration(i) * 24 * time.Hour), Drill: i%5 == 0}
			if i == 7 {
				inc.Spec = incident.Spec{RestrictedTo: []string{"counsel@example.com"}}
			}
			// Two incidents opened in the same instant still page apart.
			if i == 11 {
				inc.OpenedAt = base.Add(10 * 24 * time.Hour)
			}
			require.NoError(t, s.CreateIncident(ctx, inc, nil))
			status, jur := "notifying", []string{"UK"}
			if i%2 == 0 {
				status, jur = "closed", []string{"EU", "US-CA"}
			}
			require.NoError(t, s.SaveRecord(ctx, inc.ID, 1, []byte(`{}`), store.RecordSummary{Status: status, Jurisdictions: jur}))
		}
		ids := func(q store.IncidentQuery) []string {
			var out []string
			for {
				page, err := s.ListIncidents(ctx, q)
				require.NoError(t, err)
				for _, in := range page.Incidents {
					out = append(out, in.ID)
				}
				if q.After = page.Next; q.After == "" {
					return out
				}
			}
		}
		every := ids(store.IncidentQuery{Limit: 4})
		require.Len(t, every, 25)
		require.Equal(t, "INC-24", every[0])
		require.Equal(t, []string{"INC-11", "INC-10"}, every[13:15], "same instant: by ID, both listed")
		require.Equal(t, "INC-00", every[24])

		closed := ids(store.IncidentQuery{Status: []string{"closed"}, Limit: 3})
		require.Len(t, closed, 13)
		no := false
		realOnes := ids(store.IncidentQuery{Drill: &no})
		require.Len(t, realOnes, 20)
		require.NotContains(t, realOnes, "INC-05")
		require.Len(t, ids(store.IncidentQuery{DrillsOnly: true}), 5)
		march := ids(store.IncidentQuery{OpenedFrom: base.Add(24 * time.Hour), OpenedTo: base.Add(4 * 24 * time.Hour)})
		require.Equal(t, []string{"INC-03", "INC-02", "INC-01"}, march)
		require.Len(t, ids(store.IncidentQuery{Jurisdiction: "US-CA"}), 13)
		require.Empty(t, ids(store.IncidentQuery{Jurisdiction: "US"}), "a code matches whole, not a prefix")

		require.NotContains(t, ids(store.IncidentQuery{Viewer: "someone@example.com"}), "INC-07")
		require.Contains(t, ids(store.IncidentQuery{Viewer: "Counsel@Example.com"}), "INC-07")
		require.Contains(t, ids(store.IncidentQuery{Viewer: "r@example.com"}), "INC-07", "its opener")
		require.NotContains(t, ids(store.IncidentQuery{Viewer: "counsel@example.co"}), "INC-07", "an identity matches whole")

		_, err := s.ListIncidents(ctx, store.IncidentQuery{After: "not-a-cursor"})
		require.ErrorIs(t, err, store.ErrBadCursor)
	})
}

// A data directory or database from before the list columns is migrated:
// its incidents list with the status, duties and restriction they had.
func TestIncidentsFromBeforeListColumnsAreBackfilled(t *testing.T) {
	for _, backend := range storetest.Backends(t) {
		t.Run(backend, func(t *testing.T) {
			ctx := context.Background()
			dsn := storetest.DSN(t, backend)
			s, err := store.Open(dsn)
			require.NoError(t, err)
			require.NoError(t, s.CreateIncident(ctx, store.Incident{ID: "INC-OLD", Title: "t", OpenedBy: "r@example.com", OpenedAt: time.Now(),
				Spec: incident.Spec{RestrictedTo: []string{"counsel@example.com"}}}, nil))
			require.NoError(t, s.SaveRecord(ctx, "INC-OLD", 1, []byte(`{"status":"filing","obligations":[{"jurisdiction":"EU"},{"jurisdiction":"UK"},{"jurisdiction":"EU"}],"scope":{"subjects":9},"reach":{"reached":8}}`), store.RecordSummary{}))
			s.Close()
			// What an older Tocsin left: the columns at their defaults.
			asEarlierTocsinLeftIt(t, backend, dsn, `UPDATE incidents SET status = '', jurisdictions = '', subjects = 0, reached = 0, viewers = '', summarised = 0`)

			s, err = store.Open(dsn)
			require.NoError(t, err)
			defer s.Close()
			page, err := s.ListIncidents(ctx, store.IncidentQuery{Viewer: "counsel@example.com"})
			require.NoError(t, err)
			require.Len(t, page.Incidents, 1)
			got := page.Incidents[0]
			require.Equal(t, "filing", got.Status)
			require.Equal(t, []string{"EU", "UK"}, got.Jurisdictions)
			require.Equal(t, 9, got.Subjects)
			require.Equal(t, 8, got.Reached)
			require.True(t, got.Restricted)
			page, err = s.ListIncidents(ctx, store.IncidentQuery{Viewer: "someone@example.com"})
			require.NoError(t, err)
			require.Empty(t, page.Incidents, "still restricted after the migration")
		})
	}
}
