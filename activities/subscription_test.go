package activities_test

import (
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/metrics"
)

// TestChargePeriodBeyondTheBalanceCap: a post-paid customer's charge that
// would take the balance below -MaxBalance is declined, not retried: the
// workflow handles it like any declined charge.
func TestChargePeriodBeyondTheBalanceCap(t *testing.T) {
	t.Parallel()
	f := setup(t, billing.ProductInput{})
	_, err := f.st.Pool().Exec(f.ctx, `UPDATE customers SET post_paid = true WHERE id = $1`, f.cust.ID)
	require.NoError(t, err)
	_, err = f.st.Pool().Exec(f.ctx, `INSERT INTO ledger_entries (customer_id, kind, amount, currency, reason, idempotency_key)
		SELECT $1, 'debit', $2, 'EUR', 'adjustment', $3 || g FROM generate_series(1, 1000) g`,
		f.cust.ID, billing.MaxAmount, "seed:"+rand.Text()+":")
	require.NoError(t, err)
	_, err = f.st.Adjust(f.ctx, f.cust.ID, billing.Adjustment{Kind: billing.Credit, Amount: 100, Currency: "EUR", Reference: "x", IdempotencyKey: rand.Text()})
	require.NoError(t, err)

	_, err = f.acts.ChargePeriod(f.ctx, activities.ChargePeriodInput{SubscriptionID: f.sub.ID, CustomerID: f.cust.ID, Period: 1, ErrorCodes: true, From: time.Now()})
	var appErr *temporal.ApplicationError
	require.True(t, errors.As(err, &appErr), "%v", err)
	require.True(t, appErr.NonRetryable())
	require.Equal(t, activities.ErrChargeDeclined, appErr.Type())
	require.Contains(t, appErr.Message(), "EUR")
	var plan activities.Plan
	require.NoError(t, appErr.Details(&plan), "the plan rides along, as with every refusal")
	require.Equal(t, int64(250), plan.Price)

	b, err := f.st.Balance(f.ctx, f.cust.ID)
	require.NoError(t, err)
	require.Equal(t, 100-billing.MaxBalance, b.Of("EUR"), "nothing charged")
	sub, err := f.st.Subscription(f.ctx, f.sub.ID)
	require.NoError(t, err)
	require.Equal(t, billing.SubscriptionUnpaid, sub.Status)
}

// TestChargePeriodReadsTheSettings: a charge brings the policy of the stored
// settings along, read at the charge; nil while none are stored.
func TestChargePeriodReadsTheSettings(t *testing.T) {
	t.Parallel()
	free := int64(0)
	f := setupOn(t, dbtest.OwnPool(t), billing.ProductInput{Price: &free})
	charge := func(period int) *billing.Policy {
		res, err := f.acts.ChargePeriod(f.ctx, activities.ChargePeriodInput{SubscriptionID: f.sub.ID, CustomerID: f.cust.ID,
			Period: period, From: time.Now()})
		require.NoError(t, err)
		return res.Policy
	}
	require.Nil(t, charge(1), "no settings stored: the workflow keeps its own")
	grace := 9
	_, err := f.st.UpdateSettings(f.ctx, billing.DefaultSettings(), billing.SettingsUpdate{GraceDays: &grace, LowMoneyExpirePeriod: &[]int{1, 3}})
	require.NoError(t, err)
	want := billing.DefaultSettings().Policy()
	want.GraceDays, want.LowMoneyDays = 9, []int{3, 1}
	require.Equal(t, &want, charge(2))
}

// TestChargesCountedOnce: billing_charges_made_total counts a period's
// charge once, though the activity runs again after its transaction
// committed (a retry finds the charge written and charges nothing); a free
// period writes no charge and counts none; an overage charge counts as one
// made; a refusal counts as refused by its code, never as made.
func TestChargesCountedOnce(t *testing.T) {
	t.Parallel()
	f := setup(t, billing.ProductInput{Resources: []billing.Resource{{Name: "disk", Unit: "GB", Included: 10, OveragePrice: 200}}})
	m, err := metrics.New(nil)
	require.NoError(t, err)
	f.acts.Metrics = m
	_, err = f.st.Adjust(f.ctx, f.cust.ID, billing.Adjustment{Kind: billing.Credit, Amount: 250, Currency: "EUR", Reference: "x", IdempotencyKey: rand.Text()})
	require.NoError(t, err)
	from := time.Now().Add(-40 * 24 * time.Hour)
	in := activities.ChargePeriodInput{SubscriptionID: f.sub.ID, CustomerID: f.cust.ID, Period: 1, ErrorCodes: true, From: from}
	for range 3 { // the first attempt and two retries after its commit
		_, err := f.acts.ChargePeriod(f.ctx, in)
		require.NoError(t, err)
	}
	require.Equal(t, 1.0, chargeCount(t, m, metrics.ChargesMade, ""), "one period charged once")

	// The period's usage beyond what it includes: its overage, charged once.
	at := from.Add(time.Hour)
	_, err = f.st.IngestUsage(f.ctx, f.sub.ID, []billing.UsageEvent{{Resource: "disk", Quantity: 12, IdempotencyKey: "d", At: &at}}, at, 90)
	require.NoError(t, err)
	for range 2 {
		_, err = f.acts.ChargeOverage(f.ctx, activities.ChargeOverageInput{SubscriptionID: f.sub.ID, CustomerID: f.cust.ID, All: true})
		require.NoError(t, err)
	}
	require.Equal(t, 2.0, chargeCount(t, m, metrics.ChargesMade, ""), "the overage is a charge made, once")

	// The next period: the balance (now in debt) refuses it.
	in.Period = 2
	_, err = f.acts.ChargePeriod(f.ctx, in)
	require.Error(t, err)
	require.Equal(t, 2.0, chargeCount(t, m, metrics.ChargesMade, ""))
	require.Equal(t, 1.0, chargeCount(t, m, metrics.ChargesRefused, billing.EINSUFFICIENT))
}

// chargeCount reads a counter of m (with reason, if not "").
func chargeCount(t *testing.T, m *metrics.Metrics, name, reason string) float64 {
	t.Helper()
	mfs, err := m.Registry.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, s := range mf.GetMetric() {
			ok := reason == ""
			for _, l := range s.GetLabel() {
				ok = ok || l.GetName() == "reason" && l.GetValue() == reason
			}
			if ok {
				return s.GetCounter().GetValue()
			}
		}
	}
	return 0
}
