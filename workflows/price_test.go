package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/workflows"
)

// setPrice changes the product's price as staff would.
func (h *harness) setPrice(productID, price int64) {
	h.t.Helper()
	p, err := h.store.Product(h.ctx, productID)
	require.NoError(h.t, err)
	p.Price = price
	_, err = h.store.UpdateProduct(h.ctx, productID, p)
	require.NoError(h.t, err)
}

// otherProduct creates a second monthly product.
func (h *harness) otherProduct(name string, price int64) billing.Product {
	h.t.Helper()
	yes, one := true, 1
	in := billing.ProductInput{Name: name, Price: &price, Currency: "EUR", PeriodUnit: billing.PeriodMonth, AutoRenew: &yes, IncomingDays: &one,
		PaymentStates: map[string]billing.NoticeSetting{
			billing.StateIncoming:           {Email: true, Subject: "incoming [PAYMENT_AMOUNT] for [PAYMENT_NAME]", Body: "b"},
			billing.StateApproved:           {Email: true, Subject: "approved", Body: "b"},
			billing.StateNonSufficientFunds: {Email: true, Subject: "nsf [PAYMENT_AMOUNT] for [PAYMENT_NAME]", Body: "b"},
		}}
	p, err := h.store.CreateProduct(h.ctx, in.Product())
	require.NoError(h.t, err)
	return p
}

// TestNextPeriodPrice: after a price change or a change of product, every
// notice about the next period, the low-balance threshold, the schedule and
// the renewal use the price and product the next charge uses. The price is
// read at the period's first notice; a change after that applies from the
// period after.
func TestNextPeriodPrice(t *testing.T) {
	t.Parallel()
	renewal := day(2026, 2, 28).Sub(day(2026, 1, 31)) // from the order to the first renewal

	t.Run("price rise: warned at the new price, refused at it", func(t *testing.T) {
		t.Parallel()
		h := setup(t, options{price: 1000, autoRenew: true, incoming: 1})
		h.credit(1000 + 1200)
		var s workflows.Schedule
		_, _, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
			env.RegisterDelayedCallback(func() { h.setPrice(h.product.ID, 1500) }, 24*time.Hour)
			env.RegisterDelayedCallback(func() { s = schedule(t, env) }, renewal-12*time.Hour)
		})
		require.NoError(t, err)
		require.Equal(t, int64(1500), s.Price, "the schedule shows the next period's price")
		require.True(t, s.PriceAnnounced)
		require.Equal(t, 1, h.out.count("email", "incoming 15.00 EUR"), "the incoming notice names the new price")
		require.Equal(t, 0, h.out.count("email", "incoming 10.00 EUR"))
		require.Positive(t, h.out.count("email", "Insufficient funds"), "12.00 is below the new price: warned")
		require.Equal(t, 1, h.out.count("email", "nsf 15.00 EUR"), "refused at the new price, and the notice says so")
		require.Equal(t, int64(1200), h.balance(), "nothing charged")
	})
	t.Run("price drop: announced and charged at the new price", func(t *testing.T) {
		t.Parallel()
		h := setup(t, options{price: 1000, autoRenew: true, incoming: 1})
		h.credit(2000)
		next, _, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
			env.RegisterDelayedCallback(func() { h.setPrice(h.product.ID, 800) }, 24*time.Hour)
		})
		require.NoError(t, err)
		require.NotNil(t, next)
		require.Equal(t, 1, h.out.count("email", "incoming 8.00 EUR"))
		require.Equal(t, 0, h.out.count("email", "Insufficient funds"))
		require.Equal(t, int64(2000-1000-800), h.balance())
		require.Equal(t, int64(800), next.State.Plan.Price)
	})
	t.Run("a change after the announcement applies from the period after", func(t *testing.T) {
		t.Parallel()
		h := setup(t, options{price: 1000, autoRenew: true, incoming: 1})
		h.credit(5000)
		next, _, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
			env.RegisterDelayedCallback(func() { h.setPrice(h.product.ID, 1500) }, renewal-12*time.Hour)
		})
		require.NoError(t, err)
		require.NotNil(t, next)
		require.Equal(t, 1, h.out.count("email", "incoming 10.00 EUR"))
		require.Equal(t, int64(5000-1000-1000), h.balance(), "charged what was announced")
		next, _, err = h.run(*next, nil)
		require.NoError(t, err)
		require.NotNil(t, next)
		require.Equal(t, 1, h.out.count("email", "incoming 15.00 EUR"), "the period after is announced at the new price")
		require.Equal(t, int64(5000-1000-1000-1500), h.balance())
	})
	t.Run("change to a dearer product", func(t *testing.T) {
		t.Parallel()
		h := setup(t, options{price: 1000, autoRenew: true, incoming: 1})
		h.credit(1000 + 2500)
		large := h.otherProduct("VPS L", 2500)
		var o *outcome
		next, _, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
			env.RegisterDelayedCallback(func() {
				o = send(env, workflows.UpdateChangeProduct, workflows.ChangeProductInput{ProductID: large.ID})
			}, 24*time.Hour)
		})
		require.NoError(t, err)
		require.NoError(t, o.err)
		require.NotNil(t, next)
		require.Equal(t, 1, h.out.count("email", "incoming 25.00 EUR for VPS L"), "the new product's notice and price")
		require.Equal(t, 0, h.out.count("email", "Insufficient funds"), "25.00 is covered")
		require.Equal(t, int64(0), h.balance())
		require.Equal(t, large.ID, next.State.Plan.ProductID)
		sub, err := h.store.Subscription(h.ctx, h.sub.ID)
		require.NoError(t, err)
		require.Equal(t, large.ID, sub.ProductID)
	})
	t.Run("change of product on an unpaid order", func(t *testing.T) {
		t.Parallel()
		h := setup(t, options{price: 1000, autoRenew: true, incoming: 1})
		small := h.otherProduct("VPS XS", 300)
		var o *outcome
		next, _, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
			steps(env, time.Hour,
				func() {
					o = send(env, workflows.UpdateChangeProduct, workflows.ChangeProductInput{ProductID: small.ID})
				},
				func() {
					require.NoError(t, o.err)
					h.credit(300)
					env.SignalWorkflow(workflows.SignalPaymentReceived, workflows.PaymentReceived{PaymentID: 1})
				},
				func() {
					s := schedule(t, env)
					require.Equal(t, billing.SubscriptionActive, s.Status, "the order is paid with the product it now is")
					require.Equal(t, int64(300), s.Price)
				})
		})
		require.NoError(t, err)
		_ = next
		require.Equal(t, int64(0), h.balance(), "charged 3.00 for VPS XS, not 10.00")
		sub, err := h.store.Subscription(h.ctx, h.sub.ID)
		require.NoError(t, err)
		require.Equal(t, small.ID, sub.ProductID)
	})
}

