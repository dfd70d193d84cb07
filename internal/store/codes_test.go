package store_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/store/storetest"
)

// Each person keeps one code however often it is asked for; a code
// another person already holds is never given twice; a lookup finds the
// person and is counted against the incident, never saying who asked.
func TestNoticeCodesAreOnePerPersonAndNeverShared(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		// Everyone's first code clashes: the second person must get another.
		code := func(subject string, attempt int) string {
			if attempt == 0 {
				return "AAAAAAAAAA"
			}
			return fmt.Sprintf("%s%d", subject, attempt)
		}
		got, err := s.EnsureCodes(ctx, "INC-1", []string{"alice", "bob"}, code)
		require.NoError(t, err)
		require.Len(t, got, 2)
		require.NotEqual(t, got["alice"], got["bob"])
		require.True(t, (got["alice"] == "AAAAAAAAAA") != (got["bob"] == "AAAAAAAAAA"), "one of them keeps the first code: %v", got)

		again, err := s.EnsureCodes(ctx, "INC-1", []string{"bob", "alice", "carol"}, code)
		require.NoError(t, err)
		require.Equal(t, got["alice"], again["alice"], "a person's code does not change")
		require.Equal(t, got["bob"], again["bob"])
		require.Equal(t, "carol1", again["carol"])

		who, err := s.LookupCode(ctx, again["bob"])
		require.NoError(t, err)
		require.Equal(t, store.NoticeOf{IncidentID: "INC-1", SubjectID: "bob"}, who)
		_, err = s.LookupCode(ctx, "ZZZZZZZZZZ")
		require.ErrorIs(t, err, store.ErrNotFound)
		n, err := s.VerifyLookups(ctx, "INC-1")
		require.NoError(t, err)
		require.Equal(t, 1, n)
		n, err = s.VerifyLookups(ctx, "")
		require.NoError(t, err)
		require.Equal(t, 1, n, "codes that matched nobody are counted apart")
	})
}
