package workflows_test

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/workflows"
)

// TestStoredScheduleIsCurrentWhileNoticesGoOut: the schedule published to
// the row (what GET /subscriptions/{id} answers) follows a state change at
// once, not only when the workflow next sleeps: while the notices of an
// order paid late go out (a slow mail server, custom steps), the row already
// says active, not "unpaid, waiting for a payment" next to a row status of
// active; while the notices of a renewal go out, it already shows the new
// period.
func TestStoredScheduleIsCurrentWhileNoticesGoOut(t *testing.T) {
	t.Parallel()
	h := setup(t, options{price: 1000, autoRenew: true, incoming: 3})
	stored := func() workflows.Schedule {
		data, _, err := h.store.SubscriptionSchedule(h.ctx, h.sub.ID)
		require.NoError(t, err)
		var s workflows.Schedule
		if data != nil {
			require.NoError(t, json.Unmarshal(data, &s))
		}
		return s
	}
	type seen struct {
		row, stored string
		waiting     bool
		period      int
		renewal     bool // the next renewal is in the schedule
	}
	at := map[string]seen{}
	next, _, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			h.credit(2000) // the order and one renewal
			env.SignalWorkflow(workflows.SignalPaymentReceived, workflows.PaymentReceived{PaymentID: 1})
		}, time.Hour)
		// When the mail goes out: the schedule is saved by the notices'
		// local activity, before it sends.
		h.out.onSend = func(subject string) {
			for milestone, text := range map[string]string{billing.MilestoneActivated: "is active", billing.MilestoneRenewed: "was renewed"} {
				if strings.Contains(subject, text) {
					sub, err := h.store.Subscription(h.ctx, h.sub.ID)
					require.NoError(t, err)
					s := stored()
					renewal := slices.ContainsFunc(s.Next, func(st workflows.ScheduledStep) bool { return st.Milestone == billing.MilestoneRenewal })
					at[milestone] = seen{row: sub.Status, stored: s.Status, waiting: s.WaitingForPayment, period: s.Period, renewal: renewal}
				}
			}
		}
	})
	h.out.onSend = nil
	require.NoError(t, err)
	require.NotNil(t, next, "the run continues as new at the renewal")
	require.Equal(t, seen{row: billing.SubscriptionActive, stored: billing.SubscriptionActive, period: 1, renewal: true}, at[billing.MilestoneActivated],
		"the row's schedule while the activation notice goes out")
	require.Equal(t, seen{row: billing.SubscriptionActive, stored: billing.SubscriptionActive, period: 2, renewal: true}, at[billing.MilestoneRenewed],
		"the row's schedule while the renewal notice goes out: the new period's, with its renewal")

	// The numbering goes on across continue-as-new: the next run's saves
	// are newer than the last run's, not dropped as older.
	_, version, err := h.store.SubscriptionSchedule(h.ctx, h.sub.ID)
	require.NoError(t, err)
	require.Equal(t, version, next.State.ScheduleVersion, "the row holds the run's last save")
	h.credit(1000)
	after, _, err := h.run(*next, nil)
	require.NoError(t, err)
	require.NotNil(t, after)
	_, v2, err := h.store.SubscriptionSchedule(h.ctx, h.sub.ID)
	require.NoError(t, err)
	require.Greater(t, v2, version)
	require.Equal(t, v2, after.State.ScheduleVersion)
	require.Equal(t, 3, stored().Period)
}
