package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// The console's incident page and `incident show` scan the incident's
// ledger (counts by channel and outcome, people contacted, sends over
// time). On SQLite the store's one connection is the campaign's writer:
// those scans must read beside it, not queue behind it, and see what was
// committed.
func TestTheLedgersLongReadsDoNotWaitForTheWriter(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "t.db"))
	require.NoError(t, err)
	defer s.Close()
	ctx := context.Background()
	insert := `INSERT INTO deliveries (incident_id, subject_id, channel, rung, status, created_at, updated_at) VALUES ('INC-1', ?, 'sms', 1, ?, '2026-12-06T10:00:00Z', '2026-12-06T10:00:01Z')`
	_, err = s.db.ExecContext(ctx, insert, "S1", StatusDelivered)
	require.NoError(t, err)

	writing, err := s.begin(ctx) // a campaign's write, in progress
	require.NoError(t, err)
	defer writing.Rollback()
	_, err = writing.exec(ctx, insert, "S2", StatusDelivered)
	require.NoError(t, err)

	type answer struct {
		counts    map[string]ChannelCounts
		contacted int
		progress  map[string][]ProgressPoint
		err       error
	}
	done := make(chan answer, 1)
	go func() {
		var a answer
		if a.counts, _, _, a.err = s.CampaignCounts(ctx, "INC-1"); a.err == nil {
			if a.contacted, a.err = s.ContactedSubjects(ctx, "INC-1"); a.err == nil {
				a.progress, a.err = s.SendProgress(ctx, "INC-1", 10)
			}
		}
		done <- a
	}()
	select {
	case a := <-done:
		require.NoError(t, a.err)
		require.Equal(t, 1, a.counts["sms"].Delivered, "the committed send only")
		require.Equal(t, 1, a.contacted)
		require.Equal(t, []ProgressPoint{{At: time.Date(2026, 12, 6, 10, 0, 1, 0, time.UTC), Sent: 1}}, a.progress["sms"])
	case <-time.After(10 * time.Second):
		t.Fatal("the ledger's counts waited for a write in progress")
	}
}
