package worker_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/tempobill/billing/internal/temporaltest"
	"github.com/tempobill/billing/worker"
	"github.com/tempobill/billing/workflows"
)

// TestRemindersScheduleFollowsTheInterval: the reminders schedule is made
// with the interval asked; a start with another interval changes only that,
// and a schedule staff paused stays paused.
func TestRemindersScheduleFollowsTheInterval(t *testing.T) {
	ctx := t.Context()
	dev, err := temporaltest.Start(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = dev.Stop() })
	c := dev.Client()
	interval := func() (time.Duration, bool) {
		d, err := c.ScheduleClient().GetHandle(ctx, workflows.RemindersScheduleID).Describe(ctx)
		require.NoError(t, err)
		return d.Schedule.Spec.Intervals[0].Every, d.Schedule.State.Paused
	}
	require.NoError(t, worker.EnsureRemindersSchedule(ctx, c, "billing", 0))
	every, paused := interval()
	require.Equal(t, workflows.RemindersInterval, every)
	require.False(t, paused)

	require.NoError(t, c.ScheduleClient().GetHandle(ctx, workflows.RemindersScheduleID).Pause(ctx, client.SchedulePauseOptions{Note: "staff"}))
	require.NoError(t, worker.EnsureRemindersSchedule(ctx, c, "billing", 5*time.Second))
	every, paused = interval()
	require.Equal(t, 5*time.Second, every)
	require.True(t, paused, "staff's pause stays")

	require.NoError(t, worker.EnsureRemindersSchedule(ctx, c, "billing", 5*time.Second), "the same again: nothing to change")
}