// TestPaidDuringGraceShortPeriods: a service suspended for debt and paid
// after its old period would already have ended is renewed from the payment:
// paid into the future, charged once, suspended once, and not deleted.
func TestPaidDuringGraceShortPeriods(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		unit  string
		count int
		payAt time.Duration // after the order
		want  time.Duration // paid-until after the order
	}{
		// Daily: paid until day 1, renewal fails, suspended on day 2, paid on day 5.
		{"daily, paid on day 5", billing.PeriodDay, 1, 5 * 24 * time.Hour, 6 * 24 * time.Hour},
		// Every 5 seconds: suspended at 6 s, deleted at 20 s, paid at 15 s.
		{"every 5 seconds, paid at 15 s", billing.PeriodSecond, 5, 15 * time.Second, 20 * time.Second},
		{"every 2 minutes, paid at 9 min", billing.PeriodMinute, 2, 9 * time.Minute, 11 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := setup(t, options{price: 100, unit: tc.unit, count: tc.count, autoRenew: true, incoming: 1})
			h.credit(100)
			start := h.now
			next, res, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
				env.RegisterDelayedCallback(func() {
					require.Equal(t, billing.SubscriptionSuspended, schedule(t, env).Status)
					h.credit(100)
					env.SignalWorkflow(workflows.SignalPaymentReceived, workflows.PaymentReceived{PaymentID: 1})
				}, tc.payAt)
			})
			require.NoError(t, err)
			require.NotNil(t, next, "renewed, not deleted: %+v", res)
			require.Equal(t, billing.SubscriptionActive, next.State.Status)
			sameTime(t, start.Add(tc.want), next.State.PaidUntil, "paid from the payment into the future")
			require.Equal(t, int64(0), h.balance(), "the order and one renewal")
			require.Equal(t, 1, h.out.count("email", "is suspended"), "suspended once")
			// The next run waits for its next renewal: nothing due at once.
			s := next.State
			require.True(t, s.PaidUntil.After(h.now), "the new period ends in the future")
		})
	}
}

