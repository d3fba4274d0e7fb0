package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
)

// TestIngestRefusesAnUnchargeableOverage: a batch that would make a
// period's overage more than the largest amount is refused, and nothing of it
// counted; before, it was counted, after which the period could neither be
// read nor charged (nor closed), and every later period's overage behind it
// went uncharged.
func TestIngestRefusesAnUnchargeableOverage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newCustomer(t)
	price := int64(0)
	p, err := b.store.CreateProduct(b.ctx, (&billing.ProductInput{Name: "Transit", Price: &price, Currency: "EUR",
		PeriodUnit: billing.PeriodMonth, Resources: []billing.Resource{{Name: "traffic", Unit: "GB", Included: 0, OveragePrice: 1000}}}).Product())
	require.NoError(t, err)
	o, err := b.store.CreateSubscription(b.ctx, billing.SubscriptionCreate{CustomerID: c.ID, ProductID: p.ID}, "", 0)
	require.NoError(t, err)
	pc := periodCharge(p, o.Subscription, 1)
	pc.Period = 1
	_, err = b.store.ChargePeriod(b.ctx, pc)
	require.NoError(t, err)
	sub := o.Subscription
	at := periodFrom.Add(time.Hour)

	// 10^12 GB × 10.00 EUR = 10^15 minor units: the largest amount, accepted.
	in, err := b.store.IngestUsage(b.ctx, sub.ID, events(at,
		billing.UsageEvent{Resource: "traffic", Quantity: billing.MaxUsageQuantity, IdempotencyKey: "t1"}), at, 90)
	require.NoError(t, err)
	require.Equal(t, 1, in.Accepted)
	u, err := b.store.Usage(b.ctx, sub.ID, 1)
	require.NoError(t, err)
	require.Equal(t, billing.MaxAmount, u.OverageAmount)

	// One more GB would be beyond it: refused, nothing counted.
	_, err = b.store.IngestUsage(b.ctx, sub.ID, events(at,
		billing.UsageEvent{Resource: "traffic", Quantity: 1, IdempotencyKey: "t2"}), at, 90)
	require.Equal(t, billing.EINVALID, billing.ErrorCode(err), "%v", err)
	require.Contains(t, err.Error(), "nothing of the batch was counted")
	u, err = b.store.Usage(b.ctx, sub.ID, 1)
	require.NoError(t, err, "the period can still be read")
	require.EqualValues(t, billing.MaxUsageQuantity, u.Resources[0].Used)

	oc, err := b.store.ChargeOverage(b.ctx, sub.ID, c.ID, 1)
	require.NoError(t, err, "the period can still be charged and closed")
	require.Equal(t, billing.MaxAmount, oc.Entry.Amount)
	require.True(t, oc.Usage.Closed)
}

// TestIngestRefusesEventsFromTheFuture: an event dated after now (beyond a
// few minutes of clock skew) is refused, naming it; before, it counted in the
// current period whatever its date (a year ahead included).
func TestIngestRefusesEventsFromTheFuture(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newCustomer(t)
	_, sub := b.metered(t, c, 0)
	now := periodFrom.Add(time.Hour)

	in, err := b.store.IngestUsage(b.ctx, sub.ID, events(now.Add(time.Minute),
		billing.UsageEvent{Resource: "minutes", Quantity: 1, IdempotencyKey: "skewed"}), now, 90)
	require.NoError(t, err, "a clock a little ahead is tolerated")
	require.Equal(t, 1, in.Accepted)

	ahead := now.AddDate(1, 0, 0)
	_, err = b.store.IngestUsage(b.ctx, sub.ID, []billing.UsageEvent{
		{Resource: "minutes", Quantity: 1, IdempotencyKey: "ok"},
		{Resource: "minutes", Quantity: 50, IdempotencyKey: "next-year", At: &ahead}}, now, 90)
	require.Equal(t, billing.EINVALID, billing.ErrorCode(err), "%v", err)
	require.Contains(t, err.Error(), "events[1].at")
	u, err := b.store.Usage(b.ctx, sub.ID, 1)
	require.NoError(t, err)
	require.EqualValues(t, 1, u.Resources[1].Used, "nothing of the refused batch counted")
}

