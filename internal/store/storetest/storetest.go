// Package storetest opens a fresh store on every backend a test should cover:
// SQLite always, PostgreSQL when TOCSIN_TEST_POSTGRES names a server (each
// test gets its own schema, dropped afterwards). CI sets
// TOCSIN_REQUIRE_POSTGRES=1 so that a missing server fails instead of skipping.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver

	"github.com/tocsin/tocsin/internal/store"
)

// Backends lists the store backends this run covers, by name.
func Backends(t testing.TB) []string {
	out := []string{"sqlite"}
	if os.Getenv("TOCSIN_TEST_POSTGRES") != "" {
		out = append(out, "postgres")
	} else if os.Getenv("TOCSIN_REQUIRE_POSTGRES") == "1" {
		t.Fatal("TOCSIN_REQUIRE_POSTGRES=1 but TOCSIN_TEST_POSTGRES is not set")
	}
	return out
}

// Each runs f once per backend as a subtest, each with an empty store.
func Each(t *testing.T, f func(t *testing.T, s *store.Store)) {
	for _, b := range Backends(t) {
		t.Run(b, func(t *testing.T) { f(t, Open(t, b)) })
	}
}

// Open returns an empty store of the named backend, closed at the end of the test.
func Open(t testing.TB, backend string) *store.Store {
	t.Helper()
	dsn := DSN(t, backend)
	s, err := store.Open(dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// DSN returns a connection string for an empty database of the backend.
func DSN(t testing.TB, backend string) string {
	t.Helper()
	if backend == "sqlite" {
		return filepath.Join(t.TempDir(), "tocsin.db")
	}
	base := os.Getenv("TOCSIN_TEST_POSTGRES")
	if base == "" {
		t.Skip("PostgreSQL tests need TOCSIN_TEST_POSTGRES=postgres://... (.ci/run sets it)")
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "test_" + hex.EncodeToString(b)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		t.Fatalf("create test schema on %s: %v", base, err)
	}
	t.Cleanup(func() {
		admin.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		admin.Close()
	})
	dsn, err := store.InSchema(base, schema)
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}
