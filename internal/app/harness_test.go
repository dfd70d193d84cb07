package app

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stageTimeout is how long an end-to-end test waits for the plan to reach
// a stage: generous for a loaded CI machine, the same everywhere.
const stageTimeout = 90 * time.Second

// eventually polls check until it passes, and otherwise fails the test
// with what the last poll saw (each end-to-end wait goes through here).
func eventually(t testing.TB, poll time.Duration, check func(c *assert.CollectT)) {
	t.Helper()
	require.EventuallyWithT(t, check, stageTimeout, poll)
}
