package workflows_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/workflows"
)

// kindOf makes h's product one of kind, as staff would with PUT /products/{id}.
func (h *harness) kindOf(kind string) {
	h.t.Helper()
	p := h.product
	p.Kind = kind
	var err error
	h.product, err = h.store.UpdateProduct(h.ctx, p.ID, p)
	require.NoError(h.t, err)
}

// TestActivationTextPerKind: the "activated" notice of a VPS, a shared
// hosting and a license has its kind's text (email and SMS), a product of
// kind "other" the general one; once each, whatever the kind.
func TestActivationTextPerKind(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ kind, subject, sms, event string }{
		{billing.KindVPS, "Your VPS VPS is ready", "Your VPS VPS (#", "activated_vps"},
		{billing.KindSharedHosting, "Your hosting VPS is ready", "Your hosting VPS (#", "activated_shared_hosting"},
		{billing.KindLicense, "Your license VPS is active", "Your license VPS (#", "activated_license"},
		{billing.KindOther, "Your service VPS is active", "VPS is active, paid until", "activated"},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			t.Parallel()
			h := setup(t, options{price: 700, autoRenew: true, incoming: 3})
			h.kindOf(tc.kind)
			h.credit(1400)
			next, _, err := h.run(h.input(), nil)
			require.NoError(t, err)
			require.NotNil(t, next, "renewed at the period's end")
			require.Equal(t, 1, h.out.count("email", tc.subject))
			require.Equal(t, 1, h.out.count("sms", tc.sms))
			require.Equal(t, 1, h.out.count("email", "is active")+h.out.count("email", "is ready"), "one activation mail")
			notices, err := h.store.Notices(h.ctx, h.sub.ID)
			require.NoError(t, err)
			var events []string
			for _, n := range notices {
				if n.Channel == billing.ChannelEmail && n.Period == 1 && n.Event != billing.MilestoneIncoming {
					events = append(events, n.Event)
				}
			}
			require.Contains(t, events, tc.event, "the log names the kind's event")
		})
	}
}

// TestLicenseUpdatesNotices: a license whose updates end on 2 March is told
// 5, 4, 3, 2, 1 and 0 days before, once each, across the renewal on 28
// February (the first four in the order's run, the last two in the next);
// every notice is in the schedule from the start. Staff then move the date to 8 March on
// 5 March at noon: the days still ahead (2, 1, 0) are told again for the
// new date, the passed ones are not sent late.
func TestLicenseUpdatesNotices(t *testing.T) {
	t.Parallel()
	h := setup(t, options{price: 100, autoRenew: true, incoming: 3})
	h.kindOf(billing.KindLicense)
	h.credit(300)
	in := h.input()
	in.UpdatesUntil = day(2026, 3, 2)
	var first []workflows.ScheduledStep
	next, _, err := h.run(in, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() { first = schedule(t, env).Next }, time.Hour)
	})
	require.NoError(t, err)
	require.NotNil(t, next)
	var license []time.Time
	for _, s := range first {
		if s.Milestone == billing.MilestoneLicenseUpdates {
			license = append(license, s.At)
			require.Contains(t, s.Detail, "days before")
		}
	}
	require.Equal(t, []time.Time{day(2026, 2, 25), day(2026, 2, 26), day(2026, 2, 27), day(2026, 2, 28), day(2026, 3, 1),
		day(2026, 3, 2)}, license, "the schedule shows every notice, also those after the renewal")
	require.Equal(t, 4, h.out.count("email", "Updates of your license"), "5, 4, 3, 2 days before, in the first run")
	for _, d := range []string{"5", "4", "3", "2"} {
		require.Equal(t, 1, h.out.count("email", "Updates of your license VPS end in "+d+" days"), d)
	}
	require.Equal(t, 0, h.out.count("email", "end in 1 days"))
	require.True(t, next.State.LicenseUpdates)

	var moved workflows.Schedule
	next2, _, err := h.run(*next, func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			env.UpdateWorkflow(workflows.UpdateUpdatesUntil, "u1", &testsuite.TestUpdateCallback{
				OnAccept: func() {},
				OnReject: func(err error) { t.Errorf("rejected: %v", err) },
				OnComplete: func(v any, err error) {
					require.NoError(t, err)
					moved = v.(workflows.Schedule)
				},
			}, workflows.SetUpdatesUntilInput{At: day(2026, 3, 8)})
		}, day(2026, 3, 5).Add(3*time.Hour).Sub(h.now))
	})
	require.NoError(t, err)
	require.NotNil(t, next2)
	var after []time.Time
	for _, s := range moved.Next {
		if s.Milestone == billing.MilestoneLicenseUpdates {
			after = append(after, s.At)
		}
	}
	require.Equal(t, []time.Time{day(2026, 3, 6), day(2026, 3, 7), day(2026, 3, 8)}, after, "only the days still ahead")
	for d, n := range map[string]int{"5": 1, "4": 1, "3": 1, "2": 2, "1": 2, "0": 2} {
		require.Equal(t, n, h.out.count("email", "Updates of your license VPS end in "+d+" days"), d)
	}
	require.Equal(t, 9, h.out.count("email", "Updates of your license"))

	// The next period has nothing left to tell.
	_, _, err = h.run(*next2, nil)
	require.NoError(t, err)
	require.Equal(t, 9, h.out.count("email", "Updates of your license"), "each notice exactly once")
}

