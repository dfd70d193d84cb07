package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/store/storetest"
)

// A reply to a text is matched to the person whose notice went to that
// number (the phone index is made on the first reply); a number we only
// have on file, but never texted, matches nobody; STOP is counted against
// the incident until START.
func TestARepliedTextFindsWhoItWasSentTo(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		importPeople(t, s, people)
		inc := openIncident(t, s, "INC-R", "")
		_, err := s.Scope(ctx, store.ScopeInput{IncidentID: inc.ID, Snapshot: inc.Snapshot, Systems: []string{"crm", "media"}, Year: 2026})
		require.NoError(t, err)
		_, err = s.TextedAt(ctx, "+8613800000002")
		require.ErrorIs(t, err, store.ErrNotFound, "Bo's number is on file, but nothing was texted to it yet")

		d := store.Delivery{IncidentID: inc.ID, SubjectID: "u2", Channel: "sms"}
		began, _, err := s.BeginDelivery(ctx, d)
		require.NoError(t, err)
		require.True(t, began)
		d.Status, d.ProviderRef = store.StatusSent, "SM1"
		require.NoError(t, s.FinishDelivery(ctx, d))

		who, err := s.TextedAt(ctx, "+8613800000002")
		require.NoError(t, err)
		require.Equal(t, store.TextedPerson{IncidentID: inc.ID, SubjectID: "u2", Locale: "zh-CN"}, who)
		_, err = s.TextedAt(ctx, "+6591234567")
		require.ErrorIs(t, err, store.ErrNotFound, "Ann was never texted")

		require.NoError(t, s.OptOut(ctx, "+8613800000002", who, "STOP", time.Now()))
		require.NoError(t, s.OptOut(ctx, "+8613800000002", who, "STOPALL", time.Now()))
		n, err := s.OptedOut(ctx, inc.ID)
		require.NoError(t, err)
		require.Equal(t, 1, n, "one number, however often it says STOP")
		require.NoError(t, s.OptIn(ctx, "+8613800000002"))
		n, err = s.OptedOut(ctx, inc.ID)
		require.NoError(t, err)
		require.Zero(t, n)
	})
}

// A batch's own categories are read however large the batch is: past
// every backend's limit on a statement's parameters (SQLite's 32,766).
func TestCategoriesOfALargeBatchAreRead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		importPeople(t, s, people)
		inc := openIncident(t, s, "INC-C", "")
		_, err := s.Scope(ctx, store.ScopeInput{IncidentID: inc.ID, Snapshot: inc.Snapshot, Systems: []string{"crm", "media"}, Year: 2026})
		require.NoError(t, err)
		ids := []string{"u1", "u2"}
		for i := range 40_000 {
			ids = append(ids, fmt.Sprint("nobody-", i))
		}
		got, err := s.CategoriesOf(ctx, inc.ID, ids)
		require.NoError(t, err)
		require.Len(t, got, 2)
		require.Contains(t, got["u1"], "contact.email")
		require.Contains(t, got["u2"], "biometric.face")
	})
}
