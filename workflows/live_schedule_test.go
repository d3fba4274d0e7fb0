package workflows_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/internal/temporaltest"
	"github.com/tempobill/billing/worker"
	"github.com/tempobill/billing/workflows"
)

// TestLiveScheduleIsPublished: the workflow writes the schedule its query
// answers to the subscription's row: after the order, after a milestone,
// and after a staff action before the action's answer (read-your-writes),
// up to the end of the service.
func TestLiveScheduleIsPublished(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal dev server")
	}
	t.Parallel()
	dev, err := temporaltest.Start(t.Context())
	require.NoError(t, err)
	t.Cleanup(func() { _ = dev.Stop() })
	h := setup(t, options{price: 100, unit: billing.PeriodSecond, count: 10, autoRenew: true, incoming: 2})
	h.credit(100_000)
	w := worker.New(dev.Client(), workflows.TaskQueue, h.acts, worker.Options{})
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
	wf := workflows.NewClient(dev.Client(), "")
	ctx := t.Context()

	row := func() (string, int64) {
		data, version, err := h.store.SubscriptionSchedule(ctx, h.sub.ID)
		if err != nil || data == nil {
			return "", 0
		}
		var s workflows.Schedule
		if err := json.Unmarshal(data, &s); err != nil {
			return err.Error(), version
		}
		return encode(t, s), version
	}
	queried := func() (workflows.Schedule, string) {
		s, err := wf.Schedule(ctx, h.sub.ID)
		if err != nil {
			return s, "query failed: " + err.Error()
		}
		return s, encode(t, s)
	}
	// The row catches up with the query once the workflow sleeps.
	settled := func(what string, cond func(workflows.Schedule) bool) (workflows.Schedule, int64) {
		var s workflows.Schedule
		var version int64
		var last string
		ok := assert.Eventually(t, func() bool {
			var want string
			s, want = queried()
			got, v := row()
			version = v
			last = want + "\n" + got
			return cond(s) && got == want
		}, time.Minute, 20*time.Millisecond)
		require.True(t, ok, "%s; last query and row:\n%s", what, last)
		return s, version
	}

	_, err = wf.Start(ctx, h.input(), h.product)
	require.NoError(t, err)
	ordered, v1 := settled("after the order", func(s workflows.Schedule) bool { return s.Status == billing.SubscriptionActive })
	require.Positive(t, v1)
	require.NotEmpty(t, ordered.Next)
	first := ordered.Next[0]
	_, v2 := settled("after a milestone", func(s workflows.Schedule) bool {
		return len(s.Next) > 0 && !s.Next[0].At.Equal(first.At) || s.Period > ordered.Period
	})
	require.Greater(t, v2, v1, "a newer version")

	// Neither leaves a milestone due that could move the row on before it is read.
	for _, action := range []workflows.Action{workflows.SuspendInput{Reason: "abuse"}, workflows.CancelInput{}} {
		answer, err := wf.Act(ctx, h.sub.ID, action, "")
		require.NoError(t, err)
		got, _ := row()
		require.JSONEq(t, encode(t, answer), got, "the row right after %T's answer", action)
	}
	require.NoError(t, dev.Client().GetWorkflow(ctx, billing.SubscriptionWorkflowID(h.sub.ID), "").Get(ctx, nil), "the workflow ends")
	got, _ := row()
	_, want := queried()
	require.JSONEq(t, want, got, "the ended workflow's row")
	require.Contains(t, got, `"status":"cancelled"`)
}

func encode(t *testing.T, s workflows.Schedule) string {
	t.Helper()
	data, err := json.Marshal(s)
	require.NoError(t, err)
	return string(data)
}
