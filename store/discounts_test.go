package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/store"
)

func pct(bp int) *int           { return &bp }
func amt(a int64) *int64        { return &a }
func str(s string) *string      { return &s }
func at(t time.Time) *time.Time { return &t }

// discount gives c a discount, failing the test if it is refused.
func (b bundle) discount(t *testing.T, c billing.Customer, in billing.DiscountInput) billing.Discount {
	t.Helper()
	d, err := b.store.CreateDiscount(b.ctx, c.ID, in)
	require.NoError(t, err)
	return d
}

// chargeAt charges period of sub, beginning at from, and returns the entry
// written (zero if nothing was charged).
func (b bundle) chargeAt(t *testing.T, p billing.Product, sub billing.Subscription, period int, from time.Time) billing.LedgerEntry {
	t.Helper()
	pc := periodCharge(p, sub, period)
	pc.PeriodFrom, pc.PaidUntil = from, from.AddDate(0, 1, 0)
	pc.Charge.Reference = fmt.Sprintf("subscription %d, period %d: %s", sub.ID, period, p.Name)
	e, err := b.store.ChargePeriod(b.ctx, pc)
	require.NoError(t, err)
	return e
}

// TestChargePeriodAppliesDiscount: a period charge takes off the discount
// valid at the period's start and names it in the ledger reference and on
// the invoice line (unit price before, discount, total after); a replay
// finds that charge; a percent is rounded half up; a fixed amount larger
// than the price leaves 0 (no entry, no invoice); a discount on other
// products, or valid from or until the exact start, is or isn't applied as
// its bounds say; an ended discount still applies to periods that began
// before its end.
func TestChargePeriodAppliesDiscount(t *testing.T) {
	t.Parallel()
	b := bundle{ctx: t.Context(), store: store.New(dbtest.OwnPool(t))}
	b.invoicing(t, true)
	c := b.newCustomer(t)
	p, sub := b.order(t, c) // 12.99 EUR, 100.00 EUR funds
	other := b.newCustomer(t)
	b.discount(t, other, billing.DiscountInput{PercentBP: pct(10000), ValidFrom: at(periodFrom.AddDate(-1, 0, 0))})

	// Period 1: no discount yet. Period 2 gets 10%, valid from exactly its start.
	e1 := b.chargeAt(t, p, sub, 1, periodFrom)
	require.Equal(t, int64(1299), e1.Amount, "another customer's discount is theirs")
	require.Equal(t, fmt.Sprintf("subscription %d, period 1: VPS S", sub.ID), e1.Reference)
	from2 := periodFrom.AddDate(0, 1, 0)
	ten := b.discount(t, c, billing.DiscountInput{PercentBP: pct(1000), ValidFrom: at(from2), ValidUntil: at(from2.AddDate(0, 2, 0))})
	e2 := b.chargeAt(t, p, sub, 2, from2)
	require.Equal(t, int64(1169), e2.Amount, "12.99 less 1.30 (10% of 12.99 is 1.299, rounded half up)")
	require.Equal(t, fmt.Sprintf("subscription %d, period 2: VPS S, discount #%d 10%%", sub.ID, ten.ID), e2.Reference)
	replay := b.chargeAt(t, p, sub, 2, from2)
	require.Equal(t, e2, replay, "a replay finds the charge made")
	inv, err := b.store.InvoiceByChargeKey(b.ctx, e2.IdempotencyKey)
	var ended billing.Discount
	require.NoError(t, err)
	require.Equal(t, int64(1169), inv.Total)
	require.Equal(t, []billing.InvoiceLine{{Name: "VPS S", Description: "2 vCPU, 4 GB RAM", PeriodFrom: from2,
		PeriodUntil: from2.AddDate(0, 1, 0), Quantity: 1, UnitPrice: 1299, Discount: 130,
		DiscountLabel: fmt.Sprintf("discount #%d 10%%", ten.ID), Total: 1169}}, inv.Lines)
	inv1, err := b.store.InvoiceByChargeKey(b.ctx, e1.IdempotencyKey)
	require.NoError(t, err)
	require.Equal(t, int64(0), inv1.Lines[0].Discount)
	require.Equal(t, int64(1299), inv1.Lines[0].UnitPrice)

	// A second discount that gives a lower price wins; on other products only, it doesn't apply.
	otherProduct, err := b.store.CreateProduct(b.ctx, (&billing.ProductInput{Name: "Mail", Price: amt(100), Currency: "EUR",
		PeriodUnit: billing.PeriodMonth}).Product())
	require.NoError(t, err)
	b.discount(t, c, billing.DiscountInput{PercentBP: pct(5000), ProductIDs: []int64{otherProduct.ID}, ValidFrom: at(from2)})
	from3 := from2.AddDate(0, 1, 0)
	fixed := b.discount(t, c, billing.DiscountInput{Amount: amt(500), Currency: str("EUR"), ProductIDs: []int64{p.ID}, ValidFrom: at(from3)})
	e3 := b.chargeAt(t, p, sub, 3, from3)
	require.Equal(t, int64(799), e3.Amount, "5.00 off beats 10%; the 50% is for another product")
	require.Equal(t, fmt.Sprintf("subscription %d, period 3: VPS S, discount #%d 5.00 EUR", sub.ID, fixed.ID), e3.Reference)

	// Period 4 begins exactly at the 10%'s until: only the fixed one applies.
	from4 := from2.AddDate(0, 2, 0)
	e4 := b.chargeAt(t, p, sub, 4, from4)
	require.Equal(t, int64(799), e4.Amount, "the 10% is not valid at its until")
	require.Equal(t, fmt.Sprintf("subscription %d, period 4: VPS S, discount #%d 5.00 EUR", sub.ID, fixed.ID), e4.Reference)

	// Ended now: a period that began before the end (a retried charge) still
	// gets it; one that begins after doesn't.
	before := time.Now()
	ended, err = b.store.EndDiscount(b.ctx, c.ID, fixed.ID)
	require.NoError(t, err)
	require.NotNil(t, ended.EndedAt)
	require.WithinRange(t, *ended.ValidUntil, before.Add(-time.Second), time.Now().Add(time.Second), "until is now")
	_, err = b.store.EndDiscount(b.ctx, c.ID, fixed.ID)
	require.Equal(t, billing.ECONFLICT, billing.ErrorCode(err), "ended once")
	_, err = b.store.UpdateDiscount(b.ctx, c.ID, fixed.ID, billing.DiscountInput{PercentBP: pct(10)})
	require.Equal(t, billing.ECONFLICT, billing.ErrorCode(err), "an ended discount no longer changes")
	e5 := b.chargeAt(t, p, sub, 5, from4.AddDate(0, 1, 0))
	require.Equal(t, int64(799), e5.Amount, "the period began before the end")
	e6 := b.chargeAt(t, p, sub, 6, time.Now().Add(time.Hour))
	require.Equal(t, int64(1299), e6.Amount, "the period begins after the end")

	// Ending one that has not begun leaves it empty: it never applies.
	future := b.discount(t, c, billing.DiscountInput{PercentBP: pct(2000), ValidFrom: at(time.Now().AddDate(0, 0, 30))})
	ended, err = b.store.EndDiscount(b.ctx, c.ID, future.ID)
	require.NoError(t, err)
	require.True(t, ended.ValidUntil.Equal(future.ValidFrom), "until = from")

	// A fixed discount larger than the price: nothing to charge, no entry, no invoice.
	from7 := time.Now().AddDate(0, 0, 60)
	b.discount(t, c, billing.DiscountInput{Amount: amt(5000), Currency: str("EUR"), ValidFrom: at(from7)})
	e7 := b.chargeAt(t, p, sub, 7, from7)
	require.Zero(t, e7.ID, "a period discounted to 0 writes no entry")
	_, err = b.store.InvoiceByChargeKey(b.ctx, periodCharge(p, sub, 7).Charge.IdempotencyKey)
	require.Equal(t, billing.ENOTFOUND, billing.ErrorCode(err))

	bal, err := b.store.Balance(b.ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, int64(10000-1299-1169-799-799-799-1299), bal.Of("EUR"), "each charge once, at its discounted amount")
}

