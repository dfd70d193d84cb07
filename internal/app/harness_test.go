package app

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/tocsin/tocsin/internal/api"
	"github.com/tocsin/tocsin/internal/client"
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

// openIncident opens an incident from the text of its file as c and
// returns its ID.
func openIncident(t testing.TB, c *client.Client, yaml string) string {
	t.Helper()
	var opened map[string]string
	require.NoError(t, c.Do(context.Background(), "POST", "/api/v1/incidents", api.OpenRequest{File: "incident.yaml", YAML: yaml}, &opened))
	return opened["id"]
}
