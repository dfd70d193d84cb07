package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Schema changes are numbered files under migrations/: NNNN_name.sql for
// both backends (with the dialect's {{id}}, {{key}} and {{clustered}}), or
// NNNN_name.sqlite.sql and NNNN_name.postgres.sql where they differ. Each
// runs once, in order, in a transaction, and is recorded in
// schema_migrations; a file is never edited once released.
//
//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string // the file
	sql     string
}

var migrationName = regexp.MustCompile(`^(\d{4})_[a-z0-9_]+(\.(sqlite|postgres))?\.sql$`)

// migrationsFor lists a backend's migrations in order, refusing two files
// of one number.
func migrationsFor(fsys fs.FS, backend string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, "migrations")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, e := range entries {
		m := migrationName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migrations/%s: want NNNN_name.sql, or NNNN_name.sqlite.sql / NNNN_name.postgres.sql", e.Name())
		}
		if m[3] != "" && m[3] != backend {
			continue
		}
		data, err := fs.ReadFile(fsys, "migrations/"+e.Name())
		if err != nil {
			return nil, err
		}
		v, _ := strconv.Atoi(m[1])
		if len(out) > 0 && out[len(out)-1].version == v {
			return nil, fmt.Errorf("migrations/%s: number %04d is taken by %s", e.Name(), v, out[len(out)-1].name)
		}
		out = append(out, migration{version: v, name: e.Name(), sql: string(data)})
	}
	slices.SortFunc(out, func(a, b migration) int { return a.version - b.version })
	return out, nil
}

