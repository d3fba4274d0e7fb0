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
