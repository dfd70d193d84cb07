// Package store keeps Tocsin's bulk data: the inventory snapshots, incidents and
// their affected sets, drafts, the delivery ledger and API tokens. Workflows
// hold only IDs and counts; everything per subject lives here.
//
// Two backends sit behind the one Store type: SQLite (modernc.org/sqlite, the
// embedded default) and PostgreSQL (pgx). The SQL is written once with '?'
// placeholders; a dialect supplies the few things that differ: the schema's
// key columns, placeholder syntax and the bulk-load path of an import.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/tocsin/tocsin/internal/gather"
)

// ErrNotFound is returned when a row asked for does not exist.
var ErrNotFound = errors.New("not found")

// ErrBadScope is an incident's scope that the inventory cannot answer: a
// system it does not hold, a region code that does not exist. Retrying
// cannot help; the incident file must change.
var ErrBadScope = errors.New("the incident's scope does not match the inventory")

// Store is Tocsin's database.
type Store struct {
	db      *sql.DB
	dialect dialect
	// stmts keeps prepared statements (SQLite's; nil on PostgreSQL).
	stmts *stmtCache
	// phoneIndexed are the snapshots whose phone indexes this process
	// has made sure of (TextedAt), so a reply runs no DDL after the first.
	phoneIndexed sync.Map
	// group shares SQLite transactions among the ledger's claims and
	// records (grouped).
	group gather.Batches[groupedWrite, error]
}

// dialect is what differs between the backends.
type dialect interface {
	// Name is "sqlite" or "postgres".
	Name() string
	// idColumn is the auto-increment primary key column definition.
	idColumn() string
	// keyText is the type of text columns that are keys: PostgreSQL compares
	// them bytewise (COLLATE "C"), as SQLite does, which is both what IDs
	// need and several times faster for indexes than a locale's collation.
	keyText() string
	// clustered is the table option that stores per-person tables in their
	// primary key's order (SQLite's WITHOUT ROWID), so an incident's rows
	// are read and written without a second B-tree.
	clustered() string
	// rebind turns '?' placeholders into the backend's own.
	rebind(q string) string
	// beginLoad starts the transaction an import runs in; PostgreSQL's
	// needs the native connection for COPY.
	beginLoad(ctx context.Context, db *sql.DB) (loadTx, error)
	// groupsWrites says whether the ledger's writes share transactions
	// (grouped): SQLite's, which has one connection to write on.
	groupsWrites() bool
}

// Open opens (and migrates) the database named by dsn: a postgres:// or
// postgresql:// URL for PostgreSQL, anything else is a SQLite file path
// (optionally prefixed with sqlite://).
func Open(dsn string) (*Store, error) {
	var (
		s   *Store
		err error
	)
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		s, err = openPostgres(dsn)
	default:
		s, err = openSQLite(strings.TrimPrefix(dsn, "sqlite://"))
	}
	if err != nil {
		return nil, err
	}
	err = s.migrate(context.Background())
	// Processes opening a fresh SQLite file together can meet SQLite's
	// deadlock guard (SQLITE_BUSY at once, no busy wait); the migration is
	// idempotent, so the loser runs it again.
	for try := 0; err != nil && try < 20 && sqliteBusy(err); try++ {
		time.Sleep(time.Duration(10+try*10) * time.Millisecond)
		err = s.migrate(context.Background())
	}
	if err != nil {
		s.db.Close()
		return nil, fmt.Errorf("migrate store %s: %w", redactDSN(dsn), err)
	}
	return s, nil
}

// Backend names the database behind the store.
func (s *Store) Backend() string { return s.dialect.Name() }

// Close closes the database.
func (s *Store) Close() error {
	s.stmts.close()
	return s.db.Close()
}

// redactDSN hides a password in a connection URL before it reaches an error or a log.
func redactDSN(dsn string) string {
	at := strings.LastIndex(dsn, "@")
	scheme := strings.Index(dsn, "://")
	if at < 0 || scheme < 0 || at < scheme {
		return dsn
	}
	userinfo := dsn[scheme+3 : at]
	if i := strings.Index(userinfo, ":"); i >= 0 {
		return dsn[:scheme+3] + userinfo[:i] + ":xxxxx" + dsn[at:]
	}
	return dsn
}

func (s *Store) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	q = s.dialect.rebind(q)
	st, release, err := s.stmts.get(ctx, q)
	defer release()
	if err != nil {
		return nil, err
	} else if st != nil {
		return st.ExecContext(ctx, args...)
	}
	return s.db.ExecContext(ctx, q, args...)
}

func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	q = s.dialect.rebind(q)
	st, release, err := s.stmts.get(ctx, q)
	defer release()
	if err != nil {
		return nil, err
	} else if st != nil {
		return st.QueryContext(ctx, args...)
	}
	return s.db.QueryContext(ctx, q, args...)
}

