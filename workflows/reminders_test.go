package workflows_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/workflows"
)

// TestRemindersAreTheSchedulesNotTheWorkflows: under the default policy
// (insufficient_funds 5 4 3 2 1 0 days before), the workflow publishes the
// reminders 5 to 1 days before with its schedule and sends none of them
// itself: the reminders schedule (played here on the test's clock) sends
// each at its time, naming the next period's price. The workflow keeps the
// one at the renewal's instant, and the schedule lists the others as the
// reminders schedule's.
func TestRemindersAreTheSchedulesNotTheWorkflows(t *testing.T) {
	t.Parallel()
	h := setup(t, options{price: 1000, autoRenew: true, incoming: 3})
	h.credit(1000) // the order; the renewal's money comes half a day before it
	var mu sync.Mutex
	var byWorkflow, byReminders []string
	var published []activities.Reminder
	h.reminded = func(at time.Time, r activities.Reminder) {
		mu.Lock()
		defer mu.Unlock()
		byReminders = append(byReminders, fmt.Sprintf("%s %d", at.UTC().Format("Jan 2 15:04"), r.Days))
	}
	paidUntil := billing.AddPeriods(h.now, billing.PeriodMonth, 1)
	var shown workflows.Schedule
	next, _, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
		onActivityStart(env, func(name string, args converter.EncodedValues) {
			mu.Lock()
			defer mu.Unlock()
			switch name {
			case "SendNotices":
				var in activities.SendNoticesInput
				require.NoError(t, args.Get(&in))
				for _, n := range in.Notices {
					byWorkflow = append(byWorkflow, fmt.Sprintf("%s %s:%d", env.Now().UTC().Format("Jan 2 15:04"), n.Milestone, n.Days))
				}
				if in.Schedule != nil && published == nil { // saved by the notices of the step that changed it
					published = in.Schedule.Reminders
				}
			case "SaveSchedule":
				var in activities.SaveScheduleInput
				require.NoError(t, args.Get(&in))
				if published == nil {
					published = in.Reminders
				}
			}
		})
		env.RegisterDelayedCallback(func() { shown = schedule(t, env) }, paidUntil.Sub(h.now)-4*24*time.Hour-time.Hour)
		env.RegisterDelayedCallback(func() { h.credit(1000) }, paidUntil.Sub(h.now)-12*time.Hour)
	})
	require.NoError(t, err)
	require.NotNil(t, next, "renewed")

	require.Len(t, published, 5)
	for i, r := range published {
		d := 5 - i
		require.Equal(t, activities.Reminder{At: paidUntil.AddDate(0, 0, -d), Milestone: billing.MilestoneLowMoney,
			Key: fmt.Sprintf("insufficient_funds:%d", d), Days: d, Period: 1, PaidUntil: paidUntil, BelowPrice: true},
			stripped([]activities.Reminder{r})[0])
	}
	require.Equal(t, []string{"Feb 23 09:00 5", "Feb 24 09:00 4", "Feb 25 09:00 3", "Feb 26 09:00 2", "Feb 27 09:00 1"}, byReminders)
	require.Equal(t, 5, h.out.count("email", "Insufficient funds"), "each reminder went out: the balance was short")
	require.Equal(t, []string{"Jan 31 09:00 activated:0", "Feb 25 09:00 incoming:3", "Feb 28 09:00 insufficient_funds:0",
		"Feb 28 09:00 approved:0", "Feb 28 09:00 renewed:0"}, byWorkflow, "the workflow's own notices")

	// An hour before the 4-days reminder: the 5-days one is gone, the
	// others are the reminders schedule's.
	var steps []string
	for _, s := range shown.Next {
		steps = append(steps, fmt.Sprintf("%s %s %s", s.At.UTC().Format("Jan 2 15:04"), s.Milestone, s.SentBy))
	}
	require.Equal(t, []string{"Feb 24 09:00 insufficient_funds reminders", "Feb 25 09:00 incoming ", "Feb 25 09:00 insufficient_funds reminders",
		"Feb 26 09:00 insufficient_funds reminders", "Feb 27 09:00 insufficient_funds reminders", "Feb 28 09:00 insufficient_funds ",
		"Feb 28 09:00 renewal "}, steps)
}