// TestDiscountsCRUD: a discount is created with its defaults, listed, read,
// replaced and ended; products must exist; another customer's discount is
// not found; a deleted customer gets none.
func TestDiscountsCRUD(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c, other := b.newCustomer(t), b.newCustomer(t)
	_, err := b.store.CreateDiscount(b.ctx, c.ID, billing.DiscountInput{PercentBP: pct(1000), ProductIDs: []int64{1 << 50}})
	require.Equal(t, billing.EINVALID, billing.ErrorCode(err))
	require.Contains(t, err.(*billing.Error).Fields["product_ids"], fmt.Sprint(int64(1<<50)))
	_, err = b.store.CreateDiscount(b.ctx, c.ID, billing.DiscountInput{PercentBP: pct(0)})
	require.Equal(t, billing.EINVALID, billing.ErrorCode(err))

	before := time.Now()
	d := b.discount(t, c, billing.DiscountInput{PercentBP: pct(1250), Note: "loyal"})
	require.Equal(t, billing.DiscountPercent, d.Kind)
	require.Equal(t, 1250, *d.PercentBP)
	require.Nil(t, d.Amount)
	require.Nil(t, d.Currency)
	require.Equal(t, []int64{}, d.ProductIDs)
	require.WithinRange(t, d.ValidFrom, before.Add(-time.Second), time.Now().Add(time.Second), "valid from now by default")
	require.Nil(t, d.ValidUntil)

	list, err := b.store.Discounts(b.ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, d.ID, list[0].ID)
	_, err = b.store.Discount(b.ctx, other.ID, d.ID)
	require.Equal(t, billing.ENOTFOUND, billing.ErrorCode(err))

	until := d.ValidFrom.AddDate(0, 1, 0)
	u, err := b.store.UpdateDiscount(b.ctx, c.ID, d.ID, billing.DiscountInput{Amount: amt(300), Currency: str("EUR"), ValidUntil: &until})
	require.NoError(t, err)
	require.Equal(t, billing.DiscountFixed, u.Kind)
	require.Nil(t, u.PercentBP)
	require.Equal(t, int64(300), *u.Amount)
	require.True(t, u.ValidFrom.Equal(d.ValidFrom), "valid_from left out keeps its own")
	require.True(t, u.ValidUntil.Equal(until))
	require.Empty(t, u.Note, "replaced")
	_, err = b.store.UpdateDiscount(b.ctx, c.ID, d.ID, billing.DiscountInput{PercentBP: pct(10), ValidUntil: at(d.ValidFrom)})
	require.Equal(t, billing.EINVALID, billing.ErrorCode(err), "until must be after from")

	e, err := b.store.EndDiscount(b.ctx, c.ID, d.ID)
	require.NoError(t, err)
	require.NotNil(t, e.EndedAt)
	require.True(t, !e.ValidUntil.Before(d.ValidFrom) && !e.ValidUntil.After(time.Now()), "until is now")

	_, err = b.store.DeleteCustomer(b.ctx, other.ID)
	require.NoError(t, err)
	_, err = b.store.CreateDiscount(b.ctx, other.ID, billing.DiscountInput{PercentBP: pct(10)})
	require.Equal(t, billing.ECONFLICT, billing.ErrorCode(err), "a deleted customer gets no discount")
}

// TestRetriedChargeMadeFreeFindsTheCharge: a period charged, then retried
// after a discount of 100% valid from its start was given (the activity's
// answer was lost), reports the charge made; it doesn't turn it free.
func TestRetriedChargeMadeFreeFindsTheCharge(t *testing.T) {
	t.Parallel()
	b := bundle{ctx: t.Context(), store: store.New(dbtest.OwnPool(t))}
	c := b.newCustomer(t)
	p, sub := b.order(t, c)
	e1 := b.chargeAt(t, p, sub, 1, periodFrom)
	require.Equal(t, int64(1299), e1.Amount)
	b.discount(t, c, billing.DiscountInput{PercentBP: pct(10000), ValidFrom: at(periodFrom.AddDate(-1, 0, 0))})
	retry := b.chargeAt(t, p, sub, 1, periodFrom)
	require.Equal(t, e1, retry, "the retry finds the period's charge")
}
