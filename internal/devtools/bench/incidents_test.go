package bench

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// One pilot's failure stops the others at once instead of leaving them to
// run until the benchmark's timeout, and is the error reported. (Pilots
// not started by then are never started.)
func TestEachStopsTheOthersAtTheFirstError(t *testing.T) {
	failed := errors.New("incident 3: approve refused")
	var ranOut atomic.Int32
	start := time.Now()
	err := each(context.Background(), 10, 10, func(ctx context.Context, i int) error {
		if i == 3 {
			return failed
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(time.Minute):
			ranOut.Add(1)
			return nil
		}
	})
	require.ErrorIs(t, err, failed)
	require.Zero(t, ranOut.Load(), "no other pilot ran on to its end")
	require.Less(t, time.Since(start), 30*time.Second)
}

// Progress lines count incidents by stage, with those not yet looked at.
func TestStageCountsSayWhereEachIncidentIs(t *testing.T) {
	got := stageCounts(map[string]string{"INC-1": "closed", "INC-2": "notifying", "INC-3": "closed"}, 5)
	require.Equal(t, "closed 2, not yet seen 2, notifying 1", got)
}
