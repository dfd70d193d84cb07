package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"

	"modernc.org/sqlite" // also registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

type sqliteDialect struct{}

func openSQLite(path string) (*Store, error) {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(ON)", "cache_size(-16000)", "temp_store(FILE)"} {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	// One writer at a time is how SQLite works; a single connection avoids
	// SQLITE_BUSY between our own goroutines.
	db.SetMaxOpenConns(1)
	s := &Store{db: db, dialect: sqliteDialect{}, stmts: newStmtCache(db)}
	s.group.Max, s.group.Run = maxGroup, s.commitGroup
	return s, nil
}

func (sqliteDialect) Name() string           { return "sqlite" }
func (sqliteDialect) idColumn() string       { return "INTEGER PRIMARY KEY AUTOINCREMENT" }
func (sqliteDialect) rebind(q string) string { return q }
func (sqliteDialect) keyText() string        { return "TEXT" }
func (sqliteDialect) clustered() string      { return " WITHOUT ROWID" }
func (sqliteDialect) groupsWrites() bool     { return true }

func (d sqliteDialect) beginLoad(ctx context.Context, db *sql.DB) (loadTx, error) {
	t, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &sqliteLoad{tx: &tx{Tx: t, d: d}}, nil
}

// sqliteLoad bulk-loads through prepared multi-row INSERTs in one
// transaction: the per-statement cost of database/sql, not SQLite, is what
// limits row-at-a-time inserts.
type sqliteLoad struct{ tx *tx }

func (l *sqliteLoad) exec(ctx context.Context, q string, args ...any) error {
	_, err := l.tx.exec(ctx, q, args...)
	return err
}

func (l *sqliteLoad) queryRow(ctx context.Context, q string, args ...any) scanner {
	return l.tx.queryRow(ctx, q, args...)
}

func (l *sqliteLoad) query(ctx context.Context, q string, args ...any) (rowIter, error) {
	rows, err := l.tx.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	return sqlRows{rows}, nil
}

func (l *sqliteLoad) copyRows(ctx context.Context, table string, columns []string, src rowSource) error {
	return l.tx.insertRows(ctx, table, columns, src, "")
}

func (l *sqliteLoad) commit(context.Context) error   { return l.tx.Commit() }
func (l *sqliteLoad) rollback(context.Context) error { return l.tx.Rollback() }

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }

// sqliteBusy says whether err is SQLITE_BUSY (in any extended form).
func sqliteBusy(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY
}
