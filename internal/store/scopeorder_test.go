package store

import (
	"bytes"
	"context"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/inventory/synth"
)

// An import notes whether its file listed people in ascending ID order,
// byte by byte as SQLite compares text, and scoping sorts the others
// before filling the affected table: the same people come out whatever
// the file's order.
func TestScopingFindsTheSamePeopleWhateverTheFilesOrder(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "t.db"))
	require.NoError(t, err)
	defer s.Close()
	withChunks(t, 700, nil) // the shuffled file loads over its own connection too

	scope := func(name string, people string) (ascending int, affected []AffectedSubject) {
		res, err := s.ImportInventory(ctx, ImportInput{SystemsFile: "systems.yaml", Systems: strings.NewReader(synth.Systems),
			SubjectsFile: name, Subjects: strings.NewReader(people)})
		require.NoError(t, err, name)
		require.NoError(t, s.db.QueryRowContext(ctx, `SELECT ids_ascending FROM snapshots WHERE id=?`, res.Snapshot).Scan(&ascending))
		id := "INC-" + strings.ToUpper(strings.TrimSuffix(name, ".csv"))
		require.NoError(t, s.CreateIncident(ctx, Incident{ID: id, Title: name, OpenedBy: "r", OpenedAt: time.Now()}, nil))
		_, err = s.Scope(ctx, ScopeInput{IncidentID: id, Snapshot: res.Snapshot, Systems: []string{synth.LeakedSystem}, Year: 2026})
		require.NoError(t, err, name)
		affected, err = s.AffectedPage(ctx, id, "", 5000)
		require.NoError(t, err)
		return ascending, affected
	}
	write := func(o synth.Options) string {
		var b bytes.Buffer
		require.NoError(t, synth.WriteSubjects(&b, o))
		return b.String()
	}

	inOrder, want := scope("sorted.csv", write(synth.Options{Subjects: 2000, ScopeShare: 0.3, Seed: 1}))
	require.Equal(t, 1, inOrder)
	require.Greater(t, len(want), 400)
	lines := strings.SplitAfter(write(synth.Options{Subjects: 2000, ScopeShare: 0.3, Seed: 1}), "\n")
	people := lines[1 : len(lines)-1]
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(people), func(i, j int) { people[i], people[j] = people[j], people[i] })
	shuffled, got := scope("shuffled.csv", lines[0]+strings.Join(people, ""))
	require.Equal(t, 0, shuffled)
	require.Equal(t, want, got)
	// p9 then p10: ascending as numbers, not as text.
	numbered, _ := scope("numbered.csv", "subject_id,name,email,phone,onsite_id,locale,region,birth_year,systems\n"+
		"p9,,p9@example.com,,,en,SG,1990,"+synth.LeakedSystem+"\np10,,p10@example.com,,,en,SG,1990,"+synth.LeakedSystem+"\n")
	require.Equal(t, 0, numbered)
}
