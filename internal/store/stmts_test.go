package store

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// Only single statements that read or write rows are prepared and kept:
// preparing a text runs its first statement alone.
func TestOnlyOneRowStatementIsKeptPrepared(t *testing.T) {
	require.True(t, cacheable("SELECT 1"))
	require.True(t, cacheable("\n\t\tUPDATE deliveries SET x=?"))
	require.True(t, cacheable("with t as (select 1) select * from t"))
	require.True(t, cacheable("SAVEPOINT grouped"), "grouped writes run three a write")
	require.True(t, cacheable("ROLLBACK TO grouped"))
	require.False(t, cacheable("CREATE TABLE t (x INT)"))
	require.False(t, cacheable("DELETE FROM a; DELETE FROM b"))
}

// The cache keeps at most its limit, the least recently used going first,
// and what it keeps still runs; a transaction uses what is kept and never
// waits to prepare on the one connection it holds.
func TestPreparedStatementsAreKeptBoundedAndUsedInTransactions(t *testing.T) {
	ctx := context.Background()
	s := kvStore(t, 2)
	var err error
	_, err = s.exec(ctx, `INSERT INTO kv (k, v) VALUES (?, ?)`, "a", "1")
	require.NoError(t, err)
	var v string
	require.NoError(t, s.queryRow(ctx, `SELECT v FROM kv WHERE k=?`, "a").Scan(&v))
	require.Equal(t, "1", v)
	require.Equal(t, 2, s.stmts.order.Len())
	_, err = s.exec(ctx, `UPDATE kv SET v=? WHERE k=?`, "2", "a")
	require.NoError(t, err)
	require.Equal(t, 2, s.stmts.order.Len(), "bounded")
	gone, _ := s.stmts.peek(`INSERT INTO kv (k, v) VALUES (?, ?)`)
	require.Nil(t, gone, "the least recently used went")

	require.NoError(t, s.inTx(ctx, func(t *tx) error {
		if _, err := t.exec(ctx, `UPDATE kv SET v=? WHERE k=?`, "3", "a"); err != nil { // kept: reused
			return err
		}
		_, err := t.exec(ctx, `INSERT INTO kv (k, v) VALUES (?, ?)`, "b", "4") // not kept: run as it is
		return err
	}))
	require.NoError(t, s.queryRow(ctx, `SELECT v FROM kv WHERE k=?`, "a").Scan(&v))
	require.Equal(t, "3", v)
	require.NoError(t, s.queryRow(ctx, `SELECT v FROM kv WHERE k=?`, "b").Scan(&v))
	require.Equal(t, "4", v)
}

// A statement evicted while a caller has it in hand still runs for that
// caller, and closes once it lets go.
func TestAStatementEvictedInUseRunsForItsCaller(t *testing.T) {
	ctx := context.Background()
	s := kvStore(t, 1)
	var err error
	held, release, err := s.stmts.get(ctx, `INSERT INTO kv (k, v) VALUES (?, ?)`)
	require.NoError(t, err)
	_, err = s.exec(ctx, `UPDATE kv SET v=? WHERE k=?`, "x", "y") // evicts the INSERT
	require.NoError(t, err)
	_, err = held.ExecContext(ctx, "a", "1")
	require.NoError(t, err, "still open for the caller that had it")
	release()
	_, err = held.ExecContext(ctx, "b", "2")
	require.ErrorContains(t, err, "closed", "closed once let go")
}

// Many callers on more texts than the cache keeps: every call runs, none
// meets a statement closed under it.
func TestCallersOnMoreTextsThanTheCacheKeepsAllRun(t *testing.T) {
	ctx := context.Background()
	s := kvStore(t, 2)
	var wg sync.WaitGroup
	errs := make(chan error, 8*50)
	for g := range 8 {
		wg.Go(func() {
			for i := range 50 {
				// Ten texts: the limit alias, so statements keep being evicted.
				q := fmt.Sprintf(`INSERT INTO kv (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v=excluded.v /* %d */`, i%10)
				if _, err := s.exec(ctx, q, fmt.Sprint(g*100+i), "v"); err != nil {
					errs <- err
				}
				var n int
				if err := s.queryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM kv WHERE v=? /* %d */`, i%7), "v").Scan(&n); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	var n int
	require.NoError(t, s.queryRow(ctx, `SELECT count(*) FROM kv`).Scan(&n))
	require.Equal(t, 400, n)
}

// kvStore is a SQLite store with a table kv (k, v) whose statement cache
// keeps at most limit statements.
func kvStore(t *testing.T, limit int) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "s.db"))
	require.NoError(t, err)
	t.Cleanup(func() { s.Close() })
	s.stmts.limit = limit
	_, err = s.exec(context.Background(), `CREATE TABLE kv (k TEXT PRIMARY KEY, v TEXT)`)
	require.NoError(t, err)
	return s
}
