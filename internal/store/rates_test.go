package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/store"
	"github.com/tocsin/tocsin/internal/store/storetest"
)

// A rate set at run time replaces the configured one for a paced channel,
// and the last one set stands; an unpaced channel takes none.
func TestARateSetAtRunTimeReplacesTheConfiguredOne(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		ctx := context.Background()
		configured := map[string]float64{"sms": 20, "email": 50}
		now, err := s.RatesNow(ctx, configured)
		require.NoError(t, err)
		require.Equal(t, configured, now)
		at := time.Date(2026, 12, 5, 17, 0, 0, 0, time.UTC)
		require.NoError(t, s.SetChannelRate(ctx, store.ChannelRate{Channel: "sms", PerSecond: 40, SetBy: "admin@example.com", SetAt: at}))
		require.NoError(t, s.SetChannelRate(ctx, store.ChannelRate{Channel: "sms", PerSecond: 55.5, SetBy: "ops@example.com", SetAt: at.Add(time.Minute)}))
		require.NoError(t, s.SetChannelRate(ctx, store.ChannelRate{Channel: "voice", PerSecond: 3, SetBy: "ops@example.com", SetAt: at}))
		now, err = s.RatesNow(ctx, configured)
		require.NoError(t, err)
		require.Equal(t, map[string]float64{"sms": 55.5, "email": 50}, now)
		set, err := s.ChannelRates(ctx)
		require.NoError(t, err)
		require.Equal(t, store.ChannelRate{Channel: "sms", PerSecond: 55.5, SetBy: "ops@example.com", SetAt: at.Add(time.Minute)}, set["sms"])
	})
}