// withParameters makes h's product ask for a domain and an OS template
// (required) and a note (optional).
func (h *harness) withParameters() {
	h.t.Helper()
	p := h.product
	p.OrderParameters = []billing.OrderParameter{{Name: "domain", Title: "Domain name", Required: true},
		{Name: "os", Title: "OS template", Required: true}, {Name: "note", Title: "Note"}}
	var err error
	h.product, err = h.store.UpdateProduct(h.ctx, p.ID, p)
	require.NoError(h.t, err)
}

// give stores values as PUT /subscriptions/{id}/parameters does and sends
// the workflow the update; got receives the schedule the update answers.
func (h *harness) give(env *testsuite.TestWorkflowEnvironment, id string, values map[string]string, got *workflows.Schedule) {
	h.t.Helper()
	given, missing, err := h.store.SetParameters(h.ctx, h.sub.ID, values)
	require.NoError(h.t, err)
	env.UpdateWorkflow(workflows.UpdateParameters, id, &testsuite.TestUpdateCallback{
		OnAccept: func() {},
		OnReject: func(err error) { h.t.Errorf("rejected: %v", err) },
		OnComplete: func(v any, err error) {
			require.NoError(h.t, err)
			*got = v.(workflows.Schedule)
		},
	}, workflows.SetParametersInput{Given: given, Missing: missing, Checked: true})
}

