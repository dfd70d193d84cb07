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
	"time"
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
func (s *Store) Close() error { return s.db.Close() }

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
	return s.db.ExecContext(ctx, s.dialect.rebind(q), args...)
}

func (s *Store) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return s.db.QueryContext(ctx, s.dialect.rebind(q), args...)
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
	return s.db.QueryRowContext(ctx, s.dialect.rebind(q), args...)
}

// tx is a database/sql transaction that rebinds placeholders.
type tx struct {
	*sql.Tx
	d dialect
}

func (s *Store) begin(ctx context.Context) (*tx, error) {
	t, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return &tx{t, s.dialect}, nil
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
	return t.ExecContext(ctx, t.d.rebind(q), args...)
}

func (t *tx) query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return t.QueryContext(ctx, t.d.rebind(q), args...)
}

func (t *tx) queryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return t.QueryRowContext(ctx, t.d.rebind(q), args...)
}

// schema is shared by both backends; {{id}} is the dialect's auto-increment
// key, {{key}} its text type for keys and {{clustered}} its clustered-table option.
// Subjects live in one table per snapshot (subjects_<n>, made by the import)
// and an incident's affected set in one table per incident (affected_<id>,
// made by scoping), so a bulk write goes to an unindexed table and its index
// is built once, in order, afterwards.
const schema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS snapshots (
  id {{id}},
  imported_at TEXT NOT NULL,
  imported_by TEXT NOT NULL,
  systems_file TEXT NOT NULL,
  subjects_file TEXT NOT NULL,
  systems INTEGER NOT NULL,
  subjects BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS systems (
  snapshot_id BIGINT NOT NULL,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  location TEXT NOT NULL,
  categories TEXT NOT NULL,
  PRIMARY KEY (snapshot_id, id)
);
CREATE TABLE IF NOT EXISTS system_sets (
  snapshot_id BIGINT NOT NULL,
  set_id INTEGER NOT NULL,
  systems TEXT NOT NULL,
  PRIMARY KEY (snapshot_id, set_id)
);
CREATE TABLE IF NOT EXISTS snapshot_counts (
  snapshot_id BIGINT NOT NULL,
  region TEXT NOT NULL,
  locale TEXT NOT NULL,
  set_id INTEGER NOT NULL,
  birth_year INTEGER NOT NULL,
  can_onsite INTEGER NOT NULL,
  can_email INTEGER NOT NULL,
  can_phone INTEGER NOT NULL,
  n BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS snapshot_counts_snapshot ON snapshot_counts (snapshot_id);
CREATE TABLE IF NOT EXISTS incidents (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  spec TEXT NOT NULL,
  opened_by TEXT NOT NULL,
  opened_at TEXT NOT NULL,
  drill INTEGER NOT NULL,
  snapshot_id BIGINT,
  subjects_file TEXT NOT NULL DEFAULT '',
  named_subjects BIGINT NOT NULL DEFAULT 0,
  scoped INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS incident_subjects (
  incident_id {{key}} NOT NULL,
  subject_id {{key}} NOT NULL,
  line BIGINT NOT NULL,
  PRIMARY KEY (incident_id, subject_id)
){{clustered}};
CREATE TABLE IF NOT EXISTS scope_sets (
  incident_id TEXT NOT NULL,
  set_id INTEGER NOT NULL,
  categories TEXT NOT NULL,
  sensitive INTEGER NOT NULL,
  PRIMARY KEY (incident_id, set_id)
);
CREATE TABLE IF NOT EXISTS drafts (
  incident_id TEXT NOT NULL,
  name TEXT NOT NULL,
  revision INTEGER NOT NULL,
  kind TEXT NOT NULL,
  locale TEXT NOT NULL,
  audience TEXT NOT NULL,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  sms TEXT NOT NULL,
  voice TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at TEXT NOT NULL,
  html TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (incident_id, name, revision)
);
CREATE TABLE IF NOT EXISTS deliveries (
  incident_id {{key}} NOT NULL,
  subject_id {{key}} NOT NULL,
  channel TEXT NOT NULL,
  rung INTEGER NOT NULL,
  status TEXT NOT NULL,
  provider_ref TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (incident_id, subject_id, channel)
){{clustered}};
CREATE INDEX IF NOT EXISTS deliveries_ref ON deliveries (provider_ref);
CREATE TABLE IF NOT EXISTS drill_messages (
  incident_id TEXT NOT NULL,
  msg_key TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  recipient TEXT NOT NULL,
  title TEXT NOT NULL,
  body TEXT NOT NULL,
  at TEXT NOT NULL,
  PRIMARY KEY (incident_id, msg_key)
);
CREATE TABLE IF NOT EXISTS suspended_identities (
  identity TEXT PRIMARY KEY,
  at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS seen_requests (
  kind TEXT NOT NULL,
  request_key TEXT NOT NULL,
  at TEXT NOT NULL,
  PRIMARY KEY (kind, request_key)
);
CREATE TABLE IF NOT EXISTS quiet_releases (
  incident_id TEXT PRIMARY KEY,
  by_whom TEXT NOT NULL,
  reason TEXT NOT NULL,
  at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS channel_holds (
  channel TEXT PRIMARY KEY,
  since TEXT NOT NULL,
  reason TEXT NOT NULL,
  probe_at TEXT NOT NULL,
  probes INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS channel_hold_notices (
  channel TEXT NOT NULL,
  since TEXT NOT NULL,
  incident_id TEXT NOT NULL,
  PRIMARY KEY (channel, since, incident_id)
);
CREATE TABLE IF NOT EXISTS run_refusals (
  incident_id TEXT NOT NULL,
  run_id TEXT NOT NULL,
  at TEXT NOT NULL,
  reason TEXT NOT NULL,
  PRIMARY KEY (incident_id, run_id)
);
CREATE TABLE IF NOT EXISTS drills (
  id TEXT PRIMARY KEY,
  playbook TEXT NOT NULL,
  requested_by TEXT NOT NULL,
  attended INTEGER NOT NULL,
  incident_id TEXT NOT NULL,
  status TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT NOT NULL,
  report TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS announcements (
  incident_id TEXT PRIMARY KEY,
  draft_revision INTEGER NOT NULL,
  unreached BIGINT NOT NULL,
  reason TEXT NOT NULL,
  published_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
  chain TEXT NOT NULL,
  seq BIGINT NOT NULL,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  role TEXT NOT NULL,
  via TEXT NOT NULL,
  action TEXT NOT NULL,
  outcome TEXT NOT NULL,
  detail TEXT NOT NULL,
  prev_hash TEXT NOT NULL,
  hash TEXT NOT NULL,
  PRIMARY KEY (chain, seq)
);
CREATE TABLE IF NOT EXISTS incident_records (
  incident_id TEXT PRIMARY KEY,
  seq INTEGER NOT NULL,
  record TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS rate_windows (
  name TEXT NOT NULL,
  window_index BIGINT NOT NULL,
  used INTEGER NOT NULL,
  PRIMARY KEY (name, window_index)
);
CREATE TABLE IF NOT EXISTS audit_heads (
  chain TEXT PRIMARY KEY,
  seq BIGINT NOT NULL
);
INSERT INTO audit_heads (chain, seq) SELECT chain, MAX(seq) FROM audit WHERE true GROUP BY chain ON CONFLICT (chain) DO NOTHING;
CREATE TABLE IF NOT EXISTS review_messages (
  incident_id TEXT NOT NULL,
  draft TEXT NOT NULL,
  revision INTEGER NOT NULL,
  channel TEXT NOT NULL,
  ts TEXT NOT NULL,
  PRIMARY KEY (incident_id, draft, revision)
);
CREATE TABLE IF NOT EXISTS held_calls (
  incident_id TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  until_utc TEXT NOT NULL,
  until_local TEXT NOT NULL,
  PRIMARY KEY (incident_id, subject_id)
);
CREATE TABLE IF NOT EXISTS tokens (
  hash TEXT PRIMARY KEY,
  identity TEXT NOT NULL,
  role TEXT NOT NULL
);
`

// legacyTables are the tables of the first schema (one subjects and one
// affected table for everything), which this version does not migrate.
var legacyTables = []string{"subject_systems", "affected"}

func (s *Store) migrate(ctx context.Context) error {
	if s.dialect.Name() == "postgres" {
		// An API and its workers start together: CREATE TABLE IF NOT EXISTS
		// is not safe against itself in PostgreSQL, so one process migrates
		// at a time (per schema) and the others find the work done.
		conn, err := s.db.Conn(ctx)
		if err != nil {
			return err
		}
		defer conn.Close()
		const key = `hashtext('tocsin-migrate:' || current_schema())`
		if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(`+key+`)`); err != nil {
			return fmt.Errorf("wait for other processes' migration: %w", err)
		}
		defer conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(`+key+`)`)
	}
	q := `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN (?, ?)`
	if s.dialect.Name() == "postgres" {
		q = `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN (?, ?)`
	}
	var legacy int
	if err := s.queryRow(ctx, q, legacyTables[0], legacyTables[1]).Scan(&legacy); err != nil {
		return err
	}
	if legacy > 0 {
		return errors.New("this database was made by an earlier Tocsin (one table for all subjects) and is not migrated: start with a fresh data directory or database, and import the inventory again")
	}
	ddl := strings.NewReplacer("{{id}}", s.dialect.idColumn(), "{{key}}", s.dialect.keyText(), "{{clustered}}", s.dialect.clustered()).Replace(schema)
	for _, stmt := range strings.Split(ddl, ";") {
		if strings.TrimSpace(stmt) == "" {
			continue
		}
		if _, err := s.exec(ctx, stmt); err != nil {
			return fmt.Errorf("%w in %s", err, strings.TrimSpace(stmt))
		}
	}
	return s.addColumns(ctx)
}

// addedColumns are columns later versions added to tables that existed
// before them; CREATE TABLE IF NOT EXISTS leaves such tables as they were.
var addedColumns = []struct{ table, column, ddl string }{
	{"drafts", "html", "TEXT NOT NULL DEFAULT ''"},
	{"deliveries", "draft", "TEXT NOT NULL DEFAULT ''"},
	{"deliveries", "segments", "INTEGER NOT NULL DEFAULT 0"},
	{"deliveries", "detail", "TEXT NOT NULL DEFAULT ''"},
	{"tokens", "expires_at", "TEXT NOT NULL DEFAULT ''"},
	// kind tells API tokens from console sessions; before it, a session was
	// a token with an expiry (see migrateTokenKinds).
	{"tokens", "kind", "TEXT NOT NULL DEFAULT ''"},
	{"tokens", "created_at", "TEXT NOT NULL DEFAULT ''"},
	{"deliveries", "owner", "TEXT NOT NULL DEFAULT ''"},
	{"deliveries", "lease_until", "TEXT NOT NULL DEFAULT ''"},
	{"deliveries", "doubt", "TEXT NOT NULL DEFAULT ''"},
	// What lists filter by, beside the record (see SaveRecord); summarised
	// marks the rows backfilled from before these columns.
	{"incidents", "status", "TEXT NOT NULL DEFAULT ''"},
	{"incidents", "jurisdictions", "TEXT NOT NULL DEFAULT ''"},
	{"incidents", "subjects", "BIGINT NOT NULL DEFAULT 0"},
	{"incidents", "reached", "BIGINT NOT NULL DEFAULT 0"},
	{"incidents", "viewers", "TEXT NOT NULL DEFAULT ''"},
	{"incidents", "summarised", "INTEGER NOT NULL DEFAULT 0"},
	// The charter the API issued when it opened the incident, and the one
	// workflow run that claimed it (see ClaimCharter).
	{"incidents", "charter", "TEXT NOT NULL DEFAULT ''"},
	{"incidents", "charter_run", "TEXT NOT NULL DEFAULT ''"},
}

func (s *Store) addColumns(ctx context.Context) error {
	for _, c := range addedColumns {
		q := `SELECT count(*) FROM pragma_table_info(?) WHERE name = ?`
		if s.dialect.Name() == "postgres" {
			q = `SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? AND column_name = ?`
		}
		has := func() (bool, error) {
			var n int
			err := s.queryRow(ctx, q, c.table, c.column).Scan(&n)
			return n > 0, err
		}
		ok, err := has()
		if err != nil {
			return err
		}
		if !ok {
			if _, err := s.exec(ctx, "ALTER TABLE "+c.table+" ADD COLUMN "+c.column+" "+c.ddl); err != nil {
				// Another process opening the same SQLite file may have
				// added it between the look and the ALTER.
				if added, _ := has(); !added {
					return fmt.Errorf("add %s.%s: %w", c.table, c.column, err)
				}
			}
		}
	}
	// Tokens from before kind: sessions were the ones with an expiry.
	if _, err := s.exec(ctx, `UPDATE tokens SET kind = CASE WHEN expires_at <> '' THEN 'session' ELSE 'api' END WHERE kind = ''`); err != nil {
		return err
	}
	// Lists page newest first by (opened_at, id).
	if _, err := s.exec(ctx, `CREATE INDEX IF NOT EXISTS incidents_by_opened ON incidents (opened_at, id)`); err != nil {
		return err
	}
	if err := s.indexOnsiteAccounts(ctx); err != nil {
		return err
	}
	return s.backfillSummaries(ctx)
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
