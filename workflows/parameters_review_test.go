package workflows_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/mock"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

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
				onActivityStart(env, func(name string, args converter.EncodedValues) {
					if name == tc.activity && tc.match(args) {
						once.Do(func() {
							given, missing, err := h.store.SetParameters(h.ctx, h.sub.ID, map[string]string{"domain": "shop.example", "os": "debian-12"})
							require.NoError(t, err)
							o = send(env, workflows.UpdateParameters, workflows.SetParametersInput{Given: given, Missing: missing, Checked: true})
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

// TestCancelWhileTheOrderIsCharged: the client cancels the order while its
// charge runs, and the charge finds the parameters missing. The cancel acts
// after the charge: the period is refunded, the order cancelled, and the
// customer is not asked for the parameters of an order they cancelled.
func TestCancelWhileTheOrderIsCharged(t *testing.T) {
	t.Parallel()
	h := setup(t, options{price: 900, autoRenew: true, incoming: 3})
	h.withParameters()
	h.credit(900)
	var r *race
	next, res, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
		r = onStart(env, "ChargePeriod", chargeOf(1), workflows.UpdateCancel, workflows.CancelInput{})
	})
	require.NoError(t, err)
	r.answered(t)
	require.Nil(t, next)
	require.Equal(t, billing.SubscriptionCancelled, res.Status)
	require.Equal(t, int64(900), h.balance(), "refunded")
	require.Equal(t, 0, h.out.count("email", "is active"))
	require.Equal(t, 1, h.out.count("email", "was cancelled"))
	require.Equal(t, 0, h.out.count("email", "we need a few details"), "not asked for the parameters of a cancelled order")
}

// TestParameterNoLongerDeclared: an order waits for a domain and an OS
// template; staff then drop the OS template from the product. The client
// can't give it any more (422), so giving the domain activates the order:
// nothing it waits for is still required.
func TestParameterNoLongerDeclared(t *testing.T) {
	t.Parallel()
	h := setup(t, options{price: 900, autoRenew: true, incoming: 3})
	h.withParameters()
	h.credit(900)
	var got workflows.Schedule
	_, _, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			require.Equal(t, billing.SubscriptionAwaitingParameters, schedule(t, env).Status)
			p := h.product
			p.OrderParameters = []billing.OrderParameter{{Name: "domain", Title: "Domain name", Required: true}}
			var err error
			h.product, err = h.store.UpdateProduct(h.ctx, p.ID, p)
			require.NoError(t, err)
			_, _, err = h.store.SetParameters(h.ctx, h.sub.ID, map[string]string{"os": "debian-12"})
			require.Equal(t, billing.EINVALID, billing.ErrorCode(err), "the OS template is no longer a parameter")
			h.give(env, "p1", map[string]string{"domain": "shop.example"}, &got)
		}, time.Hour)
		env.RegisterDelayedCallback(func() { env.CancelWorkflow() }, 2*time.Hour)
	})
	require.Error(t, err, "cancelled by the test")
	require.Equal(t, billing.SubscriptionActive, got.Status, "no required parameter is missing")
	require.Empty(t, got.AwaitingParameters)
	require.Equal(t, 1, h.out.count("email", "is active"))
}

// TestLicenseNoticeDuringTheRenewal: a license's last updates notice ("0
// days") falls half a second after the renewal of 28 February 09:00, and
// the renewal's charge takes a retry (a second). The notice falls while the
// renewal runs, before the next run starts: it is sent once, not lost at the
// continue-as-new. The charge is an ordinary activity in runs before
// cycle-cost version 3, which this plays (the SDK's test environment can't
// retry a local activity: it finds its deadline passed); since, it is a
// local one, retried inside the renewal's workflow task, and the notice
// falls after the renewal's moment all the same.
func TestLicenseNoticeDuringTheRenewal(t *testing.T) {
	t.Parallel()
	for _, v := range []workflow.Version{2, 3} {
		t.Run(fmt.Sprintf("cycle-cost %d", v), func(t *testing.T) { licenseNoticeDuringTheRenewal(t, v) })
	}
}