// TestResentBatchAfterTheCloseIsDuplicates: a batch counted before, resent
// after its period was closed (its answer was lost), answers that its events
// are duplicates; before, it was refused with 409 "nothing of the batch was
// counted", though all of it had been.
func TestResentBatchAfterTheCloseIsDuplicates(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newCustomer(t)
	_, sub := b.metered(t, c, 0)
	at := periodFrom.Add(time.Hour)
	batch := events(at,
		billing.UsageEvent{Resource: "minutes", Quantity: 120, IdempotencyKey: "cdr-1"},
		billing.UsageEvent{Resource: "disk", Quantity: 1, IdempotencyKey: "cdr-2"})
	in, err := b.store.IngestUsage(b.ctx, sub.ID, batch, at, 90)
	require.NoError(t, err)
	require.Equal(t, 2, in.Accepted)
	oc, err := b.store.ChargeOverage(b.ctx, sub.ID, c.ID, 1)
	require.NoError(t, err)
	require.EqualValues(t, 100, oc.Entry.Amount)

	again, err := b.store.IngestUsage(b.ctx, sub.ID, batch, periodFrom.AddDate(0, 1, 1), 90)
	require.NoError(t, err)
	require.Equal(t, billing.UsageResult{Accepted: 0, Duplicates: 2, DuplicateIndexes: []int{0, 1}}, again.UsageResult)

	// A new event for the closed period is still refused, and so its batch.
	_, err = b.store.IngestUsage(b.ctx, sub.ID, append(batch, events(at,
		billing.UsageEvent{Resource: "minutes", Quantity: 1, IdempotencyKey: "cdr-3"})...), periodFrom.AddDate(0, 1, 1), 90)
	require.Equal(t, billing.ECONFLICT, billing.ErrorCode(err), "%v", err)
	require.Contains(t, err.Error(), "events[2].at falls in period 1, which is closed")
	u, err := b.store.Usage(b.ctx, sub.ID, 1)
	require.NoError(t, err)
	require.EqualValues(t, 120, u.Resources[1].Used)
	require.EqualValues(t, 1, u.Resources[0].Used)

}

// TestIngestRefusesEventsAfterThePaidPeriod: an event dated at or after the
// service's paid-until date, sent before the renewal has charged the next
// period, is refused (409, naming it: send it again after the renewal);
// before, it counted in the period that had ended, against that period's
// included amounts, and was charged as that period's overage.
func TestIngestRefusesEventsAfterThePaidPeriod(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newCustomer(t)
	_, sub := b.metered(t, c, 0)
	until := periodFrom.AddDate(0, 1, 0)
	now := until.Add(2 * time.Minute) // the renewal has not run yet
	last := until.Add(-time.Second)
	in, err := b.store.IngestUsage(b.ctx, sub.ID, events(last,
		billing.UsageEvent{Resource: "minutes", Quantity: 10, IdempotencyKey: "last"}), now, 90)
	require.NoError(t, err, "the period's last second counts in it")
	require.Equal(t, 1, in.Accepted)

	_, err = b.store.IngestUsage(b.ctx, sub.ID, []billing.UsageEvent{
		{Resource: "minutes", Quantity: 1, IdempotencyKey: "a", At: &last},
		{Resource: "minutes", Quantity: 500, IdempotencyKey: "next-month", At: &until}}, now, 90)
	require.Equal(t, billing.ECONFLICT, billing.ErrorCode(err), "%v", err)
	require.Contains(t, err.Error(), "events[1].at")
	u, err := b.store.Usage(b.ctx, sub.ID, 1)
	require.NoError(t, err)
	require.EqualValues(t, 10, u.Resources[1].Used, "nothing of the refused batch counted")
	require.EqualValues(t, 0, u.OverageAmount)
}
