package workflows

import (
	"cmp"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tempobill/billing/activities"
)

// RemindersScheduleID is the Temporal schedule that starts
// RemindersWorkflow every RemindersInterval: visible and pausable in the
// Temporal UI (Schedules). A reminder goes out within about a minute of its
// time.
const (
	RemindersScheduleID = "reminders"
	RemindersInterval   = time.Minute
)

// RemindersInput is one run of the reminders schedule.
type RemindersInput struct {
	// Batch is how many subscriptions one activity looks at (200 when 0).
	Batch int
	// Shards is how many batches run side by side, each over the
	// subscriptions whose ID falls in its shard (4 when 0).
	Shards int
	// Batches bounds the batches of one shard in one run (100 when 0):
	// what is left is the next run's.
	Batches int
}

// RemindersResult counts what a run did.
type RemindersResult struct {
	Batches, Subscriptions int
	activities.SendNoticesResult
}

// RemindersWorkflow sends the reminders that fell due (insufficient_funds
// and expiring N > 0 days before the paid-until date) for every
// subscription at once: Shards shards side by side, each batch after batch
// while its batches come back full (activities.SendDueReminders). The
// subscriptions' workflows publish them and never wake up for them: in runs
// of cycle-cost version 3, a billing cycle of the default policy is 2
// wake-ups instead of 6 (docs/scale.md). A batch records each
// subscription's reminders handled only after sending them, and a notice is
// claimed once: a retry or a killed worker sends nothing twice.
func RemindersWorkflow(ctx workflow.Context, in RemindersInput) (RemindersResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 5 * time.Minute,
		HeartbeatTimeout:    activities.HeartbeatTimeout,
		RetryPolicy:         &temporal.RetryPolicy{InitialInterval: 5 * time.Second, MaximumAttempts: 3},
		Summary:             "send due reminders",
	})
	shards, batches := max(in.Shards, 0), max(in.Batches, 0)
	if shards == 0 {
		shards = 4
	}
	if batches == 0 {
		batches = 100
	}
	var res RemindersResult
	var firstErr error
	wg := workflow.NewWaitGroup(ctx)
	for shard := range shards {
		wg.Add(1)
		workflow.Go(ctx, func(ctx workflow.Context) {
			defer wg.Done()
			for range batches {
				var r activities.SendDueRemindersResult
				err := workflow.ExecuteActivity(ctx, a.SendDueReminders, activities.SendDueRemindersInput{Limit: in.Batch,
					Shard: shard, Shards: shards}).Get(ctx, &r)
				if err != nil {
					firstErr = cmp.Or(firstErr, err)
					return
				}
				res.Batches++
				res.Subscriptions += r.Subscriptions
				res.Add(r.SendNoticesResult)
				if !r.More {
					return
				}
			}
		})
	}
	wg.Wait(ctx)
	return res, firstErr
}
