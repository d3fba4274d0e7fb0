package workflows_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/workflows"
)

// day is 09:00 on a date, in UTC.
func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 9, 0, 0, 0, time.UTC) }

// TestCalendarAnchoring orders monthly services on the days short months cut
// short, and checks every paid-until date, period by period: the order's day
// is the anchor, and a short month clamps only the period that ends in it.
func TestCalendarAnchoring(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		start time.Time
		count int
		want  []time.Time // paid-until after the order, then after each renewal
	}{
		{"ordered on 31 January 2028, monthly", day(2028, 1, 31), 1,
			[]time.Time{day(2028, 2, 29), day(2028, 3, 31), day(2028, 4, 30), day(2028, 5, 31), day(2028, 6, 30), day(2028, 7, 31)}},
		{"ordered on 30 January 2027, monthly", day(2027, 1, 30), 1,
			[]time.Time{day(2027, 2, 28), day(2027, 3, 30), day(2027, 4, 30), day(2027, 5, 30)}},
		{"ordered on 29 January 2027, monthly", day(2027, 1, 29), 1,
			[]time.Time{day(2027, 2, 28), day(2027, 3, 29), day(2027, 4, 29)}},
		{"ordered on 31 December 2027, across the year end", day(2027, 12, 31), 1,
			[]time.Time{day(2028, 1, 31), day(2028, 2, 29), day(2028, 3, 31), day(2028, 4, 30)}},
		{"ordered on 31 August 2027, every 3 months", day(2027, 8, 31), 3,
			[]time.Time{day(2027, 11, 30), day(2028, 2, 29), day(2028, 5, 31), day(2028, 8, 31), day(2028, 11, 30)}},
		{"ordered on 31 August 2027, every 6 months", day(2027, 8, 31), 6,
			[]time.Time{day(2028, 2, 29), day(2028, 8, 31), day(2029, 2, 28), day(2029, 8, 31)}},
		{"ordered on 29 February 2028, yearly", day(2028, 2, 29), 12,
			[]time.Time{day(2029, 2, 28), day(2030, 2, 28), day(2031, 2, 28), day(2032, 2, 29)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := setup(t, options{price: 100, count: tc.count, autoRenew: true, incoming: 1, start: tc.start})
			h.credit(100 * int64(len(tc.want)))
			var got []time.Time
			var anchor int
			// The first run holds the order and the first renewal: read the
			// order's date from the schedule an hour in.
			in, _, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
				env.RegisterDelayedCallback(func() {
					s := schedule(t, env)
					got = append(got, *s.PaidUntil)
					anchor = s.AnchorDay
				}, time.Hour)
			})
			require.NoError(t, err)
			require.NotNil(t, in)
			require.Equal(t, tc.start.Day(), anchor, "the schedule shows the anchor")
			got = append(got, in.State.PaidUntil)
			for len(got) < len(tc.want) {
				in, _, err = h.run(*in, nil)
				require.NoError(t, err)
				require.NotNil(t, in)
				require.Equal(t, tc.start.Day(), in.State.AnchorDay, "the anchor survives continue-as-new")
				got = append(got, in.State.PaidUntil)
			}
			for i := range tc.want {
				sameTime(t, tc.want[i], got[i], fmt.Sprint("paid-until after period ", i+1))
			}
			sub, err := h.store.Subscription(h.ctx, h.sub.ID)
			require.NoError(t, err)
			require.NotNil(t, sub.AnchorDay)
			require.Equal(t, tc.start.Day(), *sub.AnchorDay, "the row keeps the anchor")
			sameTime(t, tc.want[len(tc.want)-1], *sub.PaidUntil, "the row's paid-until")
		})
	}
}

// TestAnchorAfterStaffActions: "renew now", a renewal from the old date
// after suspension, and an extension keep to the calendar.
func TestAnchorAfterStaffActions(t *testing.T) {
	t.Parallel()
	t.Run("renew now from 29 February, anchored on the 31st", func(t *testing.T) {
		t.Parallel()
		h := setup(t, options{price: 100, autoRenew: true, incoming: 1, start: day(2028, 1, 31)})
		h.credit(200)
		var o *outcome
		in, _, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
			steps(env, 24*time.Hour,
				func() { o = send(env, workflows.UpdateRenewNow, workflows.RenewNowInput{Period: 2}) },
				func() {
					require.NoError(t, o.rejected)
					require.NoError(t, o.err)
					sameTime(t, day(2028, 3, 31), *o.schedule.PaidUntil, "renewed now: 31 March")
				})
		})
		require.NoError(t, err)
		require.NotNil(t, in)
		sameTime(t, day(2028, 3, 31), in.State.PaidUntil, "31 March")
	})
	t.Run("paid during suspension, renewed from 29 February", func(t *testing.T) {
		t.Parallel()
		h := setup(t, options{price: 100, autoRenew: true, incoming: 1, start: day(2028, 1, 31)})
		h.credit(100)
		in, _, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
			// Renewal fails on 29 February, suspension on 1 March; paid on 3 March.
			env.RegisterDelayedCallback(func() {
				require.Equal(t, billing.SubscriptionSuspended, schedule(t, env).Status)
				h.credit(100)
				env.SignalWorkflow(workflows.SignalPaymentReceived, workflows.PaymentReceived{PaymentID: 1})
			}, day(2028, 3, 3).Sub(day(2028, 1, 31)))
		})
		require.NoError(t, err)
		require.NotNil(t, in)
		sameTime(t, day(2028, 3, 31), in.State.PaidUntil, "renewed from the old date: 31 March")
	})
	t.Run("an extension moves the anchor to its new date", func(t *testing.T) {
		t.Parallel()
		h := setup(t, options{price: 100, autoRenew: true, incoming: 1, start: day(2028, 1, 31)})
		h.credit(200)
		var o *outcome
		in, _, err := h.run(h.input(), func(env *testsuite.TestWorkflowEnvironment) {
			steps(env, 24*time.Hour,
				func() { o = send(env, workflows.UpdateExtend, workflows.ExtendInput{Days: 2}) },
				func() {
					require.NoError(t, o.err)
					sameTime(t, day(2028, 3, 2), *o.schedule.PaidUntil, "29 February + 2 days")
					require.Equal(t, 2, o.schedule.AnchorDay)
				})
		})
		require.NoError(t, err)
		require.NotNil(t, in)
		sameTime(t, day(2028, 4, 2), in.State.PaidUntil, "then monthly from the 2nd")
	})
}

// TestEmbeddedTimeZones: workflows read zones from the embedded database,
// with the machine's rules for the same dates (Berlin's DST change).
func TestEmbeddedTimeZones(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Lord_Howe"} {
		loc := workflows.LoadLocation(name)
		require.Equal(t, name, loc.String())
		sys, err := time.LoadLocation(name)
		require.NoError(t, err)
		for _, d := range []time.Time{day(2026, 3, 29), day(2026, 10, 25), day(2027, 1, 1), day(2027, 7, 1)} {
			_, off := d.In(loc).Zone()
			_, want := d.In(sys).Zone()
			require.Equal(t, want, off, "%s on %s", name, d)
		}
	}
	require.Equal(t, time.UTC, workflows.LoadLocation("Mars/Olympus_Mons"), "an unknown zone is UTC")
}
