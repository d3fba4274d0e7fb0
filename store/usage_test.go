package store_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/store"
)

// metered makes a product of price with 10 GB of disk (2.00 EUR per GB
// beyond) and 100 min (0.05 EUR per minute beyond), orders it for c and
// charges period 1 (from periodFrom, a month), which opens it for usage.
func (b bundle) metered(t *testing.T, c billing.Customer, price int64) (billing.Product, billing.Subscription) {
	t.Helper()
	p, err := b.store.CreateProduct(b.ctx, (&billing.ProductInput{Name: "PBX", Description: "a phone line", Price: &price,
		Currency: "EUR", PeriodUnit: billing.PeriodMonth, Resources: []billing.Resource{
			{Name: "disk", Unit: "GB", Included: 10, OveragePrice: 200},
			{Name: "minutes", Unit: "min", Included: 100, OveragePrice: 5}}}).Product())
	require.NoError(t, err)
	o, err := b.store.CreateSubscription(b.ctx, billing.SubscriptionCreate{CustomerID: c.ID, ProductID: p.ID}, "", 0)
	require.NoError(t, err)
	pc := periodCharge(p, o.Subscription, 1)
	pc.Period = 1
	_, err = b.store.ChargePeriod(b.ctx, pc)
	require.NoError(t, err)
	return p, o.Subscription
}

func events(at time.Time, es ...billing.UsageEvent) []billing.UsageEvent {
	for i := range es {
		es[i].At = &at
	}
	return es
}

// TestChargeOverageOnceIntoDebt: closing a period charges, once, the sum of
// each resource's units beyond its included amount times its price, keyed
// subscription:<id>:period:<n>:overage, even beyond the balance (into
// debt, and the renewal after it is refused); the invoice has a line per resource with an overage (quantity,
// unit price, total); a replay charges and issues nothing more; the closed
// period refuses usage; a period without overage closes with no charge.
func TestChargeOverageOnceIntoDebt(t *testing.T) {
	t.Parallel()
	b := bundle{ctx: t.Context(), store: store.New(dbtest.OwnPool(t))}
	b.invoicing(t, true)
	c := b.newCustomer(t)
	_, err := b.store.Adjust(b.ctx, c.ID, billing.Adjustment{Kind: billing.Credit, Amount: 100, Currency: "EUR",
		Reference: "funds", IdempotencyKey: "funds-" + fmt.Sprint(c.ID)})
	require.NoError(t, err)
	p, sub := b.metered(t, c, 100) // the first period takes the whole balance
	at := periodFrom.Add(time.Hour)
	in, err := b.store.IngestUsage(b.ctx, sub.ID, events(at,
		billing.UsageEvent{Resource: "disk", Quantity: 13, IdempotencyKey: "d1"},
		billing.UsageEvent{Resource: "minutes", Quantity: 60, IdempotencyKey: "m1"},
		billing.UsageEvent{Resource: "minutes", Quantity: 70, IdempotencyKey: "m2"}), at, 90)
	require.NoError(t, err)
	require.Equal(t, 3, in.Accepted)

	closing, err := b.store.UsagePeriodsToClose(b.ctx, sub.ID, periodFrom.AddDate(0, 1, -1), false)
	require.NoError(t, err)
	require.Empty(t, closing, "the period has not ended")
	closing, err = b.store.UsagePeriodsToClose(b.ctx, sub.ID, periodFrom.AddDate(0, 1, 0), false)
	require.NoError(t, err)
	require.Equal(t, []int{1}, closing)

	// 3 GB × 2.00 + 30 min × 0.05 = 7.50 EUR, with a balance of 0.
	oc, err := b.store.ChargeOverage(b.ctx, sub.ID, c.ID, 1)
	require.NoError(t, err)
	key := fmt.Sprintf("subscription:%d:period:1:overage", sub.ID)
	require.EqualValues(t, 750, oc.Entry.Amount)
	require.Equal(t, key, oc.Entry.IdempotencyKey)
	require.Equal(t, billing.Debit, oc.Entry.Kind)
	require.Equal(t, fmt.Sprintf("subscription %d, period 1: PBX, overage", sub.ID), oc.Entry.Reference)
	require.True(t, oc.Usage.Closed)
	bal, err := b.store.Balance(b.ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, []billing.Money{{Amount: -750, Currency: "EUR"}}, bal.Balances, "charged into debt")
	// The renewal that follows is refused: the debt comes first.
	_, err = b.store.ChargePeriod(b.ctx, periodCharge(p, sub, 2))
	require.Equal(t, billing.EINSUFFICIENT, billing.ErrorCode(err), "%v", err)

	inv, err := b.store.InvoiceByChargeKey(b.ctx, key)
	require.NoError(t, err)
	require.EqualValues(t, 750, inv.Total)
	require.Equal(t, []billing.InvoiceLine{
		{Name: "PBX: disk overage", Description: "13 GB used, 10 GB included", PeriodFrom: periodFrom,
			PeriodUntil: periodFrom.AddDate(0, 1, 0), Quantity: 3, UnitPrice: 200, Total: 600},
		{Name: "PBX: minutes overage", Description: "130 min used, 100 min included", PeriodFrom: periodFrom,
			PeriodUntil: periodFrom.AddDate(0, 1, 0), Quantity: 30, UnitPrice: 5, Total: 150}}, inv.Lines)

	again, err := b.store.ChargeOverage(b.ctx, sub.ID, c.ID, 1)
	require.NoError(t, err)
	require.Equal(t, oc.Entry.ID, again.Entry.ID, "a replay returns the charge made")
	bal, err = b.store.Balance(b.ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, []billing.Money{{Amount: -750, Currency: "EUR"}}, bal.Balances)
	invs, err := b.store.Invoices(b.ctx, billing.InvoiceFilter{CustomerID: &c.ID})
	require.NoError(t, err)
	require.EqualValues(t, 2, invs.Total, "the period's invoice and the overage's")
	closing, err = b.store.UsagePeriodsToClose(b.ctx, sub.ID, periodFrom.AddDate(1, 0, 0), true)
	require.NoError(t, err)
	require.Empty(t, closing)

	_, err = b.store.IngestUsage(b.ctx, sub.ID, events(at, billing.UsageEvent{Resource: "disk", Quantity: 1, IdempotencyKey: "late"}), at, 90)
	require.Equal(t, billing.ECONFLICT, billing.ErrorCode(err), "%v", err)
	require.Contains(t, err.Error(), "events[0].at falls in period 1, which is closed")

	// A period within its included amounts closes without a charge.
	_, quiet := b.metered(t, c, 0)
	_, err = b.store.IngestUsage(b.ctx, quiet.ID, events(at, billing.UsageEvent{Resource: "disk", Quantity: 10, IdempotencyKey: "d"}), at, 90)
	require.NoError(t, err)
	oc, err = b.store.ChargeOverage(b.ctx, quiet.ID, c.ID, 1)
	require.NoError(t, err)
	require.Zero(t, oc.Entry.ID)
	require.True(t, oc.Usage.Closed)
	require.EqualValues(t, 0, oc.Usage.OverageAmount)
	u, err := b.store.Usage(b.ctx, quiet.ID, 1)
	require.NoError(t, err)
	require.True(t, u.Closed)
	require.Equal(t, billing.ResourceUsage{Resource: "disk", Unit: "GB", Used: 10, Included: 10, OveragePrice: 200, Percent: 100}, u.Resources[0])
	invs, err = b.store.Invoices(b.ctx, billing.InvoiceFilter{CustomerID: &c.ID})
	require.NoError(t, err)
	require.EqualValues(t, 2, invs.Total, "no invoice without an overage (nor for a free period)")
}

