package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"modernc.org/sqlite" // also registers the "sqlite" driver
	sqlite3 "modernc.org/sqlite/lib"
)

type sqliteDialect struct {
	// path is the store's file, which a bulk load opens a connection of
	// its own to (rawConn); empty for a database only one connection sees.
	path string
}

func openSQLite(path string) (*Store, error) {
	q := url.Values{}
	// threads: a sort larger than the cache (an import's index over a
	// million IDs in file order) sorts its runs on helper threads; 1.5 s
	// where it took 2.3, measured on a million shuffled IDs.
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(ON)", "cache_size(-16000)", "temp_store(FILE)", fmt.Sprintf("threads(%d)", sortThreads)} {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	// One writer at a time is how SQLite works; a single connection avoids
	// SQLITE_BUSY between our own goroutines.
	db.SetMaxOpenConns(1)
	d := sqliteDialect{path: path}
	if path == ":memory:" || strings.Contains(path, "mode=memory") {
		d.path = ""
	}
	s := &Store{db: db, dialect: d, stmts: newStmtCache(db)}
	s.group.Max, s.group.Run = maxGroup, s.commitGroup
	return s, nil
}

// sortThreads is how many helper threads a SQLite sort may use.
const sortThreads = 2

func (sqliteDialect) Name() string           { return "sqlite" }
func (sqliteDialect) idColumn() string       { return "INTEGER PRIMARY KEY AUTOINCREMENT" }
func (sqliteDialect) rebind(q string) string { return q }
func (sqliteDialect) keyText() string        { return "TEXT" }
func (sqliteDialect) clustered() string      { return " WITHOUT ROWID" }
func (sqliteDialect) groupsWrites() bool     { return true }

func (d sqliteDialect) beginLoad(ctx context.Context, db *sql.DB) (loadTx, error) {
	l := &sqliteLoad{db: db, d: d}
	return l, l.begin(ctx)
}

// loadChunkRows is how many rows a SQLite load writes in one transaction.
// SQLite has one writer and the store one connection: a load in a single
// transaction held every other call of the server (a campaign's ledger,
// the console, the providers' receipts) for its whole length, a minute at
// 10 million people. Between two chunks the connection serves them.
var loadChunkRows = 32768

// chunkCommitted, when set by a test, runs after each chunk's commit, while
// the connection is free.
var chunkCommitted func()

// sqliteLoad bulk-loads through prepared multi-row INSERTs (the
// per-statement cost of database/sql, not SQLite, is what limits
// row-at-a-time inserts), committing every loadChunkRows rows. What it has
// committed of a load that is then abandoned is for the caller to drop
// (committedSome): the snapshot stays out of sight until its last
// transaction makes it one.
type sqliteLoad struct {
	db      *sql.DB
	d       sqliteDialect
	tx      *tx
	partial bool
}

func (l *sqliteLoad) begin(ctx context.Context) error {
	t, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		l.tx = nil
		return err
	}
	l.tx = &tx{Tx: t, d: l.d}
	return nil
}

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
	// The first chunk goes through the load's own transaction: a file
	// that fits in one chunk is loaded, or refused without a trace, in a
	// single transaction. So do all of them where no other connection can
	// open the database.
	txChunk := func() (full bool, err error) {
		c := &chunkSource{rowSource: src, left: loadChunkRows}
		err = l.tx.insertRows(ctx, table, columns, c, "")
		return c.full, err
	}
	full, err := txChunk()
	for full && err == nil && l.d.path == "" {
		if err = l.yield(ctx); err == nil {
			full, err = txChunk()
		}
	}
	if err != nil || !full {
		return err
	}
	// The rest through a connection of the load's own, which sees only
	// what is committed: the table, first.
	if err := l.commitChunk(); err != nil {
		return err
	}
	raw, err := openRaw(l.d.path)
	if err != nil {
		return err
	}
	defer raw.close()
	insert, err := raw.prepare(insertSQL(table, columns, 1))
	if err != nil {
		return err
	}
	defer insert.finalize()
	for {
		c := &chunkSource{rowSource: src, left: loadChunkRows}
		if err := l.rawChunk(ctx, raw, insert, c); err != nil {
			return err
		}
		if !c.full {
			return l.begin(ctx)
		}
		if chunkCommitted != nil {
			chunkCommitted()
		}
	}
}

// rawChunk writes one chunk through the load's own connection in one
// transaction. It holds the store's connection meanwhile, so the
// server's other calls wait for the chunk, as they would for a
// transaction of the store's own, rather than meeting a busy database.
func (l *sqliteLoad) rawChunk(ctx context.Context, raw *rawConn, insert *rawStmt, c *chunkSource) (err error) {
	held, err := l.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer held.Close()
	if err := raw.exec("BEGIN IMMEDIATE"); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			raw.exec("ROLLBACK")
		}
	}()
	typed, _ := c.rowSource.(typedSource)
	var row []loadValue
	for c.Next() {
		if typed != nil {
			row = typed.typedValues()
		} else if row, err = unboxed(c, row[:0]); err != nil {
			return err
		}
		if err := insert.insert(row); err != nil {
			return err
		}
	}
	if err := c.Err(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return raw.exec("COMMIT")
}

// yield commits what is loaded so far and begins again, letting the calls
// waiting for the connection through.
func (l *sqliteLoad) yield(ctx context.Context) error {
	if err := l.commitChunk(); err != nil {
		return err
	}
	return l.begin(ctx)
}

// commitChunk commits what is loaded so far, leaving the connection free.
func (l *sqliteLoad) commitChunk() error {
	if err := l.tx.Commit(); err != nil {
		return err
	}
	l.tx, l.partial = nil, true
	if chunkCommitted != nil {
		chunkCommitted()
	}
	return nil
}

func (l *sqliteLoad) commit(context.Context) error { return l.tx.Commit() }

func (l *sqliteLoad) rollback(context.Context) error {
	if l.tx == nil {
		return nil
	}
	return l.tx.Rollback()
}

func (l *sqliteLoad) committedSome() bool { return l.partial }

// chunkSource is up to left rows of a source; full says it stopped there
// with the source not yet read to its end.
type chunkSource struct {
	rowSource
	left int
	full bool
}

// Err is the source's error once it has ended; a chunk that stopped short
// of its end has none yet (the source is still being read).
func (c *chunkSource) Err() error {
	if c.full {
		return nil
	}
	return c.rowSource.Err()
}

func (c *chunkSource) Next() bool {
	if c.left == 0 {
		c.full = true
		return false
	}
	c.left--
	return c.rowSource.Next()
}

type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }

// sqliteBusy says whether err is SQLITE_BUSY (in any extended form).
func sqliteBusy(err error) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code()&0xff == sqlite3.SQLITE_BUSY
}

// unboxed appends the source's current row to row, as loadValues.
func unboxed(src rowSource, row []loadValue) ([]loadValue, error) {
	vals, err := src.Values()
	if err != nil {
		return nil, err
	}
	for i, v := range vals {
		lv, err := loadValueOf(i+1, v)
		if err != nil {
			return nil, err
		}
		row = append(row, lv)
	}
	return row, nil
}
