package store_test

import (
	"crypto/rand"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/store"
)

// invoicing turns automatic invoicing on in b's database.
func (b bundle) invoicing(t *testing.T, on bool) {
	t.Helper()
	provider := "Hosting GmbH\nMain St 1, Berlin\nVAT DE123"
	_, err := b.store.UpdateSettings(b.ctx, billing.DefaultSettings(), billing.SettingsUpdate{AutoInvoicing: &on,
		InvoiceProvider: &provider})
	require.NoError(t, err)
}

// order makes a funded order of a 12.99 EUR monthly product for c.
func (b bundle) order(t *testing.T, c billing.Customer) (billing.Product, billing.Subscription) {
	t.Helper()
	price := int64(1299)
	p, err := b.store.CreateProduct(b.ctx, (&billing.ProductInput{Name: "VPS S", Description: "2 vCPU, 4 GB RAM",
		Price: &price, Currency: "EUR", PeriodUnit: billing.PeriodMonth}).Product())
	require.NoError(t, err)
	o, err := b.store.CreateSubscription(b.ctx, billing.SubscriptionCreate{CustomerID: c.ID, ProductID: p.ID}, "", 0)
	require.NoError(t, err)
	_, err = b.store.Adjust(b.ctx, c.ID, billing.Adjustment{Kind: billing.Credit, Amount: 10000, Currency: "EUR",
		Reference: "funds", IdempotencyKey: rand.Text()})
	require.NoError(t, err)
	return p, o.Subscription
}

var periodFrom = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

func periodCharge(p billing.Product, sub billing.Subscription, period int) store.PeriodCharge {
	return store.PeriodCharge{SubscriptionID: sub.ID, ProductID: p.ID, PeriodFrom: periodFrom,
		PaidUntil: periodFrom.AddDate(0, 1, 0), Charge: billing.Charge{CustomerID: sub.CustomerID, Amount: p.Price,
			Currency: p.Currency, Reason: billing.ReasonCharge, Reference: "period",
			IdempotencyKey: fmt.Sprintf("subscription:%d:period:%d", sub.ID, period)}}
}

// TestChargeIssuesInvoiceOnce: with auto_invoicing on, a period charge issues
// one invoice (the product's line, the payer's and the provider's details),
// its replay issues none; off, or for a post-paid customer, none is issued;
// an issued invoice can't be updated or deleted.
func TestChargeIssuesInvoiceOnce(t *testing.T) {
	t.Parallel()
	b := bundle{ctx: t.Context(), store: store.New(dbtest.OwnPool(t))}
	c := b.newCustomer(t)
	_, err := b.store.CreatePayer(b.ctx, c.ID, billing.PayerInput{Type: billing.AccountCompany, LegalName: "Ann Ltd",
		Email: "ap@ann.example", Country: "DE", Address: "Ring 2, Hamburg", TaxID: "DE999", RegistrationNumber: "HRB 1"})
	require.NoError(t, err)
	p, sub := b.order(t, c)

	_, err = b.store.ChargePeriod(b.ctx, periodCharge(p, sub, 1))
	require.NoError(t, err)
	_, err = b.store.InvoiceByChargeKey(b.ctx, periodCharge(p, sub, 1).Charge.IdempotencyKey)
	require.Equal(t, billing.ENOTFOUND, billing.ErrorCode(err), "auto_invoicing is off by default")

	b.invoicing(t, true)
	pc := periodCharge(p, sub, 2)
	e, err := b.store.ChargePeriod(b.ctx, pc)
	require.NoError(t, err)
	replay, err := b.store.ChargePeriod(b.ctx, pc)
	require.NoError(t, err)
	require.Equal(t, e.ID, replay.ID)
	inv, err := b.store.InvoiceByChargeKey(b.ctx, pc.Charge.IdempotencyKey)
	require.NoError(t, err)
	year := time.Now().UTC().Year()
	require.Equal(t, billing.InvoiceNumber(year, 1), inv.Number)
	require.Equal(t, fmt.Sprintf("INV-%d-000001", year), inv.Number)
	require.Equal(t, e.ID, inv.LedgerEntryID)
	require.Equal(t, billing.InvoicePaid, inv.Status)
	require.Equal(t, int64(1299), inv.Total)
	require.Equal(t, "EUR", inv.Currency)
	require.Equal(t, []billing.InvoiceLine{{Name: "VPS S", Description: "2 vCPU, 4 GB RAM", PeriodFrom: periodFrom,
		PeriodUntil: periodFrom.AddDate(0, 1, 0), Quantity: 1, UnitPrice: 1299, Total: 1299}}, inv.Lines)
	require.Equal(t, &billing.InvoicePayer{Type: billing.AccountCompany, LegalName: "Ann Ltd", Country: "DE",
		Address: "Ring 2, Hamburg", TaxID: "DE999", RegistrationNumber: "HRB 1", Email: "ap@ann.example"}, inv.Payer)
	require.Equal(t, "Hosting GmbH\nMain St 1, Berlin\nVAT DE123", inv.Provider)
	require.Equal(t, c.Name, inv.CustomerName)
	all, err := b.store.Invoices(b.ctx, billing.InvoiceFilter{})
	require.NoError(t, err)
	require.Equal(t, 1, all.Total, "the replay issued no second invoice")

	// Without a payer the invoice has none; a post-paid customer gets none.
	plain := b.newCustomer(t)
	p2, sub2 := b.order(t, plain)
	_, err = b.store.ChargePeriod(b.ctx, periodCharge(p2, sub2, 1))
	require.NoError(t, err)
	inv2, err := b.store.InvoiceByChargeKey(b.ctx, periodCharge(p2, sub2, 1).Charge.IdempotencyKey)
	require.NoError(t, err)
	require.Nil(t, inv2.Payer)
	require.Equal(t, billing.InvoiceNumber(year, 2), inv2.Number)

	post := b.newCustomer(t, func(in *billing.CustomerCreate) { in.PostPaid = true })
	p3, sub3 := b.order(t, post)
	_, err = b.store.ChargePeriod(b.ctx, periodCharge(p3, sub3, 1))
	require.NoError(t, err)
	_, err = b.store.InvoiceByChargeKey(b.ctx, periodCharge(p3, sub3, 1).Charge.IdempotencyKey)
	require.Equal(t, billing.ENOTFOUND, billing.ErrorCode(err), "post-paid customers get no invoice")

	// A free product charges nothing and has no invoice.
	free, err := b.store.CreateProduct(b.ctx, (&billing.ProductInput{Name: "Free", Price: new(int64), Currency: "EUR",
		PeriodUnit: billing.PeriodMonth}).Product())
	require.NoError(t, err)
	o, err := b.store.CreateSubscription(b.ctx, billing.SubscriptionCreate{CustomerID: plain.ID, ProductID: free.ID}, "", 0)
	require.NoError(t, err)
	_, err = b.store.ChargePeriod(b.ctx, periodCharge(free, o.Subscription, 1))
	require.NoError(t, err)
	_, err = b.store.InvoiceByChargeKey(b.ctx, periodCharge(free, o.Subscription, 1).Charge.IdempotencyKey)
	require.Equal(t, billing.ENOTFOUND, billing.ErrorCode(err), "nothing charged, no invoice")

	b.invoicing(t, false)
	_, err = b.store.ChargePeriod(b.ctx, periodCharge(p2, sub2, 2))
	require.NoError(t, err)
	_, err = b.store.InvoiceByChargeKey(b.ctx, periodCharge(p2, sub2, 2).Charge.IdempotencyKey)
	require.Equal(t, billing.ENOTFOUND, billing.ErrorCode(err), "switched off, no invoice")
}