// TestOrderWaitsForParameters: a quick order (paid at once) lacking its
// required parameters is charged but not activated: it waits, status
// awaiting_parameters, the missing ones in the schedule and the row, with one
// order_parameters_needed mail naming them and no activation, no renewal
// scheduled. The domain alone leaves the OS template missing; the OS
// template activates it (the activated mail, once). The same update again
// changes nothing. The paid period ran from the charge.
func TestOrderWaitsForParameters(t *testing.T) {
	t.Parallel()
	h := setup(t, options{price: 900, autoRenew: true, incoming: 3})
	h.withParameters()
	h.credit(1800)
	start := h.now
	var waiting, half, done, again workflows.Schedule
	next, _, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			waiting = schedule(t, env)
			require.Equal(t, int64(900), h.balance(), "charged")
			require.Equal(t, 1, h.out.count("email", "we need a few details"))
			require.Equal(t, 0, h.out.count("email", "is active"))
			sub, err := h.store.Subscription(h.ctx, h.sub.ID)
			require.NoError(t, err)
			require.Equal(t, billing.SubscriptionAwaitingParameters, sub.Status, "the row shows it")
			h.give(env, "p1", map[string]string{"domain": "shop.example"}, &half)
		}, time.Hour)
		env.RegisterDelayedCallback(func() {
			require.Equal(t, 0, h.out.count("email", "is active"), "the OS template is still missing")
			h.give(env, "p2", map[string]string{"os": "debian-12", "note": "thanks"}, &done)
		}, 50*time.Hour)
		env.RegisterDelayedCallback(func() { h.give(env, "p3", map[string]string{"os": "debian-12"}, &again) }, 51*time.Hour)
	})
	require.NoError(t, err)
	require.NotNil(t, next, "renewed at the end of the period")

	require.Equal(t, billing.SubscriptionAwaitingParameters, waiting.Status)
	require.Equal(t, []billing.OrderParameter{{Name: "domain", Title: "Domain name", Required: true},
		{Name: "os", Title: "OS template", Required: true}}, waiting.AwaitingParameters)
	require.Empty(t, waiting.Next, "nothing is scheduled while it waits")
	sameTime(t, billing.AddPeriods(start, billing.PeriodMonth, 1), *waiting.PaidUntil, "the paid period runs from the charge")
	require.Equal(t, billing.SubscriptionAwaitingParameters, half.Status)
	require.Equal(t, []billing.OrderParameter{{Name: "os", Title: "OS template", Required: true}}, half.AwaitingParameters)
	require.Equal(t, billing.SubscriptionActive, done.Status)
	require.Empty(t, done.AwaitingParameters)
	require.NotEmpty(t, done.Next, "the renewal is scheduled")
	require.Equal(t, billing.SubscriptionActive, again.Status)

	require.Equal(t, 1, h.out.count("email", "we need a few details"), "once")
	require.Equal(t, 1, h.out.count("email", "is active"), "activated once")
	require.Equal(t, 1, h.out.count("email", "was renewed"))
	require.Equal(t, int64(0), h.balance(), "the order and one renewal")
	notices, err := h.store.Notices(h.ctx, h.sub.ID)
	require.NoError(t, err)
	for _, n := range notices {
		if n.Event == billing.MilestoneParametersNeeded {
			require.Contains(t, n.Body, "- Domain name (domain)\n- OS template (os)\n")
		}
	}
	sub, err := h.store.Subscription(h.ctx, h.sub.ID)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"domain": "shop.example", "os": "debian-12", "note": "thanks"}, sub.Parameters)
}

// TestParametersGivenBeforeTheCharge: parameters given while the order waits
// for a payment (or with it) are read by the charge: it activates directly,
// with no order_parameters_needed; the update they sent changed nothing.
func TestParametersGivenBeforeTheCharge(t *testing.T) {
	t.Parallel()
	h := setup(t, options{price: 900, autoRenew: true, incoming: 3})
	h.withParameters()
	var unpaid workflows.Schedule
	next, _, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			h.give(env, "p1", map[string]string{"domain": "shop.example", "os": "debian-12"}, &unpaid)
		}, time.Hour)
		env.RegisterDelayedCallback(func() {
			h.credit(900)
			env.SignalWorkflow(workflows.SignalPaymentReceived, workflows.PaymentReceived{PaymentID: 1})
		}, 2*time.Hour)
	})
	require.NoError(t, err)
	require.Nil(t, next, "not renewed: no money left")
	require.Equal(t, billing.SubscriptionUnpaid, unpaid.Status)
	require.Equal(t, 0, h.out.count("email", "we need a few details"))
	require.Equal(t, 1, h.out.count("email", "is active"))
}

// TestCancelWhileAwaitingParameters: staff (or the client) cancel a paid
// order that waits for its parameters: the charge is refunded, once, and it
// never activates.
func TestCancelWhileAwaitingParameters(t *testing.T) {
	t.Parallel()
	h := setup(t, options{price: 900, autoRenew: true, incoming: 3})
	h.withParameters()
	h.credit(900)
	next, res, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
		env.RegisterDelayedCallback(func() {
			require.Equal(t, int64(0), h.balance())
			env.UpdateWorkflow(workflows.UpdateCancel, "c1", &testsuite.TestUpdateCallback{
				OnAccept: func() {}, OnReject: func(err error) { t.Errorf("rejected: %v", err) },
				OnComplete: func(_ any, err error) { require.NoError(t, err) },
			}, workflows.CancelInput{})
		}, 3*24*time.Hour)
	})
	require.NoError(t, err)
	require.Nil(t, next)
	require.Equal(t, billing.SubscriptionCancelled, res.Status)
	require.Equal(t, int64(900), h.balance(), "refunded")
	require.Equal(t, 0, h.out.count("email", "is active"))
	require.Equal(t, 1, h.out.count("email", "was cancelled"))
}
