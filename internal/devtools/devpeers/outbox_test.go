package devpeers

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// Entries received at the same moment share a commit, yet each sender is
// told truly whether its entry is new: of many copies under one key sent
// at once exactly one is, every other key's first is, and the outbox
// keeps one entry a key with the copies counted.
func TestEntriesReceivedAtOnceAreEachKeptOnce(t *testing.T) {
	ob, err := OpenOutbox(filepath.Join(t.TempDir(), "peers.db"))
	require.NoError(t, err)
	t.Cleanup(func() { ob.Close() })
	ctx := context.Background()
	const keys, copies = 40, 3
	added := make([][]bool, keys)
	var wg sync.WaitGroup
	for k := range keys {
		added[k] = make([]bool, copies)
		for c := range copies {
			wg.Go(func() {
				ok, err := ob.AddOnce(ctx, Entry{IncidentID: "INC-1", SubjectID: fmt.Sprint("u", k), Channel: "email", To: "x@example.com", Ref: fmt.Sprint("<m", k, "@tocsin>")})
				require.NoError(t, err)
				added[k][c] = ok
			})
		}
	}
	wg.Wait()
	for k := range keys {
		n := 0
		for _, ok := range added[k] {
			if ok {
				n++
			}
		}
		require.Equal(t, 1, n, "key %d: exactly one copy is new", k)
	}
	tally, repeats, err := ob.Tally(ctx, "INC-1")
	require.NoError(t, err)
	require.Len(t, tally, keys)
	for _, n := range tally {
		require.Equal(t, 1, n)
	}
	require.Equal(t, keys*(copies-1), repeats)
}
