// Package gather runs the calls that arrive together as one batch: one
// commit shared by many writers, where a commit each made them queue for
// a database's one connection and its fsync, one by one.
package gather

import (
	"context"
	"slices"
	"sync"
)

// Batches gathers items into batches for Run.
type Batches[T, R any] struct {
	// Max bounds a batch (0: no bound).
	Max int
	// Run does one batch and returns a result for each item, in order.
	Run func(ctx context.Context, items []T) []R

	mu      sync.Mutex
	waiting []call[T, R]
	running bool
}

type call[T, R any] struct {
	item T
	done chan R
}

// Do adds item to the next batch and returns its result once that batch
// has run, whatever ctx does meanwhile: a caller must know what became of
// its item. Run is given a context without ctx's cancellation.
func (b *Batches[T, R]) Do(ctx context.Context, item T) R {
	done := make(chan R, 1)
	b.mu.Lock()
	b.waiting = append(b.waiting, call[T, R]{item: item, done: done})
	if !b.running {
		b.running = true
		go b.drain(context.WithoutCancel(ctx))
	}
	b.mu.Unlock()
	return <-done
}

// Waiting is how many items wait for a batch to take them.
func (b *Batches[T, R]) Waiting() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.waiting)
}

// drain runs what is waiting, a batch at a time, until nothing is. The
// items that arrive while a batch runs make the next one.
func (b *Batches[T, R]) drain(ctx context.Context) {
	for {
		b.mu.Lock()
		if len(b.waiting) == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		n := len(b.waiting)
		if b.Max > 0 {
			n = min(n, b.Max)
		}
		batch := slices.Clone(b.waiting[:n])
		b.waiting = slices.Delete(b.waiting, 0, n)
		b.mu.Unlock()

		items := make([]T, n)
		for i, c := range batch {
			items[i] = c.item
		}
		results := b.Run(ctx, items)
		for i, c := range batch {
			c.done <- results[i]
		}
	}
}
