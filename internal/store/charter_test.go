package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/store/storetest"
)

// One run, the one that shows the charter the store issued, claims an
// incident; a retry of its claim answers the same; any other run is
// refused, and the refusal is kept with the incident once.
func TestOnlyOneRunClaimsAnIncidentsCharter(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		charter := store.NewCharter()
		require.NotEqual(t, charter, store.NewCharter())
		require.NoError(t, s.CreateIncident(ctx, store.Incident{ID: "INC-1", Title: "t", OpenedBy: "r@example.com", OpenedAt: time.Now(), Charter: charter}, nil))
		require.NoError(t, s.CreateIncident(ctx, store.Incident{ID: "INC-OLD", Title: "t", OpenedBy: "r@example.com", OpenedAt: time.Now()}, nil))
		agree := func(store.Charter) error { return nil }

		_, err := s.ClaimCharter(ctx, "INC-1", "guessed", "run-x", agree)
		require.ErrorIs(t, err, store.ErrCharterRefused)
		require.ErrorContains(t, err, "not started by Tocsin's API")
		_, err = s.ClaimCharter(ctx, "INC-1", charter, "run-1", func(store.Charter) error { return errTest })
		require.ErrorIs(t, err, store.ErrCharterRefused, "a run whose input disagrees claims nothing")

		c, err := s.ClaimCharter(ctx, "INC-1", charter, "run-1", agree)
		require.NoError(t, err)
		require.Equal(t, "r@example.com", c.OpenedBy)
		require.False(t, c.Drill)
		_, err = s.ClaimCharter(ctx, "INC-1", charter, "run-1", agree)
		require.NoError(t, err, "the same run claiming again (a retried activity)")
		_, err = s.ClaimCharter(ctx, "INC-1", charter, "run-2", agree)
		require.ErrorContains(t, err, "INC-1 already ran as run run-1")

		_, err = s.ClaimCharter(ctx, "INC-NONE", charter, "run-3", agree)
		require.ErrorContains(t, err, "Tocsin has no incident INC-NONE")
		_, err = s.ClaimCharter(ctx, "INC-OLD", "", "run-4", agree)
		require.ErrorContains(t, err, "opened before charters")

		first, err := s.RefuseRun(ctx, "INC-1", store.RunRefusal{RunID: "run-2", At: time.Now(), Reason: "a second run"})
		require.NoError(t, err)
		require.True(t, first)
		again, err := s.RefuseRun(ctx, "INC-1", store.RunRefusal{RunID: "run-2", At: time.Now(), Reason: "a second run"})
		require.NoError(t, err)
		require.False(t, again)
		refusals, err := s.RunRefusals(ctx, "INC-1")
		require.NoError(t, err)
		require.Len(t, refusals, 1)
		require.Equal(t, "a second run", refusals[0].Reason)
	})
}

var errTest = testError("the run's input disagrees")

type testError string

func (e testError) Error() string { return string(e) }
