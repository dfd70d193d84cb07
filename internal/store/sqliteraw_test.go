package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// A SQLite load writes through a connection of its own (rawConn), binding
// each row's text from one reused buffer: every value must arrive as it was
// given, an empty string as ” (not NULL), text in any script, integers of
// each width the import produces, and a nil as NULL.
func TestARawLoadKeepsEveryValueAsBound(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	s, err := Open(path)
	require.NoError(t, err)
	defer s.Close()
	ctx := context.Background()
	_, err = s.db.ExecContext(ctx, `CREATE TABLE loaded (a TEXT NOT NULL, b TEXT NOT NULL, n INTEGER, m INTEGER NOT NULL, note TEXT)`)
	require.NoError(t, err)
	raw, err := openRaw(path)
	require.NoError(t, err)
	defer raw.close()
	insert, err := raw.prepare(`INSERT INTO loaded VALUES (?,?,?,?,?)`)
	require.NoError(t, err)
	defer insert.finalize()
	long := strings.Repeat("長い名前 ", 2000) // past the buffer's first size
	rows := [][]any{
		{"", "", int64(0), 0, nil},
		{"Łódź", "東京都", int64(1) << 40, int32(-7), "x"},
		{long, "after the long one", int64(3), 3, ""},
		{"a", "", int64(4), 4, "short again"},
	}
	require.NoError(t, raw.exec("BEGIN IMMEDIATE"))
	src := &boxedRows{rows: rows}
	for src.Next() { // boxed, as a source other than the subjects' gives them
		row, err := unboxed(src, nil)
		require.NoError(t, err)
		require.NoError(t, insert.insert(row))
	}
	// Unboxed, as the subjects' source gives them.
	require.NoError(t, insert.insert([]loadValue{textOf("typed"), textOf(""), intOf(-1 << 40), intOf(5), {}}))
	require.NoError(t, raw.exec("COMMIT"))

	got, err := s.db.QueryContext(ctx, `SELECT a, b, n, m, note IS NULL, coalesce(note, '') FROM loaded ORDER BY rowid`)
	require.NoError(t, err)
	defer got.Close()
	var seen [][]any
	for got.Next() {
		var a, b, note string
		var n, m int64
		var null bool
		require.NoError(t, got.Scan(&a, &b, &n, &m, &null, &note))
		seen = append(seen, []any{a, b, n, m, null, note})
	}
	require.NoError(t, got.Err())
	require.Equal(t, [][]any{
		{"", "", int64(0), int64(0), true, ""},
		{"Łódź", "東京都", int64(1) << 40, int64(-7), false, "x"},
		{long, "after the long one", int64(3), int64(3), false, ""},
		{"a", "", int64(4), int64(4), false, "short again"},
		{"typed", "", int64(-1 << 40), int64(5), true, ""},
	}, seen)
}

// boxedRows is a rowSource of values in interfaces.
type boxedRows struct {
	rows [][]any
	at   int
}

func (b *boxedRows) Next() bool             { b.at++; return b.at <= len(b.rows) }
func (b *boxedRows) Values() ([]any, error) { return b.rows[b.at-1], nil }
func (b *boxedRows) Err() error             { return nil }

// What SQLite refuses, and what the load cannot bind, comes back as an
// error naming it, not as a row written wrong.
func TestARawLoadNamesWhatItCannotWrite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.db")
	s, err := Open(path)
	require.NoError(t, err)
	defer s.Close()
	_, err = s.db.Exec(`CREATE TABLE loaded (a TEXT NOT NULL)`)
	require.NoError(t, err)
	_, err = openRaw(filepath.Join(t.TempDir(), "gone", "t.db"))
	require.ErrorContains(t, err, "unable to open database file")
	raw, err := openRaw(path)
	require.NoError(t, err)
	defer raw.close()
	_, err = raw.prepare(`INSERT INTO missing VALUES (?)`)
	require.ErrorContains(t, err, "no such table: missing")
	insert, err := raw.prepare(`INSERT INTO loaded VALUES (?)`)
	require.NoError(t, err)
	defer insert.finalize()
	src := &boxedRows{rows: [][]any{{1.5}}}
	require.True(t, src.Next())
	_, err = unboxed(src, nil)
	require.ErrorContains(t, err, "parameter 1: cannot bind a float64")
	require.ErrorContains(t, insert.insert([]loadValue{{}}), "NOT NULL constraint failed: loaded.a")
}

// A store no other connection can open (in memory) loads through its own
// connection, a chunk per transaction, as before.
func TestAnInMemoryStoreStillImports(t *testing.T) {
	s, err := Open(":memory:")
	require.NoError(t, err)
	defer s.Close()
	withChunks(t, 100, nil)
	res, err := s.ImportInventory(context.Background(), ImportInput{SystemsFile: "systems.yaml", Systems: strings.NewReader(chunkSystems),
		SubjectsFile: "subjects.csv", Subjects: strings.NewReader(chunkPeople(250, 0))})
	require.NoError(t, err)
	require.EqualValues(t, 250, res.Subjects)
	emails, err := queryColumn[string](context.Background(), s, `SELECT email FROM `+subjectsTable(res.Snapshot)+` WHERE subject_id='p250'`)
	require.NoError(t, err)
	require.Equal(t, []string{"p250@example.com"}, emails)
}

// An import's unique index sorts more IDs than the cache holds; the store's
// connection lets SQLite sort those runs on helper threads, which the
// modernc build supports only if it was compiled with worker threads.
func TestTheStoreSortsOnHelperThreads(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "t.db"))
	require.NoError(t, err)
	defer s.Close()
	var threads int
	require.NoError(t, s.db.QueryRowContext(context.Background(), "PRAGMA threads").Scan(&threads))
	require.Equal(t, sortThreads, threads)
}