// queryColumn reads a one-column result as values of T.
func queryColumn[T any](ctx context.Context, s *Store, q string, args ...any) ([]T, error) {
	rows, err := s.query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

func (s *Store) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	q = s.dialect.rebind(q)
	st, release, err := s.stmts.get(ctx, q)
	defer release()
	if err == nil && st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return s.db.QueryRowContext(ctx, q, args...)
}

// tx is a database/sql transaction that rebinds placeholders.
type tx struct {
	*sql.Tx
	d     dialect
	stmts *stmtCache
}

func (s *Store) begin(ctx context.Context) (*tx, error) {
	t, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &tx{t, s.dialect, s.stmts}, nil
}

// stmt is q's statement, if the cache keeps it, within the transaction
// (on the connection it was prepared on it is not prepared again), and
// its release.
func (t *tx) stmt(ctx context.Context, q string) (*sql.Stmt, func()) {
	st, release := t.stmts.peek(q)
	if st == nil {
		return nil, release
	}
	return t.StmtContext(ctx, st), release
}

// inTx runs f in one transaction and commits when f succeeds.
func (s *Store) inTx(ctx context.Context, f func(t *tx) error) error {
	t, err := s.begin(ctx)
	if err != nil {
		return err
	}
	defer t.Rollback()
	if err := f(t); err != nil {
		return err
	}
	return t.Commit()
}

func (t *tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	q = t.d.rebind(q)
	st, release := t.stmt(ctx, q)
	defer release()
	if st != nil {
		return st.ExecContext(ctx, args...)
	}
	return t.ExecContext(ctx, q, args...)
}

func (t *tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	q = t.d.rebind(q)
	st, release := t.stmt(ctx, q)
	defer release()
	if st != nil {
		return st.QueryContext(ctx, args...)
	}
	return t.QueryContext(ctx, q, args...)
}

func (t *tx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	q = t.d.rebind(q)
	st, release := t.stmt(ctx, q)
	defer release()
	if st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return t.QueryRowContext(ctx, q, args...)
}

// indexOnsiteAccounts gives snapshots imported before the on-site index
// theirs, once (IF NOT EXISTS makes every later open a no-op).
func (s *Store) indexOnsiteAccounts(ctx context.Context) error {
	snaps, err := queryColumn[int64](ctx, s, `SELECT id FROM snapshots WHERE subjects > 0 ORDER BY id`)
	if err != nil {
		return err
	}
	for _, snap := range snaps {
		if _, err := s.exec(ctx, onsiteIndex(snap)); err != nil {
			// Another process opening the same store may have made it
			// between the look and the create; a second try sees it.
			if _, err2 := s.exec(ctx, onsiteIndex(snap)); err2 != nil {
				return fmt.Errorf("index on-site accounts of snapshot %d: %w", snap, err)
			}
		}
	}
	return nil
}

// timeLayout has a fixed width so that stored times sort as text.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func now() string { return formatTime(time.Now()) }

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(s string) time.Time {
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		t, _ = time.Parse(time.RFC3339Nano, s)
	}
	return t
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// subjectsTable is the per-snapshot subjects table. The name is built from
// an integer, never from input.
// inChunk bounds the IDs of one IN list: no backend's limit on a
// statement's parameters is met, however large a batch is.
const inChunk = 400

// eachIn runs query, which ends in "IN ", once per chunk of ids with the
// chunk's placeholders after it and args before them, and hands each row
// to scan.
func (s *Store) eachIn(ctx context.Context, ids []string, args []any, query string, scan func(*sql.Rows) error) error {
	for lo := 0; lo < len(ids); lo += inChunk {
		chunk := ids[lo:min(lo+inChunk, len(ids))]
		all := append(append(make([]any, 0, len(args)+len(chunk)), args...), anySlice(chunk)...)
		rows, err := s.query(ctx, query+`(?`+strings.Repeat(",?", len(chunk)-1)+`)`, all...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				rows.Close()
				return err
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}

func anySlice(ids []string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

func subjectsTable(snapshot int64) string { return fmt.Sprintf("subjects_%d", snapshot) }

// onsiteIndex indexes a snapshot by on-site account, for the in-app inbox
// (OnsiteInbox). Partial: most people have no account, and those rows would
// only make the index bigger; a query uses it by repeating the condition.
func onsiteIndex(snapshot int64) string {
	t := subjectsTable(snapshot)
	return `CREATE INDEX IF NOT EXISTS ` + t + `_onsite ON ` + t + ` (onsite_id) WHERE onsite_id <> ''`
}

// affectedTable is the incident's affected-set table. Incident IDs are made of
// letters, digits and dashes (checked when the incident is created).
func affectedTable(incidentID string) string {
	return "affected_" + strings.ReplaceAll(strings.ToLower(incidentID), "-", "_")
}

func validIncidentID(id string) bool {
	if id == "" || len(id) > 40 {
		return false
	}
	for _, c := range id {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// Ping says whether the database answers (the readiness probe).
func (s *Store) Ping(ctx context.Context) error { return s.db.PingContext(ctx) }
