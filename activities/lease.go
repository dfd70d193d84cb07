package activities

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
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

// leaseKeeper renews, while the batch runs, the leases of the chunks its
// lanes are sending, each under the lane's own owner.
type leaseKeeper struct {
	store *store.Store
	owner string
	mu    sync.Mutex
	held  map[string][]store.Delivery // by lane owner
	// lo and hi bound the subjects of the batch's plan, where a lapsed
	// attempt of the same batch held its claims.
	lo, hi string
	// firstMu guards first: a lapsed owner's first e-mail neither recorded
	// nor marked in doubt, by owner and channel, found before any of its
	// claims is taken over.
	firstMu sync.Mutex
	first   map[[2]string]string
}

// lane is one of a batch's senders: it sends its chunks one message at a
// time, so at most one of its e-mails is ever in flight, and its claims
// carry its own owner.
type lane struct {
	k     *leaseKeeper
	owner string
}

func (k *leaseKeeper) lane(i int) *lane {
	return &lane{k: k, owner: fmt.Sprintf("%s/%d", k.owner, i)}
}

func (l *lane) lease() store.Lease {
	return store.Lease{Owner: l.owner, Until: time.Now().Add(ClaimLease)}
}

func (l *lane) hold(ds []store.Delivery) {
	l.k.mu.Lock()
	defer l.k.mu.Unlock()
	if l.k.held == nil {
		l.k.held = map[string][]store.Delivery{}
	}
	if ds == nil {
		delete(l.k.held, l.owner)
		return
	}
	l.k.held[l.owner] = ds
}

// neverTried says whether a lapsed attempt's unrecorded e-mail was never
// handed to the relay. A lane sends its chunk in subject order and records
// each e-mail before the next, so of its owner's e-mails neither recorded
// nor marked in doubt only the first can have been taken by the relay; it
// never tried the others. It must be asked before the claim is taken over
// (which changes the row's owner).
func (k *leaseKeeper) neverTried(ctx context.Context, d store.Delivery) (bool, error) {
	k.firstMu.Lock()
	defer k.firstMu.Unlock()
	if k.first == nil {
		k.first = map[[2]string]string{}
	}
	key := [2]string{d.Owner, d.Channel}
	first, ok := k.first[key]
	if !ok {
		var err error
		if first, err = k.store.FirstUnsettled(ctx, d.IncidentID, d.Owner, d.Channel, k.lo, k.hi); err != nil {
			return false, err
		}
		k.first[key] = first
	}
	return d.SubjectID != first, nil
}

// run renews until ctx ends. It stops with the attempt's context: after
// that the claims lapse within ClaimLease, by when any send still in flight
// has returned. A failed renewal is retried on the next tick; the lease is
// long enough to miss a few.
func (k *leaseKeeper) run(ctx context.Context) (stop func()) {
	return every(ctx, renewEvery, func() {
		k.mu.Lock()
		held := maps.Clone(k.held)
		k.mu.Unlock()
		renewHeld(ctx, k.store, held)
	})
}

// renewHeld extends, for each owner, the leases of the claims it holds by
// ClaimLease. A renewal that fails is left to the next tick: the lease
// outlasts several.
func renewHeld(ctx context.Context, st *store.Store, held map[string][]store.Delivery) {
	for owner, ds := range held {
		_ = st.RenewLeases(ctx, ds, store.Lease{Owner: owner, Until: time.Now().Add(ClaimLease)})
	}
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
