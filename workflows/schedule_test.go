package workflows

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
)

// TestEventsInCustomerTimeZone: day offsets are calendar days in the
// customer's time zone, so across the change to summer time a notice "3 days
// before" keeps its wall-clock time (and is 71 hours before, not 72).
func TestEventsInCustomerTimeZone(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	d := time.Date(2026, 3, 31, 10, 0, 0, 0, berlin)
	st := SubscriptionState{Status: billing.SubscriptionActive, AutoRenew: true, PaidUntil: d.UTC(),
		PeriodStart: d.AddDate(0, -1, 0).UTC(),
		Plan:        activities.Plan{Price: 100, Currency: "EUR", PeriodUnit: billing.PeriodMonth, PeriodCount: 1, IncomingDays: 3, TimeZone: "Europe/Berlin"}}
	events := st.events(Policy{LowMoneyDays: []int{3, 0}, NearDeleteDays: []int{1}, GraceDays: 5, SuspendAfterDays: 1})
	var keys []string
	for _, e := range events {
		keys = append(keys, e.Key)
		require.Equal(t, 10, e.At.In(berlin).Hour(), "%s keeps 10:00 in Berlin", e.Key)
	}
	require.Equal(t, []string{"incoming", "insufficient_funds:3", "insufficient_funds:0", "renewal"}, keys)
	require.Equal(t, 71*time.Hour, d.Sub(events[0].At), "three calendar days across the clock change")

	st.Done = []string{"incoming"}
	st.RenewalFailed = true
	events = st.events(Policy{LowMoneyDays: []int{3, 0}, NearDeleteDays: []int{1}, GraceDays: 5, SuspendAfterDays: 1})
	require.Equal(t, keySuspend, events[len(events)-1].Key)
	require.Equal(t, time.Date(2026, 4, 1, 10, 0, 0, 0, berlin), events[len(events)-1].At.In(berlin))

}

// TestEventsSkipNoticesBeforeThePeriod: a notice due before the period began
// (an incoming time earlier than the order) is not sent late.
func TestEventsSkipNoticesBeforeThePeriod(t *testing.T) {
	t.Parallel()
	start := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	st := SubscriptionState{Status: billing.SubscriptionActive, AutoRenew: true, PeriodStart: start, PaidUntil: start.Add(10 * time.Second),
		Plan: activities.Plan{Price: 100, PeriodUnit: billing.PeriodSecond, PeriodCount: 10, IncomingDays: 30, TimeZone: "UTC"}}
	events := st.events(DefaultPolicy)
	require.Equal(t, billing.MilestoneLowMoney, events[0].Milestone, "incoming 30 s before a 10 s period is skipped")
	require.Equal(t, keyRenewal, events[len(events)-1].Key)
}
