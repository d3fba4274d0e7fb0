package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tempobill/billing/activities"
)

// activityOptions: activities that touch money or send messages retry until
// they succeed; their idempotency keys make every retry safe.
func activityOptions(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		HeartbeatTimeout:    activities.HeartbeatTimeout, // a lost worker costs seconds
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: time.Minute},
		Summary: summary,
	})
}

// noticeOptions: SendNotices records every send's outcome itself and leaves
// what failed to the redelivery schedule, so its retries are only for a
// lost worker or database; it heartbeats, so a lost worker costs seconds.
func noticeOptions(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		HeartbeatTimeout:    activities.HeartbeatTimeout,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: time.Minute, MaximumAttempts: 10},
		Summary: summary,
	})
}

// bestEffortOptions: custom steps get ten attempts (about ten minutes), then
// the workflow records the failure and goes on; a broken webhook must not
// stop billing. (Custom steps don't heartbeat: no heartbeat timeout.)
func bestEffortOptions(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: time.Minute, MaximumAttempts: 10},
		Summary: summary,
	})
}
