package store_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/store/storetest"
)

// The record keeps the newest state written: a retried write of an older
// one, arriving late, does not take the incident back.
func TestAnIncidentRecordKeepsItsNewestState(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		_, _, err := s.GetRecord(ctx, "INC-1")
		require.ErrorIs(t, err, store.ErrNotFound)
		require.NoError(t, s.SaveRecord(ctx, "INC-1", 1, []byte(`{"status":"open"}`)))
		require.NoError(t, s.SaveRecord(ctx, "INC-1", 3, []byte(`{"status":"closed"}`)))
		require.NoError(t, s.SaveRecord(ctx, "INC-1", 2, []byte(`{"status":"notifying"}`)))
		rec, seq, err := s.GetRecord(ctx, "INC-1")
		require.NoError(t, err)
		require.Equal(t, 3, seq)
		require.JSONEq(t, `{"status":"closed"}`, string(rec))
	})
}