// TestFailedResumeKeepsTheGracePeriod: staff resuming a service suspended
// for debt, without the money, is refused and the deletion date stays.
func TestFailedResumeKeepsTheGracePeriod(t *testing.T) {
	t.Parallel()
	h := setup(t, options{price: 100, unit: billing.PeriodDay, autoRenew: true, incoming: 1})
	h.credit(100)
	start := h.now
	var o *outcome
	var deleteAt time.Time
	_, res, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
		steps(env, 3*24*time.Hour,
			func() {
				s := schedule(t, env)
				require.Equal(t, billing.SubscriptionSuspended, s.Status)
				deleteAt = s.Next[len(s.Next)-1].At
				o = send(env, workflows.UpdateResume, workflows.ResumeInput{})
			},
			func() {
				require.True(t, o.done)
				require.Error(t, o.err, "no money: the resume is refused")
				s := schedule(t, env)
				require.Equal(t, billing.SubscriptionSuspended, s.Status)
				require.Equal(t, deleteAt, s.Next[len(s.Next)-1].At, "the deletion date stays")
			})
	})
	require.NoError(t, err)
	require.Equal(t, billing.SubscriptionDeleted, res.Status)
	sameTime(t, start.Add((2+14)*24*time.Hour), deleteAt, "suspended on day 2, deleted 14 days later")
	sameTime(t, deleteAt, h.now, "deleted then")
	require.Equal(t, 1, h.out.count("email", "is suspended"))
}

// TestUnpaidOrderExpires: an order never paid is cancelled after
// Policy.UnpaidOrderDays, with a notice and nothing charged; one paid in
// time activates; one whose payment signal was lost is still charged by the
// last try at the deadline.
func TestUnpaidOrderExpires(t *testing.T) {
	t.Parallel()
	t.Run("never paid", func(t *testing.T) {
		t.Parallel()
		h := setup(t, options{price: 500, autoRenew: true, incoming: 1})
		start := h.now
		next, res, err := h.run(h.input(), nil)
		require.NoError(t, err)
		require.Nil(t, next)
		require.Equal(t, billing.SubscriptionCancelled, res.Status)
		sameTime(t, start.Add(3*24*time.Hour), h.now, "expired 3 days after the order")
		require.Equal(t, 1, h.out.count("email", "order of VPS was cancelled"))
		require.Equal(t, 1, h.out.count("email", "was cancelled"), "one notice: the order's, not also the service's cancellation")
		sub, err := h.store.Subscription(h.ctx, h.sub.ID)
		require.NoError(t, err)
		require.Equal(t, billing.SubscriptionCancelled, sub.Status)
		require.Equal(t, "not paid in time", sub.SuspendReason)
	})
	t.Run("paid on day 2", func(t *testing.T) {
		t.Parallel()
		h := setup(t, options{price: 500, autoRenew: true, incoming: 1})
		var s workflows.Schedule
		_, _, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
			env.RegisterDelayedCallback(func() {
				s = schedule(t, env)
				h.credit(500)
				env.SignalWorkflow(workflows.SignalPaymentReceived, workflows.PaymentReceived{PaymentID: 1})
			}, 48*time.Hour)
			env.RegisterDelayedCallback(func() {
				require.Equal(t, billing.SubscriptionActive, schedule(t, env).Status, "still active after the deadline")
			}, 4*24*time.Hour)
		})
		require.NoError(t, err)
		require.Equal(t, billing.MilestoneOrderExpired, s.Next[0].Milestone, "the schedule shows when the order expires")
		require.Equal(t, 0, h.out.count("email", "order of VPS was cancelled"))
	})
	t.Run("payment signal lost: the last try charges", func(t *testing.T) {
		t.Parallel()
		h := setup(t, options{price: 500, autoRenew: true, incoming: 1})
		_, _, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
			env.RegisterDelayedCallback(func() { h.credit(500) }, 24*time.Hour) // no signal
			env.RegisterDelayedCallback(func() {
				require.Equal(t, billing.SubscriptionActive, schedule(t, env).Status)
			}, 3*24*time.Hour+time.Minute)
		})
		require.NoError(t, err)
		require.Equal(t, 0, h.out.count("email", "order of VPS was cancelled"))
		require.Equal(t, 1, h.out.count("email", "is active"))
	})
}
