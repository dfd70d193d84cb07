package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/pacing"
	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/store/storetest"
)

// A campaign's pace is measured over the last minutes it could send: not
// at all while paused, and from the resume (or the hour a hold lapsed)
// when that is within the window, so the pause's silence is not taken for
// a slow provider.
func TestThePaceIsMeasuredFromTheLastResume(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		window := func(id string, now time.Time) time.Duration {
			w, err := s.MeasureWindow(ctx, id, now)
			require.NoError(t, err)
			return w
		}
		require.Equal(t, pacing.MeasureWindow, window("INC-A", time.Now()), "never paused")

		_, _, err := s.PauseCampaign(ctx, "INC-A", store.Pause{By: "legal@example.com", Reason: "wording", At: time.Now()})
		require.NoError(t, err)
		require.Zero(t, window("INC-A", time.Now()), "paused")
		resumed := time.Now()
		_, err = s.ResumeCampaign(ctx, "INC-A")
		require.NoError(t, err)
		require.InDelta(t, 90, window("INC-A", resumed.Add(90*time.Second)).Seconds(), 2, "resumed 90 s ago")
		require.Equal(t, pacing.MeasureWindow, window("INC-A", resumed.Add(time.Hour)), "resumed an hour ago")

		// A hold law enforcement asked for lifts itself at its time.
		until := time.Now().Add(time.Hour).Truncate(time.Second)
		_, _, err = s.PauseCampaign(ctx, "INC-B", store.Pause{By: "legal@example.com", Reason: "police", At: time.Now(), Until: until, RequestedBy: "police"})
		require.NoError(t, err)
		require.Zero(t, window("INC-B", until.Add(-time.Second)), "held")
		require.Equal(t, 2*time.Minute, window("INC-B", until.Add(2*time.Minute)), "lapsed two minutes ago")
		require.Equal(t, pacing.MeasureWindow, window("INC-A", time.Now().Add(time.Hour)), "another incident's hold is not this one's")
	})
}
