// Package app wires Tocsin's parts together: the all-in-one dev mode, the
// production API server and worker.
package app

import (
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/tocsin/tocsin/activities"
	"github.com/tocsin/tocsin/workflows"
)

// NewWorker registers every workflow and activity on the task queue.
func NewWorker(c client.Client, acts *activities.Activities) worker.Worker {
	w := worker.New(c, workflows.TaskQueue, worker.Options{})
	w.RegisterWorkflow(workflows.IncidentWorkflow)
	w.RegisterWorkflow(workflows.DrillWorkflow)
	w.RegisterWorkflow(workflows.NotifyWorkflow)
	w.RegisterActivity(acts)
	return w
}
