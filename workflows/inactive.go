package workflows

import (
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tempobill/billing/activities"
)

// InactiveClientsScheduleID is the Temporal schedule that starts
// InactiveClientsWorkflow every InactiveClientsInterval: visible and
// pausable in the Temporal UI (Schedules). It does nothing while the setting
// delete_inactive_clients_days is 0.
const (
	InactiveClientsScheduleID = "inactive-clients"
	InactiveClientsInterval   = time.Hour
)

// InactiveClientsInput is one run of the inactive-clients schedule.
type InactiveClientsInput struct {
	// Limit is how many customers one run looks at (500 when 0).
	Limit int
}

// InactiveClientsResult counts what a run did; Failed customers are looked
// at again by the next run.
type InactiveClientsResult struct {
	Warned, Deleted, Failed int
}

// InactiveClientsWorkflow warns the customers inactive long enough, and
// deletes those warned long enough ago (activities.FindInactiveCustomers).
// Each customer is one activity with its own idempotency key, so a retry,
// a worker restart or the next run warns and deletes no one twice.
func InactiveClientsWorkflow(ctx workflow.Context, in InactiveClientsInput) (InactiveClientsResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		HeartbeatTimeout:    activities.HeartbeatTimeout,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 5 * time.Second, MaximumAttempts: 5},
	})
	var res InactiveClientsResult
	var found activities.FindInactiveResult
	find := workflow.WithActivityOptions(ctx, withSummary(ctx, "find inactive clients"))
	if err := workflow.ExecuteActivity(find, a.FindInactiveCustomers, activities.FindInactiveInput{Limit: in.Limit}).Get(ctx, &found); err != nil {
		return res, err
	}
	log := workflow.GetLogger(ctx)
	for _, c := range found.Warn {
		var r activities.WarnInactiveResult
		err := workflow.ExecuteActivity(ctx, a.WarnInactiveCustomer, activities.WarnInactiveInput{CustomerID: c.ID,
			LastActivity: c.LastActivity, Days: found.Days}).Get(ctx, &r)
		if err != nil {
			log.Warn("warning an inactive client failed; the next run tries again", "customer", c.ID, "err", err)
			res.Failed++
			continue
		}
		if r.Warned {
			res.Warned++
		} // else not delivered yet: the redelivery goes on, and the next run looks again
	}
	for _, c := range found.Delete {
		var r activities.DeleteInactiveResult
		err := workflow.ExecuteActivity(ctx, a.DeleteInactiveCustomer, activities.DeleteInactiveInput{CustomerID: c.ID}).Get(ctx, &r)
		if err != nil {
			log.Warn("deleting an inactive client failed; the next run tries again", "customer", c.ID, "err", err)
			res.Failed++
			continue
		}
		if r.Deleted {
			res.Deleted++
		}
	}
	return res, nil
}

// withSummary is ctx's activity options with summary, as the Temporal UI shows it.
func withSummary(ctx workflow.Context, summary string) workflow.ActivityOptions {
	o := workflow.GetActivityOptions(ctx)
	o.Summary = summary
	return o
}
