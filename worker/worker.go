// Package worker builds the Temporal worker that hosts the billing workflows
// and activities. Every registration is here, in one place.
package worker

import (
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/workflows"
)

// Options tune the worker; zero values are the SDK's defaults.
type Options struct {
	MaxConcurrentActivities int
	MaxConcurrentWorkflows  int
	// Pollers is how many requests for workflow and for activity tasks are
	// kept open at once; more drains a burst of due renewals faster.
	Pollers int
}

// New returns a worker on taskQueue with every workflow, activity and custom
// step registered.
func New(c client.Client, taskQueue string, acts *activities.Activities, opts Options) sdkworker.Worker {
	w := sdkworker.New(c, taskQueue, sdkworker.Options{
		MaxConcurrentActivityExecutionSize:     opts.MaxConcurrentActivities,
		MaxConcurrentWorkflowTaskExecutionSize: opts.MaxConcurrentWorkflows,
		MaxConcurrentWorkflowTaskPollers:       opts.Pollers,
		MaxConcurrentActivityTaskPollers:       opts.Pollers,
	})
	w.RegisterWorkflow(workflows.SubscriptionWorkflow)
	w.RegisterActivity(acts)
	for _, s := range acts.Steps {
		if s.Run != nil {
			w.RegisterActivityWithOptions(s.Run, activity.RegisterOptions{Name: s.Name})
		}
	}
	return w
}
