package store_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/internal/dbtest"
)

// TestRenewalsDueLeavesOutRefusedRenewals: the storm backlog the metrics
// show (billing_renewals_due) counts active, automatically renewing services
// whose paid-until date has passed, but not one whose renewal was refused
// and that waits for a payment (its live schedule says so), nor one that
// does not renew, nor one not yet due. Not parallel: it counts over the
// whole database, before and after.
func TestRenewalsDueLeavesOutRefusedRenewals(t *testing.T) {
	b := setup(t)
	pool := dbtest.Pool(t)
	before, err := b.store.RenewalsDue(b.ctx)
	require.NoError(t, err)
	price := int64(500)
	p, err := b.store.CreateProduct(b.ctx, (&billing.ProductInput{Name: "VPS", Price: &price, Currency: "EUR",
		PeriodUnit: billing.PeriodMonth}).Product())
	require.NoError(t, err)
	sub := func(set string) {
		c := b.newCustomer(t)
		o, err := b.store.CreateSubscription(b.ctx, billing.SubscriptionCreate{CustomerID: c.ID, ProductID: p.ID}, "", 0)
		require.NoError(t, err)
		_, err = pool.Exec(b.ctx, `UPDATE subscriptions SET status = 'active', `+set+` WHERE id = $1`, o.Subscription.ID)
		require.NoError(t, err)
	}
	sub(`auto_renew = true, paid_until = now() - interval '1 minute'`)                                              // due
	sub(`auto_renew = true, paid_until = now() - interval '1 minute', schedule = '{"waiting_for_payment": false}'`) // due
	sub(`auto_renew = true, paid_until = now() - interval '1 minute', schedule = '{"waiting_for_payment": true}'`)  // refused
	sub(`auto_renew = false, paid_until = now() - interval '1 minute'`)                                             // expires instead
	sub(`auto_renew = true, paid_until = now() + interval '1 day'`)                                                 // not yet due
	after, err := b.store.RenewalsDue(b.ctx)
	require.NoError(t, err)
	require.Equal(t, before+2, after)
}
