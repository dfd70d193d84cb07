package app

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tocsin/tocsin/internal/devtools/proccpu"
)

// driver names the benchmark's own process in a CPU table: it steers the
// incident (the autopilot's polling) and runs the plain loop.
const driver = "benchmark (autopilot; the plain loop)"

// cpuNow reads the CPU time each process of the cluster has used so far,
// PostgreSQL's (every postgres process, with the backends that exited)
// and the benchmark's own.
func (c *tempCluster) cpuNow(tb testing.TB) map[string]time.Duration {
	tb.Helper()
	out := map[string]time.Duration{}
	for _, p := range c.all {
		if p.cmd == nil {
			continue
		}
		t, err := proccpu.Of(p.cmd.Process.Pid)
		require.NoError(tb, err, p.name)
		name := "tocsin " + p.name
		if c.services[p.name] == p {
			name = "temporal " + p.name
		}
		out[name] = t.Own
	}
	pg, err := proccpu.Named("postgres")
	require.NoError(tb, err)
	out["postgresql"] = pg
	self, err := proccpu.Of(os.Getpid())
	require.NoError(tb, err)
	out[driver] = self.Own
	return out
}

// cpuSpent is what each process used between two readings.
func cpuSpent(before, after map[string]time.Duration) map[string]time.Duration {
	out := map[string]time.Duration{}
	for name, t := range after {
		out[name] = t - before[name]
	}
	return out
}

// cpuTable writes CPU milliseconds per message for each process, the
// busiest first, and their total.
func cpuTable(spent map[string]time.Duration, messages int) (table string, totalMS float64) {
	names := make([]string, 0, len(spent))
	for name := range spent {
		names = append(names, name)
	}
	slices.SortFunc(names, func(a, b string) int { return int(spent[b] - spent[a]) })
	var b strings.Builder
	var total time.Duration
	for _, name := range names {
		total += spent[name]
		fmt.Fprintf(&b, "  %-40s %7.2f CPU-s  %6.3f CPU-ms/message\n", name, spent[name].Seconds(), perMessageMS(spent[name], messages))
	}
	fmt.Fprintf(&b, "  %-40s %7.2f CPU-s  %6.3f CPU-ms/message\n", "all", total.Seconds(), perMessageMS(total, messages))
	return b.String(), perMessageMS(total, messages)
}

func perMessageMS(d time.Duration, messages int) float64 {
	return float64(d.Microseconds()) / 1000 / float64(max(messages, 1))
}

func TestACPUTableSaysWhatEachProcessSpentPerMessage(t *testing.T) {
	before := map[string]time.Duration{"worker-1": time.Second, "postgresql": 2 * time.Second}
	after := map[string]time.Duration{"worker-1": 3 * time.Second, "postgresql": 3 * time.Second, "frontend": 500 * time.Millisecond}
	table, total := cpuTable(cpuSpent(before, after), 1000)
	require.InDelta(t, 3.5, total, 0.0001, "3.5 CPU-s over 1,000 messages")
	lines := strings.Split(strings.TrimSpace(table), "\n")
	require.Len(t, lines, 4)
	require.Contains(t, lines[0], "worker-1")
	require.Contains(t, lines[0], "2.000 CPU-ms/message", "the busiest first")
	require.Contains(t, lines[3], "all")
}
