// Package store keeps Tocsin's bulk data: the inventory snapshots, incidents and
// their affected sets, drafts, the delivery ledger and API tokens. Workflows
// hold only IDs and counts; everything per subject lives here.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// ErrNotFound is returned when a row asked for does not exist.
var ErrNotFound = errors.New("not found")

// Store is Tocsin's database.
type Store struct {
	db *sql.DB
}

// Open opens (and migrates) the SQLite database at path.
func Open(path string) (*Store, error) {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(ON)"} {
		q.Add("_pragma", p)
	}
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	// One writer at a time is how SQLite works; a single connection avoids
	// SQLITE_BUSY between our own goroutines.
	db.SetMaxOpenConns(1)
	s := &Store{db: db}
	if err := s.migrate(context.Background()); err != nil {
		db.Close()
		return nil, fmt.Errorf("migrate store %s: %w", path, err)
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

const schema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS snapshots (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  imported_at TEXT NOT NULL,
  imported_by TEXT NOT NULL,
  systems_file TEXT NOT NULL,
  subjects_file TEXT NOT NULL,
  systems INTEGER NOT NULL,
  subjects INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS systems (
  snapshot_id INTEGER NOT NULL,
  id TEXT NOT NULL,
  name TEXT NOT NULL,
  location TEXT NOT NULL,
  categories TEXT NOT NULL,
  PRIMARY KEY (snapshot_id, id)
);
CREATE TABLE IF NOT EXISTS subjects (
  snapshot_id INTEGER NOT NULL,
  subject_id TEXT NOT NULL,
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  phone TEXT NOT NULL,
  onsite_id TEXT NOT NULL,
  locale TEXT NOT NULL,
  region TEXT NOT NULL,
  birth_year INTEGER NOT NULL,
  systems TEXT NOT NULL,
  PRIMARY KEY (snapshot_id, subject_id)
);
CREATE TABLE IF NOT EXISTS subject_systems (
  snapshot_id INTEGER NOT NULL,
  system_id TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  PRIMARY KEY (snapshot_id, system_id, subject_id)
);
CREATE TABLE IF NOT EXISTS incidents (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  spec TEXT NOT NULL,
  opened_by TEXT NOT NULL,
  opened_at TEXT NOT NULL,
  drill INTEGER NOT NULL,
  snapshot_id INTEGER
);
CREATE TABLE IF NOT EXISTS affected (
  incident_id TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  region TEXT NOT NULL,
  locale TEXT NOT NULL,
  categories TEXT NOT NULL,
  sensitive INTEGER NOT NULL,
  minor INTEGER NOT NULL,
  reachable INTEGER NOT NULL,
  reached_rung INTEGER NOT NULL DEFAULT 0,
  reached_via TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (incident_id, subject_id)
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
  PRIMARY KEY (incident_id, name, revision)
);
CREATE TABLE IF NOT EXISTS deliveries (
  incident_id TEXT NOT NULL,
  subject_id TEXT NOT NULL,
  channel TEXT NOT NULL,
  rung INTEGER NOT NULL,
  status TEXT NOT NULL,
  provider_ref TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL,
  PRIMARY KEY (incident_id, subject_id, channel)
);
CREATE INDEX IF NOT EXISTS deliveries_ref ON deliveries (provider_ref);
CREATE TABLE IF NOT EXISTS announcements (
  incident_id TEXT PRIMARY KEY,
  draft_revision INTEGER NOT NULL,
  unreached INTEGER NOT NULL,
  reason TEXT NOT NULL,
  published_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS tokens (
  hash TEXT PRIMARY KEY,
  identity TEXT NOT NULL,
  role TEXT NOT NULL
);
`

func (s *Store) migrate(ctx context.Context) error {
	_, err := s.db.ExecContext(ctx, schema)
	return err
}

func now() string { return time.Now().UTC().Format(time.RFC3339Nano) }

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