// statements splits a migration into statements, comments dropped (a
// comment may hold a semicolon).
func statements(sqlText string) []string {
	var b strings.Builder
	for _, line := range strings.Split(sqlText, "\n") {
		if strings.HasPrefix(strings.TrimSpace(line), "--") {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	var out []string
	for _, stmt := range strings.Split(b.String(), ";") {
		if strings.TrimSpace(stmt) != "" {
			out = append(out, strings.TrimSpace(stmt))
		}
	}
	return out
}

// legacyTables are the tables of the first schema (one subjects and one
// affected table for everything), which this version does not migrate.
var legacyTables = []string{"subject_systems", "affected"}

// adoptedThrough is the last migration a database made before numbering
// already holds the equivalent of (its tables and added columns).
const adoptedThrough = 3

func (s *Store) migrate(ctx context.Context) error {
	return s.migrateFrom(ctx, migrationFiles)
}

func (s *Store) migrateFrom(ctx context.Context, fsys fs.FS) error {
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
	if n, err := s.tablesNamed(ctx, legacyTables...); err != nil {
		return err
	} else if n > 0 {
		return errors.New("this database was made by an earlier Tocsin (one table for all subjects) and is not migrated: start with a fresh data directory or database, and import the inventory again")
	}
	migrations, err := migrationsFor(fsys, s.dialect.Name())
	if err != nil {
		return err
	}
	if _, err := s.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		return err
	}
	// The tables are looked for before the versions are read: another
	// process opening the same SQLite file commits its first migration's
	// tables and version together, so tables seen first with no version
	// after are a database from before numbered migrations. Read the
	// other way round, a migration committed in between looked like one,
	// and adopting it again failed on the versions it had just written.
	tables, err := s.tablesNamed(ctx, "incidents")
	if err != nil {
		return err
	}
	applied, err := queryColumn[int](ctx, s, `SELECT version FROM schema_migrations ORDER BY version`)
	if err != nil {
		return err
	}
	if len(applied) == 0 && tables > 0 {
		if err := s.adopt(ctx, migrations); err != nil {
			return err
		}
		applied, err = queryColumn[int](ctx, s, `SELECT version FROM schema_migrations ORDER BY version`)
		if err != nil {
			return err
		}
	}
	for _, m := range migrations {
		if slices.Contains(applied, m.version) {
			continue
		}
		// An adopted database may have a column a later file adds.
		stmts, err := s.needed(ctx, m)
		if err != nil {
			return err
		}
		err = s.inTx(ctx, func(t *tx) error {
			for _, stmt := range stmts {
				if _, err := t.exec(ctx, stmt); err != nil {
					return fmt.Errorf("%w in %s", err, stmt)
				}
			}
			_, err := t.exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, m.version, m.name, now())
			return err
		})
		if err != nil {
			// Another process opening the same SQLite file may have
			// applied it meanwhile.
			if done, _ := queryColumn[int](ctx, s, `SELECT version FROM schema_migrations WHERE version = ?`, m.version); len(done) > 0 {
				continue
			}
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
	}
	if err := s.indexOnsiteAccounts(ctx); err != nil {
		return err
	}
	if err := s.addContactColumns(ctx); err != nil {
		return err
	}
	return s.backfillSummaries(ctx)
}

// dialectSQL fills a migration's {{id}}, {{key}} and {{clustered}} with
// this backend's column definitions.
func (s *Store) dialectSQL(sql string) string {
	return strings.NewReplacer("{{id}}", s.dialect.idColumn(), "{{key}}", s.dialect.keyText(), "{{clustered}}", s.dialect.clustered()).Replace(sql)
}

func (s *Store) tablesNamed(ctx context.Context, names ...string) (int, error) {
	q := `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN (?` + strings.Repeat(", ?", len(names)-1) + `)`
	if s.dialect.Name() == "postgres" {
		q = `SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name IN (?` + strings.Repeat(", ?", len(names)-1) + `)`
	}
	args := make([]any, len(names))
	for i, n := range names {
		args[i] = n
	}
	var n int
	err := s.queryRow(ctx, q, args...).Scan(&n)
	return n, err
}

var addColumn = regexp.MustCompile(`(?is)^ALTER TABLE (\w+) ADD COLUMN (\w+) `)

// adopt brings a database made before migrations were numbered to
// adoptedThrough: the baseline's tables where missing, each column the
// numbered files add where the database lacks it, then the rest of those
// files (idempotent), and records them as applied.
func (s *Store) adopt(ctx context.Context, migrations []migration) error {
	for _, m := range migrations {
		if m.version > adoptedThrough {
			break
		}
		stmts, err := s.needed(ctx, m)
		if err != nil {
			return err
		}
		for _, stmt := range stmts {
			if _, err := s.exec(ctx, stmt); err != nil {
				return fmt.Errorf("adopt the database from before numbered migrations: %s: %w in %s", m.name, err, stmt)
			}
		}
		if _, err := s.exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`, m.version, m.name, now()); err != nil {
			return err
		}
	}
	return nil
}

// needed are a migration's statements but those adding a column the
// table already has: a column is added only where it is missing, as
// CREATE TABLE IF NOT EXISTS makes a table.
func (s *Store) needed(ctx context.Context, m migration) ([]string, error) {
	var out []string
	for _, stmt := range statements(s.dialectSQL(m.sql)) {
		if c := addColumn.FindStringSubmatch(stmt); c != nil {
			if has, err := s.hasColumn(ctx, c[1], c[2]); err != nil {
				return nil, err
			} else if has {
				continue
			}
		}
		out = append(out, stmt)
	}
	return out, nil
}

func (s *Store) hasColumn(ctx context.Context, table, column string) (bool, error) {
	q := `SELECT count(*) FROM pragma_table_info(?) WHERE name = ?`
	if s.dialect.Name() == "postgres" {
		q = `SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? AND column_name = ?`
	}
	var n int
	err := s.queryRow(ctx, q, table, column).Scan(&n)
	return n > 0, err
}

// addContactColumns gives the subjects tables of snapshots imported before
// a kind of contact existed its column (empty: nobody in them has one), and
// the affected tables of incidents scoped before contacts were bits their
// reach. Tables are made per snapshot and incident, so no numbered file
// can name them.
func (s *Store) addContactColumns(ctx context.Context) error {
	snaps, err := queryColumn[int64](ctx, s, `SELECT id FROM snapshots WHERE subjects > 0 ORDER BY id`)
	if err != nil {
		return err
	}
	for _, snap := range snaps {
		table := subjectsTable(snap)
		has, err := s.columnsOf(ctx, table)
		if err != nil {
			return err
		}
		for _, col := range subjectColumns {
			if len(has) > 0 && !has[col] {
				if err := s.addColumn(ctx, table, col, `TEXT NOT NULL DEFAULT ''`, ""); err != nil {
					return err
				}
			}
		}
	}
	ids, err := queryColumn[string](ctx, s, `SELECT id FROM incidents WHERE scoped = 1 ORDER BY id`)
	if err != nil {
		return err
	}
	for _, id := range ids {
		table := affectedTable(id)
		has, err := s.columnsOf(ctx, table)
		if err != nil {
			return err
		}
		if len(has) > 0 && !has["reach"] {
			if err := s.addColumn(ctx, table, "reach", `INTEGER NOT NULL DEFAULT 0`,
				`UPDATE `+table+` SET reach = can_onsite + 2 * can_email + 4 * can_phone`); err != nil {
				return err
			}
		}
	}
	return nil
}

// columnsOf is the set of a table's columns (empty if there is no such
// table): one query a table, on every open.
func (s *Store) columnsOf(ctx context.Context, table string) (map[string]bool, error) {
	q := `SELECT name FROM pragma_table_info(?)`
	if s.dialect.Name() == "postgres" {
		q = `SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ?`
	}
	names, err := queryColumn[string](ctx, s, q, table)
	out := map[string]bool{}
	for _, n := range names {
		out[n] = true
	}
	return out, err
}

// addColumn adds a column a table lacks, then runs fill, in one
// transaction; another process doing the same meanwhile is no error.
func (s *Store) addColumn(ctx context.Context, table, column, def, fill string) error {
	err := s.inTx(ctx, func(t *tx) error {
		if _, err := t.exec(ctx, `ALTER TABLE `+table+` ADD COLUMN `+column+` `+def); err != nil {
			return err
		}
		if fill != "" {
			_, err := t.exec(ctx, fill)
			return err
		}
		return nil
	})
	if err != nil {
		if has, _ := s.hasColumn(ctx, table, column); has {
			return nil
		}
		return fmt.Errorf("add %s to %s: %w", column, table, err)
	}
	return nil
}