func licenseNoticeDuringTheRenewal(t *testing.T, v workflow.Version) {
	t.Parallel()
	h := setup(t, options{price: 100, autoRenew: true, incoming: 3})
	h.kindOf(billing.KindLicense)
	h.credit(300)
	in := h.input()
	in.UpdatesUntil = day(2026, 2, 28).Add(500 * time.Millisecond)
	failed := v >= 3
	next, _, err := h.run(in, func(env *testsuite.TestWorkflowEnvironment) {
		env.OnGetVersion("cycle-cost", workflow.DefaultVersion, workflows.LatestCycleCost).Return(v)
		env.OnActivity("ChargePeriod", mock.Anything, mock.Anything).Return(
			func(ctx context.Context, in activities.ChargePeriodInput) (activities.ChargePeriodResult, error) {
				if in.Period == 2 && !failed {
					failed = true
					return activities.ChargePeriodResult{}, errors.New("database restarting")
				}
				return h.acts.ChargePeriod(ctx, in)
			})
	})
	require.NoError(t, err)
	require.NotNil(t, next)
	require.True(t, failed, "the renewal's charge was retried (before version 3)")
	sameTime(t, day(2026, 3, 31), next.State.PaidUntil, "renewed")
	require.Equal(t, 5, h.out.count("email", "Updates of your license"), "5 to 1 days before, in the first run")
	_, _, err = h.run(*next, func(env *testsuite.TestWorkflowEnvironment) {
		env.OnGetVersion("cycle-cost", workflow.DefaultVersion, workflows.LatestCycleCost).Return(v)
		env.RegisterDelayedCallback(func() { env.CancelWorkflow() }, 24*time.Hour)
	})
	require.Error(t, err, "cancelled by the test")
	require.Equal(t, 1, h.out.count("email", "Updates of your license VPS end in 0 days"), "the last notice, once")
	require.Equal(t, 6, h.out.count("email", "Updates of your license"))
}

// TestLicenseChangedToAnotherKind: a license whose updates end on 10 March
// is changed to a VPS product from its renewal on 28 February. In March the
// service is a VPS: no "updates of your license" notice goes out for it.
func TestLicenseChangedToAnotherKind(t *testing.T) {
	t.Parallel()
	h := setup(t, options{price: 100, autoRenew: true, incoming: 3})
	h.kindOf(billing.KindLicense)
	h.credit(300)
	price, yes, three := int64(100), true, 3
	pin := billing.ProductInput{Name: "Cloud VPS", Price: &price, Currency: "EUR", PeriodUnit: billing.PeriodMonth, AutoRenew: &yes,
		IncomingDays: &three, Kind: billing.KindVPS}
	vps, err := h.store.CreateProduct(h.ctx, pin.Product())
	require.NoError(t, err)
	in := h.input()
	in.UpdatesUntil = day(2026, 3, 10)
	var changed *outcome
	next, _, err := h.run(in, func(env *testsuite.TestWorkflowEnvironment) {
		steps(env, 24*time.Hour, func() {
			changed = send(env, workflows.UpdateChangeProduct, workflows.ChangeProductInput{ProductID: vps.ID})
		})
	})
	require.NoError(t, err)
	require.NotNil(t, next)
	require.True(t, changed.done)
	require.NoError(t, changed.err)
	require.Equal(t, vps.ID, next.State.Plan.ProductID, "period 2 is a VPS")
	_, _, err = h.run(*next, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() { env.CancelWorkflow() }, day(2026, 3, 15).Sub(h.now))
	})
	require.Error(t, err, "cancelled by the test")
	require.Equal(t, 0, h.out.count("email", "Updates of your license"), "a VPS has no license updates")
}
