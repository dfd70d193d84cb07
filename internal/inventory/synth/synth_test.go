package synth

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

func ids(t *testing.T, o Options) []string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, WriteSubjects(&b, o))
	rows, err := csv.NewReader(&b).ReadAll()
	require.NoError(t, err)
	var out []string
	for _, r := range rows[1:] {
		out = append(out, r[0])
	}
	return out
}

// A shuffled inventory gives out the same IDs, each once, in no order;
// the default keeps them ascending.
func TestAShuffledInventoryHasEveryoneOnceOutOfOrder(t *testing.T) {
	for _, n := range []int{1000, 4096} {
		want := make([]string, n)
		for i := range want {
			want[i] = fmt.Sprintf("s%010d", i)
		}
		require.Equal(t, want, ids(t, Options{Subjects: n, Seed: 1}), "ascending, %d", n)
		got := ids(t, Options{Subjects: n, Seed: 1, Shuffled: true})
		require.False(t, slices.IsSorted(got), "shuffled, %d", n)
		slices.Sort(got)
		require.Equal(t, want, got, "shuffled, %d", n)
	}
}
