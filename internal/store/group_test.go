package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// holdFlusher starts a grouped write that waits until release is closed,
// so that the writes sent meanwhile queue up and share the next
// transaction.
func holdFlusher(t *testing.T, s *Store) (release func(), waitFirst func()) {
	t.Helper()
	started, gate := make(chan struct{}), make(chan struct{})
	var first sync.WaitGroup
	first.Go(func() {
		require.NoError(t, s.grouped(context.Background(), nil, func(ctx context.Context, tx querier) error {
			close(started)
			<-gate
			_, err := tx.exec(ctx, `INSERT INTO kv (k, v) VALUES ('first', '1')`)
			return err
		}))
	})
	<-started
	return func() { close(gate) }, first.Wait
}

func kvValue(t *testing.T, s *Store, k string) (string, bool) {
	t.Helper()
	var v string
	err := s.queryRow(context.Background(), `SELECT v FROM kv WHERE k=?`, k).Scan(&v)
	if err != nil {
		return "", false
	}
	return v, true
}

// Writes that arrive together share one transaction, yet one that fails is
// undone alone: the others are committed and each caller hears its own
// outcome.
func TestAFailedWriteInAGroupIsUndoneAlone(t *testing.T) {
	s := kvStore(t, 16)
	release, waitFirst := holdFlusher(t, s)
	queued := s.group.Waiting

	errBroken := errors.New("this write fails after its insert")
	results := make([]error, 3)
	var wg sync.WaitGroup
	for i := range 3 {
		wg.Go(func() {
			results[i] = s.grouped(context.Background(), nil, func(ctx context.Context, tx querier) error {
				if _, err := tx.exec(ctx, `INSERT INTO kv (k, v) VALUES (?, ?)`, fmt.Sprint("w", i), "x"); err != nil {
					return err
				}
				if i == 1 {
					return errBroken
				}
				return nil
			})
		})
		require.Eventually(t, func() bool { return queued() == i+1 }, 5*time.Second, 5*time.Millisecond)
	}
	release()
	wg.Wait()
	waitFirst()

	require.NoError(t, results[0])
	require.ErrorIs(t, results[1], errBroken)
	require.NoError(t, results[2])
	for _, k := range []string{"first", "w0", "w2"} {
		_, ok := kvValue(t, s, k)
		require.True(t, ok, "%s's write was committed", k)
	}
	_, ok := kvValue(t, s, "w1")
	require.False(t, ok, "the failed write's insert was undone")
}

// A caller whose context ends while its write waits still learns whether
// the write was committed: it was, and it is told so, not ctx's error.
func TestAGroupedWriteIsCommittedThoughItsCallerGaveUp(t *testing.T) {
	s := kvStore(t, 16)
	release, waitFirst := holdFlusher(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- s.grouped(ctx, nil, func(ctx context.Context, tx querier) error {
			_, err := tx.exec(ctx, `INSERT INTO kv (k, v) VALUES ('late', '1')`)
			return err
		})
	}()
	require.Eventually(t, func() bool { return s.group.Waiting() == 1 }, 5*time.Second, 5*time.Millisecond)
	cancel()
	release()
	require.NoError(t, <-done)
	waitFirst()
	_, ok := kvValue(t, s, "late")
	require.True(t, ok)
}

// A grouped write runs within a transaction, where a statement not yet
// kept would be parsed again each time: its statements, and the
// savepoints around it, are prepared beforehand and kept.
func TestAGroupedWritesStatementsArePreparedAndKept(t *testing.T) {
	s := kvStore(t, 16)
	insert := `INSERT INTO kv (k, v) VALUES (?, ?)`
	for i := range 2 {
		require.NoError(t, s.grouped(context.Background(), []string{insert}, func(ctx context.Context, q querier) error {
			_, err := q.exec(ctx, insert, fmt.Sprint("k", i), "v")
			return err
		}))
	}
	for _, q := range []string{insert, savepoint, rollbackTo, release} {
		st, done := s.stmts.peek(q)
		done()
		require.NotNil(t, st, "%s is kept prepared", q)
	}
}
