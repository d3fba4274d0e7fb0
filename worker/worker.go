// Package worker builds the Temporal worker that hosts the billing workflows
// and activities. Every registration is here, in one place.
package worker

import (
	"context"
	"errors"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
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

// StickyScheduleToStartTimeout is how long a workflow task waits for the
// worker that has the workflow cached before any worker may take it. The
// SDK's 5 seconds is too short for a burst of renewals due in the same
// second: tasks queued longer than that time out, move to the shared queue
// and make a worker replay the whole history, which slows the burst down
// further. A worker that stops, or dies and has not polled for 10 seconds,
// gets no new sticky tasks, so a longer wait costs little when it crashes.
const StickyScheduleToStartTimeout = time.Minute

// New returns a worker on taskQueue with every workflow, activity and custom
// step registered.
func New(c client.Client, taskQueue string, acts *activities.Activities, opts Options) sdkworker.Worker {
	w := sdkworker.New(c, taskQueue, sdkworker.Options{
		MaxConcurrentActivityExecutionSize:     opts.MaxConcurrentActivities,
		MaxConcurrentWorkflowTaskExecutionSize: opts.MaxConcurrentWorkflows,
		MaxConcurrentWorkflowTaskPollers:       opts.Pollers,
		MaxConcurrentActivityTaskPollers:       opts.Pollers,
		StickyScheduleToStartTimeout:           StickyScheduleToStartTimeout,
	})
	w.RegisterWorkflow(workflows.SubscriptionWorkflow)
	w.RegisterWorkflow(workflows.RedeliverNoticesWorkflow)
	w.RegisterWorkflow(workflows.BroadcastWorkflow)
	w.RegisterWorkflow(workflows.InactiveClientsWorkflow)
	w.RegisterWorkflow(workflows.RemindersWorkflow)
	w.RegisterWorkflow(workflows.PollMailGateway)
	w.RegisterActivity(acts)
	for _, s := range acts.Steps {
		if s.Run != nil {
			w.RegisterActivityWithOptions(s.Run, activity.RegisterOptions{Name: s.Name})
		}
	}
	return w
}

// EnsureRedeliverySchedule creates the schedule that sends due notices again
// every minute (workflows.RedeliveryScheduleID), unless it exists: staff may
// pause it in the Temporal UI, and a restart leaves it as they set it.
func EnsureRedeliverySchedule(ctx context.Context, c client.Client, taskQueue string) error {
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:      workflows.RedeliveryScheduleID,
		Spec:    client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: workflows.RedeliveryInterval}}},
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		Action: &client.ScheduleWorkflowAction{
			ID:        workflows.RedeliveryScheduleID,
			Workflow:  workflows.RedeliverNoticesWorkflow,
			Args:      []any{workflows.RedeliverNoticesInput{}},
			TaskQueue: taskQueue,
		},
	})
	if errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return nil
	}
	return err
}

// EnsureInactiveClientsSchedule creates the schedule that warns and deletes
// inactive clients every hour (workflows.InactiveClientsScheduleID), unless
// it exists; like the redelivery's, a restart leaves it as staff set it.
func EnsureInactiveClientsSchedule(ctx context.Context, c client.Client, taskQueue string) error {
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:      workflows.InactiveClientsScheduleID,
		Spec:    client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: workflows.InactiveClientsInterval}}},
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		Action: &client.ScheduleWorkflowAction{
			ID:        workflows.InactiveClientsScheduleID,
			Workflow:  workflows.InactiveClientsWorkflow,
			Args:      []any{workflows.InactiveClientsInput{}},
			TaskQueue: taskQueue,
		},
	})
	if errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return nil
	}
	return err
}

// EnsureRemindersSchedule creates the schedule that sends the due
// reminders every interval (workflows.RemindersScheduleID; 0:
// workflows.RemindersInterval). If it exists with another interval, only
// the interval is changed: paused by staff, it stays paused.
func EnsureRemindersSchedule(ctx context.Context, c client.Client, taskQueue string, every time.Duration) error {
	if every <= 0 {
		every = workflows.RemindersInterval
	}
	spec := client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: every}}}
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID:      workflows.RemindersScheduleID,
		Spec:    spec,
		Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP,
		Action: &client.ScheduleWorkflowAction{
			ID:        workflows.RemindersScheduleID,
			Workflow:  workflows.RemindersWorkflow,
			Args:      []any{workflows.RemindersInput{}},
			TaskQueue: taskQueue,
		},
	})
	if !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return err
	}
	h := c.ScheduleClient().GetHandle(ctx, workflows.RemindersScheduleID)
	return h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
		is := in.Description.Schedule.Spec.Intervals
		if len(is) == 1 && is[0].Every == every {
			return nil, temporal.ErrSkipScheduleUpdate
		}
		s := in.Description.Schedule
		s.Spec = &spec
		return &client.ScheduleUpdate{Schedule: &s}, nil
	}})
}
