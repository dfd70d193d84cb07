package store

import (
	"context"
	"path/filepath"
	"testing"
	"testing/fstest"

	"github.com/stretchr/testify/require"
)

func withMigration(name, sql string) fstest.MapFS {
	fsys := fstest.MapFS{}
	entries, _ := migrationFiles.ReadDir("migrations")
	for _, e := range entries {
		data, _ := migrationFiles.ReadFile("migrations/" + e.Name())
		fsys["migrations/"+e.Name()] = &fstest.MapFile{Data: data}
	}
	if name != "" {
		fsys["migrations/"+name] = &fstest.MapFile{Data: []byte(sql)}
	}
	return fsys
}

// A numbered migration runs once, on the next open, for its backend only;
// one that fails is not recorded, names its file, and leaves nothing of
// itself behind (it runs in a transaction).
func TestANumberedMigrationRunsOnceAndAllOrNothing(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "t.db"))
	require.NoError(t, err)
	defer s.Close()
	versions := func() []int {
		v, err := queryColumn[int](ctx, s, `SELECT version FROM schema_migrations ORDER BY version`)
		require.NoError(t, err)
		return v
	}
	shipped := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14}
	require.Equal(t, shipped, versions())

	next := withMigration("0015_notes.sql", "-- a note; with a semicolon\nCREATE TABLE notes (id {{id}}, body TEXT NOT NULL);\nINSERT INTO notes (body) VALUES ('first');\n")
	next["migrations/0016_postgres_only.postgres.sql"] = &fstest.MapFile{Data: []byte("CREATE TABLE pg_only (x INTEGER);")}
	require.NoError(t, s.migrateFrom(ctx, next))
	require.NoError(t, s.migrateFrom(ctx, next))
	n, err := queryColumn[int](ctx, s, `SELECT count(*) FROM notes`)
	require.NoError(t, err)
	require.Equal(t, []int{1}, n, "ran once")
	require.Equal(t, append(shipped, 15), versions(), "the postgres file is not SQLite's")

	bad := withMigration("0017_half.sql", "CREATE TABLE half (x INTEGER);\nINSERT INTO nowhere VALUES (1);\n")
	err = s.migrateFrom(ctx, bad)
	require.ErrorContains(t, err, "migration 0017_half.sql")
	require.ErrorContains(t, err, "nowhere")
	require.Equal(t, append(shipped, 15), versions())
	has, err := s.tablesNamed(ctx, "half")
	require.NoError(t, err)
	require.Zero(t, has, "the failed migration's first statement was rolled back")

	_, err = migrationsFor(withMigration("0003_again.sql", "SELECT 1;"), "sqlite")
	require.ErrorContains(t, err, "number 0003 is taken")
	_, err = migrationsFor(withMigration("5_loose.sql", "SELECT 1;"), "sqlite")
	require.ErrorContains(t, err, "migrations/5_loose.sql: want NNNN_name.sql")
}
