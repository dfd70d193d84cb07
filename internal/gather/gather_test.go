package gather

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// Items that arrive while a batch runs make the next batch, no bigger
// than Max, and each caller gets its own item's result, even one whose
// context ended while it waited.
func TestCallsArrivingTogetherShareABatchAndGetTheirOwnResults(t *testing.T) {
	started, gate := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	var sizes []int
	b := &Batches[int, int]{Max: 4, Run: func(ctx context.Context, items []int) []int {
		require.NoError(t, ctx.Err())
		if items[0] == 0 {
			close(started)
			<-gate // the first batch runs until the others have queued
		}
		mu.Lock()
		sizes = append(sizes, len(items))
		mu.Unlock()
		out := make([]int, len(items))
		for i, v := range items {
			out[i] = v * 10
		}
		return out
	}}
	first := make(chan int)
	go func() { first <- b.Do(context.Background(), 0) }()
	<-started

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	results := make([]int, 9)
	var wg sync.WaitGroup
	for i := 1; i <= 8; i++ {
		wg.Go(func() { results[i] = b.Do(ctx, i) })
	}
	require.Eventually(t, func() bool { return b.Waiting() == 8 }, 5*time.Second, time.Millisecond)
	close(gate)
	results[0] = <-first
	wg.Wait()
	for i, r := range results {
		require.Equal(t, i*10, r)
	}
	require.Equal(t, []int{1, 4, 4}, sizes)
}
