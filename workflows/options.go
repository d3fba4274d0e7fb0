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

// localOptions: a local activity runs in the worker that runs the workflow
// task, and is recorded as one marker in that task's completion instead of
// the six events (and an extra workflow task) of an ordinary activity. The
// SDK heartbeats the workflow task while it runs, so a slow one (a mail
// server taking its time) is fine up to startToClose; a worker killed
// meanwhile runs it again from the last workflow task, which the idempotency
// keys make safe (the charge's, the notices' dedup keys, the schedule's
// version). attempts 0: retry until it succeeds.
func localOptions(ctx workflow.Context, summary string, startToClose time.Duration, attempts int32) workflow.Context {
	return workflow.WithLocalActivityOptions(ctx, workflow.LocalActivityOptions{
		StartToCloseTimeout: startToClose,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: time.Minute, MaximumAttempts: attempts},
		Summary: summary,
	})
}

// short runs a short database activity: a local one in runs of the
// cycle-cost change, an ordinary one in runs recorded before it.
func (w *subscription) short(ctx workflow.Context, summary string, fn, in any) workflow.Future {
	if w.cheap {
		return workflow.ExecuteLocalActivity(localOptions(ctx, summary, 30*time.Second, 0), fn, in)
	}
	return workflow.ExecuteActivity(activityOptions(ctx, summary), fn, in)
}
