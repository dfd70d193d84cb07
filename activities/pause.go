package activities

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/tocsin/tocsin/internal/store"
)

// pauseRecheck is how long a paused batch waits before Temporal tries it
// again: a resumed campaign sends again within it.
const pauseRecheck = 5 * time.Second

// holdRecheck is the same for a law-enforcement hold, which ends on its
// own: lifted early, its batches go on within this.
const holdRecheck = 30 * time.Second

// defaultPauseFreshness is how old a batch's knowledge of a pause may be
// (Activities.PauseFreshness): a pause stops new sends within it.
const defaultPauseFreshness = time.Second

// errCampaignPaused ends a chunk whose campaign was paused: nothing of it
// was sent from the point it ended.
var errCampaignPaused = errors.New("campaign paused")

// pauseWatch is one batch's view of whether legal or an admin paused the
// incident's campaign (tocsin incident pause), read from the store at
// most once per pauseFreshness.
type pauseWatch struct {
	mu         sync.Mutex // the batch's lanes share it
	a          *Activities
	incidentID string
	checked    time.Time
	pause      store.Pause
	is         bool
}

func (w *pauseWatch) paused(ctx context.Context) (bool, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if time.Since(w.checked) < cmp.Or(w.a.PauseFreshness, defaultPauseFreshness) {
		return w.is, nil
	}
	p, is, err := w.a.Store.CampaignPaused(ctx, w.incidentID)
	if err != nil {
		return false, err
	}
	w.pause, w.is, w.checked = p, is, time.Now()
	return is, nil
}

// err is the paused batch's failure, for Temporal to retry until resumed.
func (w *pauseWatch) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	delay := pauseRecheck
	if !w.pause.Until.IsZero() {
		// A hold lasts hours or days: look again less often, and at its end.
		delay = min(max(time.Until(w.pause.Until), time.Second), holdRecheck)
	}
	return temporal.NewApplicationErrorWithOptions(fmt.Sprintf("campaign paused since %s; `tocsin incident resume %s` resumes it", w.pause.At.UTC().Format(time.RFC3339), w.incidentID),
		ErrPaused, temporal.ApplicationErrorOptions{NextRetryDelay: delay})
}

// onlyPaused says whether a stopped chunk's error is the pause alone (its
// records all written).
func onlyPaused(err error) bool {
	return onlyCause(err, errCampaignPaused)
}
