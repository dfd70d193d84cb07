package activities

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"sync"
	"time"

	"go.temporal.io/sdk/activity"

	"github.com/tocsin/tocsin/internal/senders"
	"github.com/tocsin/tocsin/internal/store"
)

// ClaimLease is how long a claim stays an attempt's without renewal. It
// outlasts the longest provider call (the SMTP transaction's timeout) plus
// two renewals: an attempt that was cancelled, or lost Temporal, may still be
// inside a send for that long, and nobody may take its claims meanwhile.
const ClaimLease = senders.SMTPTimeout + 15*time.Second

// renewEvery is how often a batch renews the leases of the chunk it sends.
const renewEvery = 5 * time.Second

// attemptOwner names this activity attempt in the ledger: the run, the
// activity and the attempt number, so a retry is never taken for its
// predecessor.
func attemptOwner(ctx context.Context) string {
	if activity.IsActivity(ctx) {
		info := activity.GetInfo(ctx)
		return fmt.Sprintf("%s/%s/%s#%d", info.WorkflowExecution.ID, info.WorkflowExecution.RunID, info.ActivityID, info.Attempt)
	}
	b := make([]byte, 8)
	rand.Read(b)
	return "local-" + hex.EncodeToString(b)
}

// leaseKeeper renews, while the batch runs, the leases of the chunk being
// sent.
type leaseKeeper struct {
	store *store.Store
	owner string
	mu    sync.Mutex
	held  []store.Delivery
	// reached are the lapsed attempts whose e-mail in flight, if any, this
	// attempt has already accounted for.
	reached map[string]bool
}

// accounted reports whether a lapsed owner's possibly-sent e-mail was
// already met, and marks it met.
func (k *leaseKeeper) accounted(owner string) bool {
	if k.reached == nil {
		k.reached = map[string]bool{}
	}
	seen := k.reached[owner]
	k.reached[owner] = true
	return seen
}

func (k *leaseKeeper) lease() store.Lease {
	return store.Lease{Owner: k.owner, Until: time.Now().Add(ClaimLease)}
}

func (k *leaseKeeper) hold(ds []store.Delivery) {
	k.mu.Lock()
	k.held = ds
	k.mu.Unlock()
}

// run renews until ctx ends. It stops with the attempt's context: after
// that the claims lapse within ClaimLease, by when any send still in flight
// has returned. A failed renewal is retried on the next tick; the lease is
// long enough to miss a few.
func (k *leaseKeeper) run(ctx context.Context) (stop func()) {
	return every(ctx, renewEvery, func() {
		k.mu.Lock()
		held := k.held
		k.mu.Unlock()
		_ = k.store.RenewLeases(ctx, held, k.lease())
	})
}

// awaitClaim waits while another attempt's lease on d is live, and returns
// the row as it then is: finished by that attempt, or lapsed.
func (a *Activities) awaitClaim(ctx context.Context, d store.Delivery) (store.Delivery, error) {
	for d.Live(time.Now()) {
		select {
		case <-ctx.Done():
			return d, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
		var err error
		if d, err = a.Store.GetDelivery(ctx, d.IncidentID, d.SubjectID, d.Channel); err != nil {
			return d, err
		}
	}
	return d, nil
}
