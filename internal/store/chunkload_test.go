package store

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const chunkSystems = "systems:\n  - id: crm\n    name: CRM\n    location: SG\n    categories: [contact.email]\n"

func chunkPeople(n int, dupAt int) string {
	var b strings.Builder
	b.WriteString("subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems\n")
	for i := 1; i <= n; i++ {
		id := i
		if i == dupAt {
			id = 1
		}
		fmt.Fprintf(&b, "p%d,,p%d@example.com,,,en,SG,1990,crm\n", id, i)
	}
	return b.String()
}

func withChunks(t *testing.T, rows int, each func()) {
	rowsBefore, hookBefore := loadChunkRows, chunkCommitted
	loadChunkRows, chunkCommitted = rows, each
	t.Cleanup(func() { loadChunkRows, chunkCommitted = rowsBefore, hookBefore })
}

// A SQLite import commits its people a chunk at a time, and between two
// chunks the store's one connection serves the server's other calls: a
// running campaign's ledger, the console and the providers' receipts wait
// for a chunk, not for the whole import (a minute at 10 million people).
func TestALongImportLetsOtherCallsThroughBetweenChunks(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "t.db"))
	require.NoError(t, err)
	defer s.Close()
	ctx := context.Background()
	served := 0
	withChunks(t, 100, func() {
		done := make(chan error, 1)
		go func() {
			_, _, err := s.PauseCampaign(ctx, fmt.Sprintf("INC-%d", served), Pause{By: "legal@example.com", Reason: "wording", At: time.Now()})
			done <- err
		}()
		select {
		case err := <-done:
			require.NoError(t, err)
			served++
		case <-time.After(10 * time.Second):
			t.Error("a call made between two chunks waited for the import")
		}
	})
	res, err := s.ImportInventory(ctx, ImportInput{SystemsFile: "systems.yaml", Systems: strings.NewReader(chunkSystems),
		SubjectsFile: "subjects.csv", Subjects: strings.NewReader(chunkPeople(1000, 0))})
	require.NoError(t, err)
	require.EqualValues(t, 1000, res.Subjects)
	require.Equal(t, 12, served, "a call after each of the 1,000 rows' ten chunks, and after each of the two indexes")
	n, err := queryColumn[int](ctx, s, `SELECT count(*) FROM `+subjectsTable(res.Snapshot))
	require.NoError(t, err)
	require.Equal(t, []int{1000}, n)
}

// An import refused after some of its chunks were committed keeps nothing:
// its people's table is dropped, and the current snapshot stays current.
func TestARefusedImportDropsTheChunksItCommitted(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "t.db"))
	require.NoError(t, err)
	defer s.Close()
	ctx := context.Background()
	first, err := s.ImportInventory(ctx, ImportInput{SystemsFile: "systems.yaml", Systems: strings.NewReader(chunkSystems),
		SubjectsFile: "subjects.csv", Subjects: strings.NewReader(chunkPeople(10, 0))})
	require.NoError(t, err)

	chunks := 0
	withChunks(t, 100, func() { chunks++ })
	_, err = s.ImportInventory(ctx, ImportInput{SystemsFile: "systems.yaml", Systems: strings.NewReader(chunkSystems),
		SubjectsFile: "subjects.csv", Subjects: strings.NewReader(chunkPeople(1000, 950))})
	var bad *ImportError
	require.ErrorAs(t, err, &bad)
	require.Contains(t, bad.Error(), `subjects.csv:951: subject_id: duplicate subject "p1" (first on line 2)`)
	require.Equal(t, 10, chunks, "every chunk was committed before the index found the duplicate")

	cur, err := s.CurrentSnapshot(ctx)
	require.NoError(t, err)
	require.Equal(t, first.Snapshot, cur)
	snaps, err := s.Snapshots(ctx)
	require.NoError(t, err)
	require.Len(t, snaps, 1)
	has, err := s.tablesNamed(ctx, subjectsTable(first.Snapshot+1))
	require.NoError(t, err)
	require.Zero(t, has, "the refused import's people are dropped")
}

// An import the process died in left its committed chunks; a prune drops
// them once they are a day old (an import still running is never that
// old), and leaves a younger one alone.
func TestAPruneDropsAnImportAbandonedADayAgo(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "t.db"))
	require.NoError(t, err)
	defer s.Close()
	ctx := context.Background()
	for _, at := range []time.Time{time.Now().Add(-25 * time.Hour), time.Now().Add(-time.Hour)} {
		var id int64
		require.NoError(t, s.queryRow(ctx, `INSERT INTO snapshots (imported_at, imported_by, systems_file, subjects_file, systems, subjects) VALUES (?,'','','',0,0) RETURNING id`, formatTime(at)).Scan(&id))
		_, err := s.exec(ctx, s.createSubjectsTable(subjectsTable(id)))
		require.NoError(t, err)
	}
	dropped, err := s.PruneSnapshots(ctx)
	require.NoError(t, err)
	require.Equal(t, []int64{1}, dropped)
	has, err := s.tablesNamed(ctx, subjectsTable(1), subjectsTable(2))
	require.NoError(t, err)
	require.Equal(t, 1, has, "the import an hour old may still be running")
}
