package workflows_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/workflows"
)

// race sends an update once, at the moment an activity starts: the update
// then waits for the workflow's mutex while that activity runs, which is
// exactly when a real caller's update can arrive.
type race struct {
	once sync.Once
	o    *outcome
}

// onStart sends update (arg) when an activity of type activityType starts
// with an input (of type In) for which match holds.
func onStart[In any](env *testsuite.TestWorkflowEnvironment, activityType string, match func(In) bool, update string, arg any) *race {
	r := &race{}
	onActivityStart(env, func(name string, args converter.EncodedValues) {
		var in In
		if name == activityType && args.Get(&in) == nil && match(in) {
			r.once.Do(func() { r.o = send(env, update, arg) })
		}
	})
	return r
}

// onActivityStart calls listen when an activity starts, an ordinary or a
// local one (runs of the cycle-cost change run short ones locally), with the
// activity's type name and its arguments.
func onActivityStart(env *testsuite.TestWorkflowEnvironment, listen func(name string, args converter.EncodedValues)) {
	startListeners.Lock()
	defer startListeners.Unlock()
	if startListeners.of == nil {
		startListeners.of = map[*testsuite.TestWorkflowEnvironment][]func(string, converter.EncodedValues){}
	}
	first := len(startListeners.of[env]) == 0
	startListeners.of[env] = append(startListeners.of[env], listen)
	if !first {
		return
	}
	all := func(name string, args converter.EncodedValues) {
		startListeners.Lock()
		ls := startListeners.of[env]
		startListeners.Unlock()
		for _, l := range ls {
			l(name, args)
		}
	}
	env.SetOnActivityStartedListener(func(info *activity.Info, _ context.Context, args converter.EncodedValues) {
		all(info.ActivityType.Name, args)
	})
	env.SetOnLocalActivityStartedListener(func(info *activity.Info, _ context.Context, args []any) {
		payloads, err := converter.GetDefaultDataConverter().ToPayloads(args...)
		if err != nil {
			panic(err)
		}
		all(info.ActivityType.Name, client.NewValues(payloads))
	})
}

// startListeners are the listeners onActivityStart registered, by test
// environment: the SDK keeps one, they all hear every start.
var startListeners struct {
	sync.Mutex
	of map[*testsuite.TestWorkflowEnvironment][]func(string, converter.EncodedValues)
}

// answered requires that the update was sent, accepted and answered.
func (r *race) answered(t *testing.T) *outcome {
	t.Helper()
	require.NotNil(t, r, "the race was set up")
	require.NotNil(t, r.o, "the update was sent during the activity")
	require.True(t, r.o.done, "the update was answered")
	require.NoError(t, r.o.rejected)
	require.NoError(t, r.o.err)
	return r.o
}

func chargeOf(period int) func(activities.ChargePeriodInput) bool {
	return func(in activities.ChargePeriodInput) bool { return in.Period == period }
}

// dailyProduct creates a product billed every day at 0.10 EUR.
func (h *harness) dailyProduct() billing.Product {
	h.t.Helper()
	price, yes, one := int64(10), true, 1
	pin := billing.ProductInput{Name: "Daily", Price: &price, Currency: "EUR", PeriodUnit: billing.PeriodDay, AutoRenew: &yes, IncomingDays: &one}
	p, err := h.store.CreateProduct(h.ctx, pin.Product())
	require.NoError(h.t, err)
	return p
}

