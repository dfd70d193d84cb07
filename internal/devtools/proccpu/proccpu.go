// Package proccpu reads how much CPU time processes have used, from
// Linux's /proc, so a benchmark can say what each process of a cluster
// costs per message.
package proccpu

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// userHZ is the unit of /proc's CPU times: fixed at 100 by the kernel's
// ABI whatever the kernel's own tick rate.
const userHZ = 100

// Times is one process's CPU time: its own, and that of its children it
// has waited for (a PostgreSQL server's exited backends).
type Times struct {
	Own, Children time.Duration
}

// Of reads a process's CPU times.
func Of(pid int) (Times, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return Times{}, err
	}
	_, fields, err := parse(string(data))
	if err != nil {
		return Times{}, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return fields, nil
}

// parse reads a stat line: the command is in parentheses and may hold
// spaces, so fields are counted after its closing one.
func parse(line string) (comm string, t Times, err error) {
	open, end := strings.IndexByte(line, '('), strings.LastIndexByte(line, ')')
	if open < 0 || end < open {
		return "", Times{}, fmt.Errorf("no command in %q", line)
	}
	comm = line[open+1 : end]
	rest := strings.Fields(line[end+1:])
	// After the command: state (field 3) ... utime 14, stime 15, cutime 16, cstime 17.
	if len(rest) < 15 {
		return "", Times{}, fmt.Errorf("%d fields after the command, want at least 15", len(rest))
	}
	var ticks [4]int64
	for i := range ticks {
		if ticks[i], err = strconv.ParseInt(rest[11+i], 10, 64); err != nil {
			return "", Times{}, fmt.Errorf("field %d: %w", 14+i, err)
		}
	}
	tick := time.Second / userHZ
	return comm, Times{Own: time.Duration(ticks[0]+ticks[1]) * tick, Children: time.Duration(ticks[2]+ticks[3]) * tick}, nil
}

// Named sums the CPU time of every process whose command is comm, with the
// children they waited for: all of a PostgreSQL server's processes
// ("postgres"), including backends that exited, whose time their server
// collected when it reaped them.
func Named(comm string) (time.Duration, error) {
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		return 0, err
	}
	var total time.Duration
	for _, path := range stats {
		data, err := os.ReadFile(path)
		if err != nil {
			continue // exited since the listing
		}
		name, t, err := parse(string(data))
		if err != nil || name != comm {
			continue
		}
		total += t.Own + t.Children
	}
	return total, nil
}
