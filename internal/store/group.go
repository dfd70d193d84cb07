package store

import (
	"cmp"
	"context"
	"database/sql"
)

// groupedWrite is one write sharing a SQLite transaction (grouped). Every
// lane of every batch claims its chunk and records its answers (an
// e-mail's one by one: its record must be durable before the lane sends
// again), and with a commit each they queued for SQLite's one connection
// and its fsync, one by one: the connection was busy all of a campaign.
// Each caller still returns only once its own write is committed, so a
// crash loses what it could lose before: the writes that were waiting.
type groupedWrite func(ctx context.Context, q querier) error

// querier is what a grouped write runs its statements on: the shared
// transaction, or on PostgreSQL the store itself.
type querier interface {
	exec(ctx context.Context, q string, args ...any) (sql.Result, error)
	query(ctx context.Context, q string, args ...any) (*sql.Rows, error)
	queryRow(ctx context.Context, q string, args ...any) *sql.Row
}

// maxGroup bounds how many writes share a transaction.
const maxGroup = 64

// The statements of a grouped write on a SQLite transaction.
const (
	savepoint  = `SAVEPOINT grouped`
	rollbackTo = `ROLLBACK TO grouped`
	release    = `RELEASE grouped`
)

// grouped runs write in a transaction it may share with other writes, and
// returns once that transaction has committed (or write failed, undone
// alone). It waits for the commit whatever ctx does meanwhile, for the
// caller must know whether its write is in the ledger; write runs with a
// context of its own, since cancelling a statement in SQLite can roll back
// the whole shared transaction. On PostgreSQL, whose pool writes in
// parallel, write runs its statements at once, each committed by itself:
// a grouped write must not need them to be atomic. texts are the
// statements write runs, prepared beforehand.
func (s *Store) grouped(ctx context.Context, texts []string, write groupedWrite) error {
	if !s.dialect.groupsWrites() {
		return write(ctx, s)
	}
	// What runs within the shared transaction can only use what is
	// prepared already.
	if err := s.stmts.warm(ctx, append(texts, savepoint, rollbackTo, release)...); err != nil {
		return err
	}
	return s.group.Do(ctx, write)
}

// commitGroup runs a group of writes in one transaction, a savepoint
// each so that one failing is undone alone, and returns each one's error.
func (s *Store) commitGroup(ctx context.Context, batch []groupedWrite) []error {
	n := len(batch)
	errs := make([]error, n)
	err := s.inTx(ctx, func(t *tx) error {
		if n == 1 {
			errs[0] = batch[0](ctx, t)
			return errs[0]
		}
		for i, write := range batch {
			if _, err := t.exec(ctx, savepoint); err != nil {
				return err
			}
			if errs[i] = write(ctx, t); errs[i] != nil {
				if _, err := t.exec(ctx, rollbackTo); err != nil {
					return err
				}
			}
			if _, err := t.exec(ctx, release); err != nil {
				return err
			}
		}
		return nil
	})
	for i := range errs {
		errs[i] = cmp.Or(err, errs[i])
	}
	return errs
}
