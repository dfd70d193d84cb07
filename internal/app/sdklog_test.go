package app

import (
	"bytes"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/require"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"

	"github.com/tocsin/tocsin/activities"
)

// A batch retried because legal paused the campaign is no error in the
// worker's log; one retried because a channel is misconfigured still is.
func TestAPausedBatchIsNoErrorInTheLog(t *testing.T) {
	var buf bytes.Buffer
	sdk := sdklog.NewStructuredLogger(quiet(slog.New(slog.NewTextHandler(&buf, nil))))
	sdk.Error("Activity error.", "ActivityType", "SendBatch", "Error", temporal.NewApplicationError("campaign paused by legal", activities.ErrPaused))
	require.Empty(t, buf.String(), "the quiet SDK log drops it with the other Info lines")
	sdk.Error("Activity error.", "ActivityType", "SendBatch", "Error", temporal.NewApplicationError("email held", activities.ErrChannelHeld))
	require.Contains(t, buf.String(), "level=ERROR")
	require.Contains(t, buf.String(), "email held")

	buf.Reset()
	verbose := slog.New(pausedAttempts{slog.NewTextHandler(&buf, nil)})
	verbose.Error("Activity error.", "Error", temporal.NewApplicationError("campaign paused by legal", activities.ErrPaused))
	require.Contains(t, buf.String(), "level=INFO")
	require.Contains(t, buf.String(), "campaign paused by legal")
}