// TestCancelCrossesRenewal: a cancel of an active service, now or at the end
// of the period, accepted while the renewal's charge runs: the customer asked
// before period 2 was charged, so period 2 is refunded and the service ends
// at the end of period 1 (which is now).
func TestCancelCrossesRenewal(t *testing.T) {
	t.Parallel()
	for _, atEnd := range []bool{false, true} {
		t.Run(map[bool]string{false: "now", true: "at period end"}[atEnd], func(t *testing.T) {
			t.Parallel()
			h := setup(t, options{price: 100, autoRenew: true, incoming: 1})
			h.credit(1000)
			d := day(2026, 2, 28) // period 1 paid until
			var r *race
			next, res, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
				r = onStart(env, "ChargePeriod", chargeOf(2), workflows.UpdateCancel, workflows.CancelInput{AtPeriodEnd: atEnd})
			})
			require.NoError(t, err)
			r.answered(t)
			require.Nil(t, next, "the workflow ends")
			require.Equal(t, billing.SubscriptionCancelled, res.Status)
			require.Equal(t, 1, res.Periods, "period 2 is not the customer's")
			require.Equal(t, int64(900), h.balance(), "period 2 refunded")
			row, err := h.store.Subscription(h.ctx, h.sub.ID)
			require.NoError(t, err)
			require.Equal(t, billing.SubscriptionCancelled, row.Status)
			sameTime(t, d, row.PaidUntil.UTC(), "the row is paid until the end of period 1")
			require.Equal(t, 0, h.out.count("email", "was renewed"), "the refunded renewal is not announced")
			require.Equal(t, 1, h.out.count("email", "was cancelled"))
		})
	}
}

// TestRenewNowThenCancelAtEnd: on 1 February the client clicks "renew now"
// (period 2 charged) and, while that charge runs, asks to cancel at the end
// of the period. Period 2 is refunded and the service runs to the end of
// period 1, 28 February, then ends.
func TestRenewNowThenCancelAtEnd(t *testing.T) {
	t.Parallel()
	h := setup(t, options{price: 100, autoRenew: true, incoming: 1})
	h.credit(1000)
	var r *race
	var renew *outcome
	var mid workflows.Schedule
	next, res, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
		r = onStart(env, "ChargePeriod", chargeOf(2), workflows.UpdateCancel, workflows.CancelInput{AtPeriodEnd: true})
		steps(env, 24*time.Hour,
			func() { renew = send(env, workflows.UpdateRenewNow, workflows.RenewNowInput{}) },
			func() { mid = schedule(t, env) })
	})
	require.NoError(t, err)
	require.True(t, renew.done)
	cancel := r.answered(t)
	require.True(t, cancel.schedule.CancelAtPeriodEnd)
	require.Equal(t, billing.SubscriptionActive, mid.Status, "a minute later the service still runs")
	require.Equal(t, 1, mid.Period)
	sameTime(t, day(2026, 2, 28), *mid.PaidUntil, "paid until the end of period 1")
	require.Nil(t, next)
	require.Equal(t, billing.SubscriptionCancelled, res.Status)
	sameTime(t, day(2026, 2, 28), h.now, "cancelled at the end of period 1")
	require.Equal(t, int64(900), h.balance(), "period 2 refunded")
}

// TestRefusedRenewalThenCancelAtEnd: the renewal is refused while a cancel at
// period end waits; the service is cancelled, and the customer is not asked
// to pay for a renewal that will never happen.
func TestRefusedRenewalThenCancelAtEnd(t *testing.T) {
	t.Parallel()
	h := setup(t, options{price: 100, autoRenew: true, incoming: 1})
	h.credit(100)
	var r *race
	_, res, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
		r = onStart(env, "ChargePeriod", chargeOf(2), workflows.UpdateCancel, workflows.CancelInput{AtPeriodEnd: true})
	})
	require.NoError(t, err)
	r.answered(t)
	require.Equal(t, billing.SubscriptionCancelled, res.Status)
	require.Equal(t, 1, h.out.count("email", "was cancelled"))
	require.Equal(t, 0, h.out.count("email", "nsf"), "no 'please pay' notice for a renewal the customer cancelled")
}

