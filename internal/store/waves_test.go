package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/store/storetest"
)

func TestAWaveAddsOnlyPeopleNotAlreadyAffected(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		importPeople(t, s, people)
		inc := openIncident(t, s, "INC-W", "")
		_, err := s.Scope(ctx, store.ScopeInput{IncidentID: inc.ID, Snapshot: inc.Snapshot, Systems: []string{"crm"}, Year: 2026})
		require.NoError(t, err) // u1 u3 u5 u6
		// u3's row was settled already (withheld): the wave must leave it.
		_, err = s.WithholdNotice(ctx, inc.ID, []string{"US-CA"})
		require.NoError(t, err)

		w, err := s.SaveWave(ctx, inc.ID, []string{"media"}, nil, "legal@example.com", time.Now())
		require.NoError(t, err)
		require.Equal(t, 2, w.Number, "the incident's own scope is wave 1")
		added, sum, err := s.ApplyWave(ctx, store.WaveInput{IncidentID: inc.ID, Wave: w.Number, Systems: []string{"crm", "media"}, Year: 2026})
		require.NoError(t, err)
		require.EqualValues(t, 2, added, "u2 and u4: media's people not already affected")
		require.Equal(t, 6, sum.Subjects)
		require.Equal(t, map[string]int{"SG": 1, "CN": 1, "US-CA": 1, "US-NY": 1, "DE": 1, "HK": 1}, sum.ByRegion())
		require.Equal(t, 1, sum.Minors, "u2, born 2012")
		require.Contains(t, sum.Categories, "biometric.face")

		u3, err := s.AffectedOne(ctx, inc.ID, "u3")
		require.NoError(t, err)
		require.True(t, u3.Withheld, "an already-affected person keeps their row")

		// Applied again (an activity retried), it adds nobody and says the same.
		again, sum2, err := s.ApplyWave(ctx, store.WaveInput{IncidentID: inc.ID, Wave: w.Number, Systems: []string{"crm", "media"}, Year: 2026})
		require.NoError(t, err)
		require.EqualValues(t, 2, again)
		require.Equal(t, sum, sum2)

		waves, err := s.Waves(ctx, inc.ID)
		require.NoError(t, err)
		require.Len(t, waves, 1)
		require.Equal(t, []string{"media"}, waves[0].Systems)
		require.EqualValues(t, 2, waves[0].Added)
	})
}

func TestANamedWaveAddsExactlyItsPeopleAndNamesBadLines(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		importPeople(t, s, people)
		inc := openIncident(t, s, "INC-N", "u1\n")
		_, err := s.Scope(ctx, store.ScopeInput{IncidentID: inc.ID, Snapshot: inc.Snapshot, Systems: []string{"crm", "media"}, NamedOnly: true, Year: 2026})
		require.NoError(t, err)

		_, err = s.SaveWave(ctx, inc.ID, nil, &store.NamedSubjects{File: "more.txt", Reader: strings.NewReader("u4\nu9\n")}, "legal@example.com", time.Now())
		var bad *store.ImportError
		require.ErrorAs(t, err, &bad)
		require.Contains(t, bad.Error(), "more.txt")
		require.Equal(t, 2, bad.Errors[0].Line, "the line of the ID the snapshot lacks")
		_, err = s.SaveWave(ctx, inc.ID, []string{"nosuch"}, nil, "legal@example.com", time.Now())
		require.ErrorIs(t, err, store.ErrBadScope)
		waves, err := s.Waves(ctx, inc.ID)
		require.NoError(t, err)
		require.Empty(t, waves, "a refused wave keeps nothing")

		w, err := s.SaveWave(ctx, inc.ID, nil, &store.NamedSubjects{File: "more.txt", Reader: strings.NewReader("u4\nu1\n")}, "legal@example.com", time.Now())
		require.NoError(t, err)
		require.EqualValues(t, 2, w.Named)
		added, sum, err := s.ApplyWave(ctx, store.WaveInput{IncidentID: inc.ID, Wave: w.Number, Systems: []string{"crm", "media"}, Year: 2026})
		require.NoError(t, err)
		require.EqualValues(t, 1, added, "u4 only: u1 was affected already")
		require.Equal(t, 2, sum.Subjects)
		require.Equal(t, 1, sum.NoContact, "u4 has no contact")

		// A refused wave is forgotten; an applied one is not.
		require.NoError(t, s.ForgetWave(ctx, inc.ID, w.Number))
		waves, err = s.Waves(ctx, inc.ID)
		require.NoError(t, err)
		require.Len(t, waves, 1)
	})
}
