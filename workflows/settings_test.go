package workflows_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/workflows"
)

// noticeLog records when each notice was asked for, as "Jan 2 15:04
// milestone days", in the order they were.
type noticeLog struct {
	mu   sync.Mutex
	sent []string
}

// reminder records a reminder the reminders schedule handled at at.
func (l *noticeLog) reminder(at time.Time, r activities.Reminder) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sent = append(l.sent, fmt.Sprintf("%s %s %d", at.UTC().Format("Jan 2 15:04"), r.Milestone, r.Days))
}

func (l *noticeLog) listen(env *testsuite.TestWorkflowEnvironment) {
	onActivityStart(env, func(name string, args converter.EncodedValues) {
		if name != "SendNotices" {
			return
		}
		var in activities.SendNoticesInput
		if err := args.Get(&in); err != nil {
			panic(err)
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		for _, n := range in.Notices {
			line := env.Now().UTC().Format("Jan 2 15:04 ") + n.Milestone
			if n.Days != 0 || n.Milestone == billing.MilestoneLowMoney {
				line += fmt.Sprint(" ", n.Days)
			}
			l.sent = append(l.sent, line)
		}
	})
}

// TestSettingsChangeAppliesFromTheNextCharge is the README's promise: a
// change of the settings reaches a running subscription at its next charge.
// The period already charged keeps the days it was charged with, even those
// of notices not yet sent; the period charged after the change uses the new
// ones for all it schedules: notices, suspension, grace and deletion, and a
// second change during that period doesn't move them either.
func TestSettingsChangeAppliesFromTheNextCharge(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	h := setup(t, options{price: 100, autoRenew: true, incoming: 3, start: start, db: dbtest.OwnPool(t)})
	change := func(u billing.SettingsUpdate) {
		_, err := h.store.UpdateSettings(h.ctx, billing.DefaultSettings(), u)
		require.NoError(t, err)
	}
	ints := func(v ...int) *[]int { return &v }
	num := func(n int) *int { return &n }
	change(billing.SettingsUpdate{LowMoneyExpirePeriod: ints(5, 2)}) // before the order
	h.credit(100)                                                    // the first period only
	d1 := time.Date(2026, 4, 1, 9, 0, 0, 0, time.UTC)
	d2 := time.Date(2026, 5, 1, 9, 0, 0, 0, time.UTC)
	var log noticeLog
	h.reminded = log.reminder

	next, _, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
		log.listen(env)
		env.RegisterDelayedCallback(func() {
			change(billing.SettingsUpdate{LowMoneyExpirePeriod: ints(4, 1), SuspendAfterDays: num(2), GraceDays: num(5),
				NearDeletePeriod: ints(3)})
		}, 10*24*time.Hour)
		env.RegisterDelayedCallback(func() {
			var days []string
			for _, s := range schedule(t, env).Next {
				days = append(days, s.Milestone+" "+s.Detail)
			}
			require.Equal(t, []string{"insufficient_funds notice, 5 days before", "incoming notice, 3 days before",
				"insufficient_funds notice, 2 days before", "renewal "}, days, "the period keeps its days")
		}, 10*24*time.Hour+time.Minute)
		env.RegisterDelayedCallback(func() { // after the failed renewal, before the suspension
			h.credit(100)
			env.SignalWorkflow(workflows.SignalPaymentReceived, workflows.PaymentReceived{PaymentID: 2})
		}, d1.Sub(start)+6*time.Hour)
	})
	require.NoError(t, err)
	require.NotNil(t, next, "renewed: the next period continues as new")
	sameTime(t, d2, next.State.PaidUntil, "renewed from the old date")

	_, res, err := h.run(*next, func(env *testsuite.TestWorkflowEnvironment) {
		log.listen(env)
		env.RegisterDelayedCallback(func() {
			change(billing.SettingsUpdate{GraceDays: num(10), NearDeletePeriod: ints(6), SuspendAfterDays: num(1)})
		}, d2.Add(-10*24*time.Hour).Sub(h.now))
	})
	require.NoError(t, err)
	require.Equal(t, workflows.SubscriptionResult{Status: billing.SubscriptionDeleted, Periods: 2}, res)
	require.Equal(t, []string{
		"Mar 1 09:00 activated",
		// The first period, charged with 5 and 2: the change on 11 March
		// doesn't move its notices.
		"Mar 27 09:00 insufficient_funds 5",
		"Mar 29 09:00 incoming 3",
		"Mar 30 09:00 insufficient_funds 2",
		"Apr 1 09:00 non_sufficient_funds",
		"Apr 1 15:00 approved", "Apr 1 15:00 renewed",
		// The second period, charged on 1 April with 4 and 1, 2 days to
		// suspension, 5 of grace, a notice 3 days before deletion.
		"Apr 27 09:00 insufficient_funds 4",
		"Apr 28 09:00 incoming 3",
		"Apr 30 09:00 insufficient_funds 1",
		"May 1 09:00 non_sufficient_funds",
		"May 3 09:00 suspended",
		"May 5 09:00 delete_soon 3",
		"May 8 09:00 deleted",
	}, log.sent)
	sameTime(t, time.Date(2026, 5, 8, 9, 0, 0, 0, time.UTC), h.now, "deleted 5 days after the suspension")
}
