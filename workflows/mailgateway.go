package workflows

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
)

// mailGatewayPrefix starts the IDs of the gateways' schedules and runs.
const mailGatewayPrefix = "mail-gateway-"

// MailGatewayScheduleID is the Temporal schedule that polls gateway id
// every poll_seconds (and the workflow ID prefix of its runs).
func MailGatewayScheduleID(id int64) string { return mailGatewayPrefix + strconv.FormatInt(id, 10) }

// mailGatewayIDOf reads the gateway ID back from a schedule ID; ok is false
// for a schedule that is not a gateway's.
func mailGatewayIDOf(scheduleID string) (int64, bool) {
	rest, ok := strings.CutPrefix(scheduleID, mailGatewayPrefix)
	if !ok {
		return 0, false
	}
	id, err := strconv.ParseInt(rest, 10, 64)
	return id, err == nil && id > 0 && MailGatewayScheduleID(id) == scheduleID
}

// PollMailGatewayInput is one run of a gateway's schedule.
type PollMailGatewayInput struct {
	GatewayID int64
}

// PollMailGateway reads a gateway's mailbox once: one activity, which
// records the outcome on the gateway (last_poll_at, last_error). An
// unreachable server fails the run after a few attempts; the next run of
// the schedule tries again.
func PollMailGateway(ctx workflow.Context, in PollMailGatewayInput) (activities.PollMailboxResult, error) {
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Minute,
		HeartbeatTimeout:    activities.HeartbeatTimeout,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: 10 * time.Second, MaximumAttempts: 3,
			NonRetryableErrorTypes: []string{activities.ErrTypeMailGatewayKey}},
		Summary: fmt.Sprintf("read the mailbox of mail gateway %d", in.GatewayID),
	})
	var res activities.PollMailboxResult
	err := workflow.ExecuteActivity(ctx, a.PollMailbox, activities.PollMailboxInput{GatewayID: in.GatewayID}).Get(ctx, &res)
	return res, err
}

// mailGatewaySchedule is the schedule gateway g should have.
func mailGatewaySchedule(g billing.MailGateway, taskQueue string) (client.ScheduleSpec, *client.ScheduleWorkflowAction) {
	return client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: time.Duration(g.PollSeconds) * time.Second}}},
		&client.ScheduleWorkflowAction{
			ID:        MailGatewayScheduleID(g.ID),
			Workflow:  PollMailGateway,
			Args:      []any{PollMailGatewayInput{GatewayID: g.ID}},
			TaskQueue: taskQueue,
		}
}

// SyncMailGatewaySchedule makes gateway g's schedule match it: created if
// missing, its interval set, paused exactly when the gateway is.
func SyncMailGatewaySchedule(ctx context.Context, c client.Client, taskQueue string, g billing.MailGateway) error {
	spec, action := mailGatewaySchedule(g, taskQueue)
	id := MailGatewayScheduleID(g.ID)
	_, err := c.ScheduleClient().Create(ctx, client.ScheduleOptions{
		ID: id, Spec: spec, Action: action, Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP, Paused: g.Paused,
		Note: pauseNote(g.Paused),
	})
	if err == nil || !errors.Is(err, temporal.ErrScheduleAlreadyRunning) {
		return err
	}
	h := c.ScheduleClient().GetHandle(ctx, id)
	err = h.Update(ctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
		s := in.Description.Schedule
		s.Spec, s.Action = &spec, action
		if s.Policy == nil {
			s.Policy = &client.SchedulePolicies{}
		}
		s.Policy.Overlap = enumspb.SCHEDULE_OVERLAP_POLICY_SKIP
		return &client.ScheduleUpdate{Schedule: &s}, nil
	}})
	if err != nil {
		return err
	}
	d, err := h.Describe(ctx)
	if err != nil {
		return err
	}
	switch {
	case g.Paused && !d.Schedule.State.Paused:
		return h.Pause(ctx, client.SchedulePauseOptions{Note: pauseNote(true)})
	case !g.Paused && d.Schedule.State.Paused:
		return h.Unpause(ctx, client.ScheduleUnpauseOptions{Note: pauseNote(false)})
	}
	return nil
}

func pauseNote(paused bool) string {
	if paused {
		return "the mail gateway is paused (PATCH /mail-gateways/{id} paused: false resumes it)"
	}
	return ""
}

// DeleteMailGatewaySchedule deletes gateway id's schedule; one already
// gone is no error.
func DeleteMailGatewaySchedule(ctx context.Context, c client.Client, id int64) error {
	err := c.ScheduleClient().GetHandle(ctx, MailGatewayScheduleID(id)).Delete(ctx)
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return nil
	}
	return err
}

// TriggerMailGatewayPoll starts a poll of gateway g now (unless one is
// running), creating its schedule first if it is missing.
func TriggerMailGatewayPoll(ctx context.Context, c client.Client, taskQueue string, g billing.MailGateway) error {
	h := c.ScheduleClient().GetHandle(ctx, MailGatewayScheduleID(g.ID))
	err := h.Trigger(ctx, client.ScheduleTriggerOptions{Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP})
	var nf *serviceerror.NotFound
	if !errors.As(err, &nf) {
		return err
	}
	if err := SyncMailGatewaySchedule(ctx, c, taskQueue, g); err != nil {
		return err
	}
	return h.Trigger(ctx, client.ScheduleTriggerOptions{Overlap: enumspb.SCHEDULE_OVERLAP_POLICY_SKIP})
}

// SyncMailGatewaySchedules makes the gateways' schedules match the table
// gateways: each one's synced, and those of gateways that exists says are
// gone deleted. exists is asked right before a deletion, since a gateway
// created after gateways was read has its schedule already (IDs are never
// reused, and the API sets a schedule only after its row is committed).
// The worker runs it when it starts, so that a schedule write lost to a
// Temporal outage during an API call heals.
func SyncMailGatewaySchedules(ctx context.Context, c client.Client, taskQueue string, gateways []billing.MailGateway,
	exists func(ctx context.Context, id int64) (bool, error)) error {
	var errs []error
	known := map[int64]bool{}
	for _, g := range gateways {
		known[g.ID] = true
		if err := SyncMailGatewaySchedule(ctx, c, taskQueue, g); err != nil {
			errs = append(errs, fmt.Errorf("mail gateway %d: %w", g.ID, err))
		}
	}
	it, err := c.ScheduleClient().List(ctx, client.ScheduleListOptions{})
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for it.HasNext() {
		s, err := it.Next()
		if err != nil {
			errs = append(errs, err)
			break
		}
		id, ok := mailGatewayIDOf(s.ID)
		if !ok || known[id] {
			continue
		}
		if there, err := exists(ctx, id); err != nil || there {
			if err != nil {
				errs = append(errs, err)
			}
			continue
		}
		if err := DeleteMailGatewaySchedule(ctx, c, id); err != nil {
			errs = append(errs, fmt.Errorf("mail gateway %d: %w", id, err))
		}
	}
	return errors.Join(errs...)
}
