package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/store/storetest"
)

// Revoking a person's API token also signs them out of the console: a
// browser still signed in must not outlive the access it came from.
func TestRevokingATokenEndsItsIdentitysSessions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		later := time.Now().Add(time.Hour)
		require.NoError(t, s.PutToken(ctx, "aaaa1111bbbb2222", store.Token{Identity: "Alice@Example.com", Role: "legal"}))
		require.NoError(t, s.PutToken(ctx, "cccc3333dddd4444", store.Token{Identity: "bob@example.com", Role: "responder", Expires: later}))
		require.NoError(t, s.PutToken(ctx, "sess-alice-1", store.Token{Identity: "alice@example.com", Role: "legal", Session: true, Expires: later}))
		require.NoError(t, s.PutToken(ctx, "sess-alice-2", store.Token{Identity: "alice@example.com", Role: "legal", Session: true, Expires: later}))
		require.NoError(t, s.PutToken(ctx, "sess-bob", store.Token{Identity: "bob@example.com", Role: "responder", Session: true, Expires: later}))

		toks, err := s.APITokens(ctx)
		require.NoError(t, err)
		require.Len(t, toks, 2, "sessions are not API tokens")
		require.Equal(t, "alice@example.com", toks[0].Identity, "identities are kept lower-case")
		require.Equal(t, "aaaa1111bbbb", toks[0].ID)
		require.True(t, toks[0].Expires.IsZero())
		require.WithinDuration(t, later, toks[1].Expires, time.Second)

		_, err = s.RevokeToken(ctx, "abc")
		require.ErrorIs(t, err, store.ErrNotFound, "too short to name a token")
		got, err := s.RevokeToken(ctx, "aaaa1111")
		require.NoError(t, err)
		require.Equal(t, "alice@example.com", got.Identity)
		for _, gone := range []string{"aaaa1111bbbb2222", "sess-alice-1", "sess-alice-2"} {
			_, err := s.LookupToken(ctx, gone)
			require.ErrorIs(t, err, store.ErrNotFound, gone)
		}
		for _, kept := range []string{"cccc3333dddd4444", "sess-bob"} {
			_, err := s.LookupToken(ctx, kept)
			require.NoError(t, err, kept)
		}
		_, err = s.RevokeToken(ctx, "aaaa1111")
		require.ErrorIs(t, err, store.ErrNotFound, "already revoked")
	})
}

func TestAnExpiredTokenIsUnknown(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		require.NoError(t, s.PutToken(ctx, "eeee5555ffff6666", store.Token{Identity: "c@example.com", Role: "viewer", Expires: time.Now().Add(-time.Minute)}))
		_, err := s.LookupToken(ctx, "eeee5555ffff6666")
		require.ErrorIs(t, err, store.ErrNotFound)
	})
}