// TestIngestConcurrentDuplicatesAndThreshold: batches sent at once, each
// with the same events (a switch retrying), count every event once; of
// concurrent batches that push a resource past the notify percentage,
// exactly one reports the crossing, and no later batch does. A product
// changed mid-period leaves the period's resources as they were charged.
func TestIngestConcurrentDuplicatesAndThreshold(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newCustomer(t)
	p, sub := b.metered(t, c, 0)
	at := periodFrom.Add(time.Hour)
	const senders = 8
	var wg sync.WaitGroup
	results := make([]store.Ingested, senders)
	errs := make([]error, senders)
	for i := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Every sender sends minute events 0..9 (10 min each, 100 in
			// all) and one of its own (1 min).
			var es []billing.UsageEvent
			for k := range 10 {
				es = append(es, billing.UsageEvent{Resource: "minutes", Quantity: 10, IdempotencyKey: fmt.Sprint("shared-", k)})
			}
			es = append(es, billing.UsageEvent{Resource: "minutes", Quantity: 1, IdempotencyKey: fmt.Sprint("own-", i)})
			results[i], errs[i] = b.store.IngestUsage(b.ctx, sub.ID, events(at, es...), at, 90)
		}()
	}
	wg.Wait()
	accepted, crossings := 0, 0
	for i := range senders {
		require.NoError(t, errs[i])
		require.Equal(t, 11, results[i].Accepted+results[i].Duplicates)
		accepted += results[i].Accepted
		crossings += len(results[i].Crossings)
		for _, cr := range results[i].Crossings {
			require.Equal(t, "minutes", cr.Resource.Name)
			require.Equal(t, 1, cr.Period)
			require.Equal(t, "PBX", cr.ProductName)
			require.GreaterOrEqual(t, cr.Used, int64(90))
		}
	}
	require.Equal(t, 10+senders, accepted, "each event counted once")
	require.Equal(t, 1, crossings, "one batch crossed 90%")
	u, err := b.store.Usage(b.ctx, sub.ID, 0)
	require.NoError(t, err)
	require.Equal(t, billing.ResourceUsage{Resource: "minutes", Unit: "min", Used: 100 + senders, Included: 100,
		Overage: senders, OveragePrice: 5, OverageAmount: 5 * senders, Percent: 108}, u.Resources[1])
	require.Equal(t, billing.ResourceUsage{Resource: "disk", Unit: "GB", Included: 10, OveragePrice: 200}, u.Resources[0])

	more, err := b.store.IngestUsage(b.ctx, sub.ID, events(at, billing.UsageEvent{Resource: "minutes", Quantity: 50, IdempotencyKey: "more"}), at, 90)
	require.NoError(t, err)
	require.Empty(t, more.Crossings, "once per period and resource")

	// A product changed mid-period: the period keeps the resources it was charged with.
	p.Resources = []billing.Resource{{Name: "minutes", Unit: "min", Included: 5000, OveragePrice: 1}}
	_, err = b.store.UpdateProduct(b.ctx, p.ID, p)
	require.NoError(t, err)
	u, err = b.store.Usage(b.ctx, sub.ID, 1)
	require.NoError(t, err)
	require.Len(t, u.Resources, 2)
	require.EqualValues(t, 100, u.Resources[1].Included)
	require.EqualValues(t, 5, u.Resources[1].OveragePrice)
	_, err = b.store.IngestUsage(b.ctx, sub.ID, events(at, billing.UsageEvent{Resource: "disk", Quantity: 1, IdempotencyKey: "disk"}), at, 90)
	require.NoError(t, err, "disk is still the period's")
}
