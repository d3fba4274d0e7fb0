package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tempobill/billing/activities"
)

// RedeliveryScheduleID is the Temporal schedule that starts
// RedeliverNoticesWorkflow every RedeliveryInterval: visible and pausable in
// the Temporal UI (Schedules).
const (
	RedeliveryScheduleID = "notice-redelivery"
	RedeliveryInterval   = time.Minute
)

// RedeliverNoticesInput is one run of the redelivery schedule.
type RedeliverNoticesInput struct {
	// Limit is how many notices one run sends at most (100 when 0).
	Limit int
}

// RedeliverNoticesWorkflow sends again the notices that are due: failed
// ones, and emails whose outcome is unknown (same Message-ID), until their
// horizon; it expires those past it. One run, one activity.
func RedeliverNoticesWorkflow(ctx workflow.Context, in RedeliverNoticesInput) (activities.RedeliverResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 2 * time.Minute,
		HeartbeatTimeout:    activities.HeartbeatTimeout,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 5 * time.Second, MaximumAttempts: 3},
		Summary:             "send due notices again",
	})
	var res activities.RedeliverResult
	err := workflow.ExecuteActivity(ctx, a.RedeliverNotices, activities.RedeliverInput{Limit: in.Limit}).Get(ctx, &res)
	return res, err
}
