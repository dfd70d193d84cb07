package proccpu

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestAStatLineIsReadPastACommandWithSpaces(t *testing.T) {
	comm, times, err := parse("4242 (my (odd) cmd) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 7 3 20 0 1 0 100 0 0")
	require.NoError(t, err)
	require.Equal(t, "my (odd) cmd", comm)
	require.Equal(t, 3*time.Second, times.Own, "250 + 50 ticks")
	require.Equal(t, 100*time.Millisecond, times.Children, "7 + 3 ticks")
	_, _, err = parse("4242 (short) S 1 2")
	require.ErrorContains(t, err, "fields after the command")
}

// A process that spins shows its CPU time, and its parent counts it among
// its children's once it has waited for it.
func TestABusyProcessShowsItsCPUTime(t *testing.T) {
	before, err := Of(os.Getpid())
	require.NoError(t, err)
	spin := exec.Command("sh", "-c", "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done")
	require.NoError(t, spin.Start())
	pid := spin.Process.Pid
	require.NoError(t, spin.Wait())
	after, err := Of(os.Getpid())
	require.NoError(t, err)
	require.Greater(t, after.Children, before.Children, "the shell (%d) ran on a CPU for a while", pid)
	_, err = Of(pid)
	require.Error(t, err, "gone once waited for")
	sum, err := Named("proccpu.test")
	require.NoError(t, err)
	require.GreaterOrEqual(t, sum, after.Own)
}