// stripped drops the monotonic clock readings and locations, for comparing.
func stripped(rs []activities.Reminder) []activities.Reminder {
	for i := range rs {
		rs[i].At, rs[i].PaidUntil = rs[i].At.UTC(), rs[i].PaidUntil.UTC()
	}
	return rs
}

// TestRemindersWorkflowDrainsEveryShard: a run sends its shards' batches
// side by side, each until a batch comes back not full, at most Batches.
func TestRemindersWorkflowDrainsEveryShard(t *testing.T) {
	t.Parallel()
	var s testsuite.WorkflowTestSuite
	env := s.NewTestWorkflowEnvironment()
	env.RegisterWorkflow(workflows.RemindersWorkflow)
	env.RegisterActivity(&activities.Activities{})
	var mu sync.Mutex
	calls := map[int]int{}
	env.OnActivity("SendDueReminders", mock.Anything, mock.Anything).Return(
		func(_ context.Context, in activities.SendDueRemindersInput) (activities.SendDueRemindersResult, error) {
			mu.Lock()
			defer mu.Unlock()
			calls[in.Shard]++
			require.Equal(t, 3, in.Shards)
			full := in.Shard == 1 // shard 1 always has more than a batch due
			return activities.SendDueRemindersResult{Subscriptions: 2, SendNoticesResult: activities.SendNoticesResult{Sent: 1}, More: full}, nil
		})
	env.ExecuteWorkflow(workflows.RemindersWorkflow, workflows.RemindersInput{Shards: 3, Batches: 5})
	require.NoError(t, env.GetWorkflowError())
	var res workflows.RemindersResult
	require.NoError(t, env.GetWorkflowResult(&res))
	require.Equal(t, map[int]int{0: 1, 1: 5, 2: 1}, calls, "shard 1 until its bound, the others once")
	require.Equal(t, workflows.RemindersResult{Batches: 7, Subscriptions: 14, SendNoticesResult: activities.SendNoticesResult{Sent: 7}}, res)
}

// TestScheduleSavedEvenIfItsNoticesFail: the schedule a step changed is
// saved by the SendNotices of its notices; if that activity fails for good
// (the database away through all its attempts), the save is made on its
// own, not forgotten: the activation's schedule carries the period's
// reminders, and without it the reminders schedule never sends them.
func TestScheduleSavedEvenIfItsNoticesFail(t *testing.T) {
	t.Parallel()
	h := setup(t, options{price: 1000, autoRenew: true, incoming: 3})
	h.credit(1000)
	failed := 0
	var published []activities.Reminder
	var status string
	_, _, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
		env.OnActivity(h.acts.SendNotices, mock.Anything, mock.Anything).Return(
			func(ctx context.Context, in activities.SendNoticesInput) (activities.SendNoticesResult, error) {
				if in.Schedule != nil && in.Notices[0].Milestone == billing.MilestoneActivated {
					failed++
					return activities.SendNoticesResult{}, temporal.NewNonRetryableApplicationError("database away", "x", nil)
				}
				return h.acts.SendNotices(ctx, in)
			})
		env.RegisterDelayedCallback(func() {
			require.NoError(t, h.db.QueryRow(h.ctx, `SELECT coalesce(schedule->>'status', ''), reminders FROM subscriptions WHERE id = $1`, h.sub.ID).Scan(&status, &published))
		}, 24*time.Hour)
		cancelAt(t, env, 48*time.Hour)
	})
	require.NoError(t, err)
	require.Equal(t, 1, failed, "the activation's notices carried the schedule")
	require.Equal(t, billing.SubscriptionActive, status, "the schedule of the active service was saved")
	require.Len(t, published, 5, "with its reminders")
}
