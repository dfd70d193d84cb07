// Package app wires Tocsin's parts together: the all-in-one dev mode, the
// production API server and worker.
package app

import (
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/tocsin/tocsin/activities"
	"github.com/tocsin/tocsin/workflows"
)

// NewWorker registers every workflow and activity on the task queue; the
// incident workflow verifies signed updates with actorKeys.
func NewWorker(c client.Client, acts *activities.Activities, actorKeys ...[]byte) worker.Worker {
	return newWorkerWith(c, acts, actorKeys, worker.Options{})
}

// stopGrace is how long a stopping production worker lets the sends in
// its hands finish (an SMTP transaction may take its 30 s timeout) before
// they are cancelled and left to their leases; deploy's Kubernetes grace
// period is longer.
const stopGrace = 40 * time.Second

func newWorkerWith(c client.Client, acts *activities.Activities, actorKeys [][]byte, opts worker.Options) worker.Worker {
	w := worker.New(c, workflows.TaskQueue, opts)
	workflows.Incidents{ActorKeys: actorKeys}.Register(w)
	w.RegisterWorkflow(workflows.DrillWorkflow)
	w.RegisterWorkflow(workflows.NotifyWorkflow)
	w.RegisterActivity(acts)
	return w
}
