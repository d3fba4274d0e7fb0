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
