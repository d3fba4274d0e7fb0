package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/workflows"
)

// TestUpdateAtThePeriodBoundary sends a staff action at the moment a run is
// ending: while the renewal's notices go out, before continue-as-new. The
// action must complete all the same: answered, its notice sent, its row
// written, and a cancel ends the workflow instead of a new run. Repeated, and
// for each kind of update.
func TestUpdateAtThePeriodBoundary(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		update string
		arg    any
		status string // of the subscription afterwards
		notice string // the update's notice
	}{
		{"cancel now", workflows.UpdateCancel, workflows.CancelInput{}, billing.SubscriptionCancelled, "was cancelled"},
		{"suspend", workflows.UpdateSuspend, workflows.SuspendInput{Reason: "abuse"}, billing.SubscriptionSuspended, "is suspended"},
		{"extend", workflows.UpdateExtend, workflows.ExtendInput{Days: 3}, billing.SubscriptionActive, ""},
	} {
		for i := range 5 {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				_ = i
				h := setup(t, options{price: 100, autoRenew: true, incoming: 1})
				h.credit(200)
				var r *race
				next, res, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
					// The renewal's notices go out for period 2.
					r = onStart(env, "SendNotices", func(in activities.SendNoticesInput) bool { return in.Period == 2 }, tc.update, tc.arg)
				})
				require.NoError(t, err)
				o := r.answered(t)
				require.Equal(t, tc.status, o.schedule.Status)
				if tc.status == billing.SubscriptionCancelled {
					require.Nil(t, next, "a cancelled service ends instead of continuing")
					require.Equal(t, billing.SubscriptionCancelled, res.Status)
				} else {
					require.NotNil(t, next, "the next run starts")
					require.Equal(t, tc.status, next.State.Status)
					require.Empty(t, next.State.Followups, "nothing is carried over half-done")
				}
				if tc.notice != "" {
					require.Equal(t, 1, h.out.count("email", tc.notice), "the update's notice is sent, once")
				}
				sub, err := h.store.Subscription(h.ctx, h.sub.ID)
				require.NoError(t, err)
				require.Equal(t, tc.status, sub.Status, "the row is written")
			})
		}
	}
}

// TestCancelRacesPayment: a client with no funds cancels an order while a
// payment arrives. Whatever the order of arrival, even a payment whose
// charge is under way when the cancel is accepted, the order ends cancelled,
// the customer keeps the money, and "is active" is never sent.
func TestCancelRacesPayment(t *testing.T) {
	t.Parallel()
	for _, order := range []string{"cancel during the order's charge", "cancel, then payment", "payment, then cancel"} {
		for i := range 3 {
			t.Run(order, func(t *testing.T) {
				t.Parallel()
				_ = i
				h := setup(t, options{price: 500, autoRenew: true, incoming: 1})
				var o *outcome
				var r *race
				pay := func(env *testsuite.TestWorkflowEnvironment) {
					h.credit(500)
					env.SignalWorkflow(workflows.SignalPaymentReceived, workflows.PaymentReceived{PaymentID: 1})
				}
				cancel := func(env *testsuite.TestWorkflowEnvironment) {
					o = send(env, workflows.UpdateCancel, workflows.CancelInput{})
				}
				next, res, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
					switch order {
					case "cancel during the order's charge":
						r = onStart(env, "ChargePeriod", func(in activities.ChargePeriodInput) bool {
							return in.Period == 1 && h.balance() == 500 // the charge the payment allows
						}, workflows.UpdateCancel, workflows.CancelInput{})
						env.RegisterDelayedCallback(func() { pay(env) }, time.Hour)
					case "cancel, then payment":
						env.RegisterDelayedCallback(func() { cancel(env); pay(env) }, time.Hour)
					default:
						env.RegisterDelayedCallback(func() { pay(env); cancel(env) }, time.Hour)
					}
				})
				require.NoError(t, err)
				if r != nil {
					o = r.o
				}
				require.Nil(t, next)
				require.Equal(t, billing.SubscriptionCancelled, res.Status)
				require.NotNil(t, o, "the cancel was sent")
				require.True(t, o.done)
				require.NoError(t, o.rejected)
				require.NoError(t, o.err)
				require.Equal(t, billing.SubscriptionCancelled, o.schedule.Status)
				require.Equal(t, int64(500), h.balance(), "the customer keeps the money")
				require.Equal(t, 0, h.out.count("email", "is active"), "the cancelled order is never announced")
				require.Equal(t, 1, h.out.count("email", "was cancelled"))
				sub, err := h.store.Subscription(h.ctx, h.sub.ID)
				require.NoError(t, err)
				require.Equal(t, billing.SubscriptionCancelled, sub.Status)
			})
		}
	}
}

// TestRenewNowTwice: "renew now" names the period it charges, so a double
// click charges once and the second answers a conflict; without a period,
// the period is the one next when the action was accepted.
func TestRenewNowTwice(t *testing.T) {
	t.Parallel()
	for _, named := range []bool{true, false} {
		t.Run(map[bool]string{true: "period named", false: "no period named"}[named], func(t *testing.T) {
			t.Parallel()
			h := setup(t, options{price: 100, autoRenew: true, incoming: 1})
			h.credit(1000)
			var first, second *outcome
			in := workflows.RenewNowInput{}
			if named {
				in.Period = 2
			}
			next, _, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
				env.RegisterDelayedCallback(func() {
					first = send(env, workflows.UpdateRenewNow, in)
					second = send(env, workflows.UpdateRenewNow, in)
				}, 24*time.Hour)
			})
			require.NoError(t, err)
			require.NotNil(t, next)
			require.True(t, first.done)
			require.True(t, second.done)
			require.NoError(t, first.rejected)
			require.NoError(t, first.err)
			require.Equal(t, 2, first.schedule.Period)
			var refused error = second.rejected
			if refused == nil {
				refused = second.err
			}
			require.ErrorContains(t, refused, "period 2 is already charged")
			require.Equal(t, 2, next.State.Period)
			require.Equal(t, int64(800), h.balance(), "the order and one renewal: two charges of 1.00")
		})
	}
}