// TestInvoicesNeverChange: the database refuses to update or delete an invoice.
func TestInvoicesNeverChange(t *testing.T) {
	t.Parallel()
	pool := dbtest.OwnPool(t)
	b := bundle{ctx: t.Context(), store: store.New(pool)}
	b.invoicing(t, true)
	p, sub := b.order(t, b.newCustomer(t))
	_, err := b.store.ChargePeriod(b.ctx, periodCharge(p, sub, 1))
	require.NoError(t, err)
	inv, err := b.store.InvoiceByChargeKey(b.ctx, periodCharge(p, sub, 1).Charge.IdempotencyKey)
	require.NoError(t, err)
	_, err = pool.Exec(b.ctx, `UPDATE invoices SET total = 1 WHERE id = $1`, inv.ID)
	require.ErrorContains(t, err, "never changes")
	_, err = pool.Exec(b.ctx, `DELETE FROM invoices WHERE id = $1`, inv.ID)
	require.ErrorContains(t, err, "never changes")
}

// TestInvoiceNumbersGapless: 200 concurrent charges of different
// subscriptions, and 20 more that fail after taking a number (their
// subscription is gone) and roll back, leave numbers 1 to 200: no gap, no
// duplicate.
func TestInvoiceNumbersGapless(t *testing.T) {
	t.Parallel()
	b := bundle{ctx: t.Context(), store: store.New(dbtest.OwnPool(t))}
	b.invoicing(t, true)
	const n, failing = 200, 20
	charges := make([]store.PeriodCharge, 0, n+failing)
	for i := range n + failing {
		p, sub := b.order(t, b.newCustomer(t))
		pc := periodCharge(p, sub, 1)
		if i >= n {
			pc.SubscriptionID = -sub.ID // no such subscription: the charge rolls back after its invoice
		}
		charges = append(charges, pc)
	}
	var wg sync.WaitGroup
	errs := make([]error, len(charges))
	for i, pc := range charges {
		wg.Go(func() { _, errs[i] = b.store.ChargePeriod(b.ctx, pc) })
	}
	wg.Wait()
	for i, err := range errs {
		if i < n {
			require.NoError(t, err)
		} else {
			require.Error(t, err)
		}
	}
	page, err := b.store.Invoices(b.ctx, billing.InvoiceFilter{PageRequest: billing.PageRequest{Limit: 500}})
	require.NoError(t, err)
	require.Equal(t, n, page.Total)
	var numbers []string
	for _, inv := range page.Items {
		numbers = append(numbers, inv.Number)
	}
	slices.Sort(numbers)
	year := time.Now().UTC().Year()
	for i, num := range numbers {
		require.Equal(t, billing.InvoiceNumber(year, int64(i+1)), num)
	}
	require.True(t, strings.HasPrefix(numbers[0], "INV-"))
}