// TestCancelAtEndDuringLastNotice: a cancel at period end accepted while the
// last low-balance notice (due at the same moment as the renewal) is being
// sent comes before the renewal: period 2 is never charged.
func TestCancelAtEndDuringLastNotice(t *testing.T) {
	t.Parallel()
	h := setup(t, options{price: 100, autoRenew: true, incoming: 1})
	h.credit(1000)
	var r *race
	_, res, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
		r = onStart(env, "SendNotices", func(in activities.SendNoticesInput) bool {
			return in.Notices[0].Key == billing.MilestoneLowMoney+":0"
		}, workflows.UpdateCancel, workflows.CancelInput{AtPeriodEnd: true})
	})
	require.NoError(t, err)
	r.answered(t)
	require.Equal(t, billing.SubscriptionCancelled, res.Status)
	require.Equal(t, 1, res.Periods)
	require.Equal(t, int64(900), h.balance(), "period 2 was never charged")
	require.Equal(t, 0, h.out.count("email", "approved"))
}

// TestLatePaymentAfterChangeProduct: moved to a daily product during the
// suspension and paid 5 days late: the period is judged by the product it is
// charged for, so it is charged once, from the payment, into the future.
func TestLatePaymentAfterChangeProduct(t *testing.T) {
	t.Parallel()
	h := setup(t, options{price: 100, autoRenew: true, incoming: 1})
	h.credit(100)
	daily := h.dailyProduct()
	d := day(2026, 2, 28)
	paid := d.Add(5 * 24 * time.Hour)
	next, _, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			send(env, workflows.UpdateChangeProduct, workflows.ChangeProductInput{ProductID: daily.ID})
		}, d.Sub(h.now)+2*24*time.Hour) // during the suspension
		env.RegisterDelayedCallback(func() {
			require.Equal(t, billing.SubscriptionSuspended, schedule(t, env).Status)
			h.credit(100)
			env.SignalWorkflow(workflows.SignalPaymentReceived, workflows.PaymentReceived{PaymentID: 1})
		}, paid.Sub(h.now))
	})
	require.NoError(t, err)
	require.NotNil(t, next)
	require.Equal(t, daily.ID, next.State.Plan.ProductID)
	sameTime(t, paid.Add(24*time.Hour), next.State.PaidUntil, "a day from the payment")
	require.Equal(t, int64(90), h.balance(), "one charge of 0.10")
}

// TestRowAnchorAfterExtend: the row's anchor_day follows an extension.
func TestRowAnchorAfterExtend(t *testing.T) {
	t.Parallel()
	h := setup(t, options{price: 100, autoRenew: true, incoming: 1, start: day(2028, 1, 31)})
	h.credit(200)
	var o *outcome
	var row billing.Subscription
	_, _, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
		steps(env, 24*time.Hour,
			func() { o = send(env, workflows.UpdateExtend, workflows.ExtendInput{Days: 2}) },
			func() {
				require.NoError(t, o.err)
				var err error
				row, err = h.store.Subscription(h.ctx, h.sub.ID)
				require.NoError(t, err)
			})
	})
	require.NoError(t, err)
	require.Equal(t, 2, o.schedule.AnchorDay)
	require.NotNil(t, row.AnchorDay)
	require.Equal(t, 2, *row.AnchorDay, "the row shows the anchor the schedule shows")
}

// TestRowAnchorAfterMoveToDaily: a monthly service moved to a daily product
// keeps no monthly anchor in its row once the daily product is charged.
func TestRowAnchorAfterMoveToDaily(t *testing.T) {
	t.Parallel()
	h := setup(t, options{price: 100, autoRenew: true, incoming: 1})
	h.credit(1000)
	daily := h.dailyProduct()
	next, _, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
		steps(env, 24*time.Hour, func() { send(env, workflows.UpdateChangeProduct, workflows.ChangeProductInput{ProductID: daily.ID}) })
	})
	require.NoError(t, err)
	require.NotNil(t, next)
	row, err := h.store.Subscription(h.ctx, h.sub.ID)
	require.NoError(t, err)
	require.Equal(t, daily.ID, row.ProductID)
	require.Nil(t, row.AnchorDay, "a daily service shows no monthly anchor")
}
