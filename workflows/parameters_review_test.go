package workflows_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/workflows"
)

// TestLateParametersSendNoStaleNotices: an order paid on 31 January waits for
// its parameters until 27 February, two days after its "incoming payment in
// 3 days" notice fell due. Activated then, it does not send that notice late
// (it would announce the renewal of 28 February as 3 days away); it renews
// on 28 February, once.
func TestLateParametersSendNoStaleNotices(t *testing.T) {
	t.Parallel()
	h := setup(t, options{price: 900, autoRenew: true, incoming: 3})
	h.withParameters()
	h.credit(1800)
	var done workflows.Schedule
	next, _, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			require.Equal(t, 0, h.out.count("email", "incoming"), "nothing is announced while it waits")
			h.give(env, "p1", map[string]string{"domain": "shop.example", "os": "debian-12"}, &done)
		}, day(2026, 2, 27).Sub(h.now))
	})
	require.NoError(t, err)
	require.NotNil(t, next, "renewed on 28 February")
	require.Equal(t, billing.SubscriptionActive, done.Status)
	require.Equal(t, 1, h.out.count("email", "is active"), "activated once")
	require.Equal(t, 0, h.out.count("email", "incoming"), "the notice due on 25 February is not sent on the 27th")
	require.Equal(t, 1, h.out.count("email", "was renewed"))
	sameTime(t, day(2026, 3, 31), next.State.PaidUntil, "period 2 from 28 February")
}

// TestParametersGivenWhileTheOrderIsCharged: the client stores the
// parameters while the order's charge runs. Stored before the charge reads
// them: it activates directly. Stored after (while the order's status is
// being written): the update, coming after the charge, activates it. Either
// way the service is active, activated once, and the customer is not asked
// for parameters they have already given.
func TestParametersGivenWhileTheOrderIsCharged(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		activity string
		match    func(converter.EncodedValues) bool
	}{
		{"before the charge reads them", "ChargePeriod", func(args converter.EncodedValues) bool {
			var in activities.ChargePeriodInput
			return args.Get(&in) == nil && in.Period == 1
		}},
		{"after the charge read them", "SetStatus", func(args converter.EncodedValues) bool {
			var in activities.SetStatusInput
			return args.Get(&in) == nil && in.Status == billing.SubscriptionAwaitingParameters
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := setup(t, options{price: 900, autoRenew: true, incoming: 3})
			h.withParameters()
			h.credit(900)
			var once sync.Once
			var o *outcome
			var mid workflows.Schedule
			next, _, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
				env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, args converter.EncodedValues) {
					if info.ActivityType.Name == tc.activity && tc.match(args) {
						once.Do(func() {
							given, err := h.store.SetParameters(h.ctx, h.sub.ID, map[string]string{"domain": "shop.example", "os": "debian-12"})
							require.NoError(t, err)
							o = send(env, workflows.UpdateParameters, workflows.SetParametersInput{Given: given})
						})
					}
				})
				env.RegisterDelayedCallback(func() { mid = schedule(t, env) }, time.Hour)
			})
			require.NoError(t, err)
			require.Nil(t, next, "no money for a renewal")
			require.NotNil(t, o, "the parameters were given while the charge ran")
			require.True(t, o.done)
			require.NoError(t, o.rejected)
			require.NoError(t, o.err)
			require.Equal(t, billing.SubscriptionActive, o.schedule.Status, "the update's answer")
			require.Equal(t, billing.SubscriptionActive, mid.Status)
			require.Empty(t, mid.AwaitingParameters)
			require.Equal(t, 1, h.out.count("email", "is active"), "activated once")
			require.Equal(t, 0, h.out.count("email", "we need a few details"), "not asked for what was given")
		})
	}
}
