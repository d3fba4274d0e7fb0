package main

import (
	"context"
	"fmt"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/internal/apitest"
)

// TestDiscountedRenewalsEndToEnd: a customer with a 10% discount orders a
// product of 12.99 EUR renewed every 6 seconds (announced 2 seconds ahead)
// with automatic invoicing on, and has money for exactly three discounted
// periods. Each period is charged once at 11.69 with the discount named in
// its ledger reference, and its invoice line shows 12.99, the 1.30 off and
// 11.69; the fourth renewal finds too little money.
func TestDiscountedRenewalsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server and renews in real time")
	}
	t.Parallel()
	ctx := context.Background()
	r := newKillRig(t)
	w := r.startWorker()
	t.Cleanup(func() { _ = w.Process.Kill(); _ = w.Wait() })
	m := mustRunMain(t, func(cfg *Config) {
		cfg.DatabaseURL, cfg.TemporalAddress = r.dbURL, r.dev.FrontendHostPort()
	})
	admin, err := adminToken(ctx, m.Store, "discount-admin")
	require.NoError(t, err)
	api := m.URL + "/api/v1"
	call(t, admin, "PATCH", api+"/settings", `{"auto_invoicing": true, "invoice_provider": "Hosting GmbH"}`, http.StatusOK, nil)

	customers, err := createCustomers(ctx, m.Store, 1, 3*1169)
	require.NoError(t, err)
	cid := customers[0]
	var product struct{ ID int64 }
	call(t, admin, "POST", api+"/products", `{"name": "VPS S", "description": "1 vCPU", "price": 1299, "currency": "EUR",
		"period_unit": "second", "period_count": 6, "incoming_days": 2}`, http.StatusCreated, &product)
	var discount struct{ ID int64 }
	call(t, admin, "POST", fmt.Sprintf("%s/customers/%d/discounts", api, cid), fmt.Sprintf(`{"percent_bp": 1000, "product_ids": [%d],
		"valid_from": %q}`, product.ID, time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)), http.StatusCreated, &discount)
	var sub struct{ ID int64 }
	call(t, admin, "POST", api+"/subscriptions", fmt.Sprintf(`{"customer_id": %d, "product_id": %d}`, cid, product.ID), http.StatusCreated, &sub)

	var ledger struct {
		Items []struct {
			Kind           string
			Amount         int64
			Reference      string
			IdempotencyKey string `json:"idempotency_key"`
		}
	}
	debits := func() int {
		call(t, admin, "GET", fmt.Sprintf("%s/customers/%d/ledger?limit=100", api, cid), "", http.StatusOK, &ledger)
		n := 0
		for _, e := range ledger.Items {
			if e.Kind == billing.Debit {
				n++
			}
		}
		return n
	}
	require.Eventually(t, func() bool { return debits() >= 3 }, 2*time.Minute, 250*time.Millisecond, "three periods are charged")
	// The fourth renewal is refused for lack of money: wait for it to show.
	var view struct {
		Schedule *struct {
			Period            int
			WaitingForPayment bool `json:"waiting_for_payment"`
		}
	}
	require.Eventually(t, func() bool {
		call(t, admin, "GET", fmt.Sprintf("%s/subscriptions/%d", api, sub.ID), "", http.StatusOK, &view)
		return view.Schedule != nil && view.Schedule.Period == 3 && view.Schedule.WaitingForPayment
	}, time.Minute, 250*time.Millisecond, "the fourth renewal waits for a payment")
	require.Equal(t, 3, debits(), "exactly three periods charged")

	seen := map[string]bool{}
	for _, e := range ledger.Items {
		if e.Kind != billing.Debit {
			continue
		}
		require.Equal(t, int64(1169), e.Amount, "12.99 less 10% (1.30, rounded half up)")
		var period int
		_, err := fmt.Sscanf(e.IdempotencyKey, fmt.Sprintf("subscription:%d:period:%%d", sub.ID), &period)
		require.NoError(t, err, e.IdempotencyKey)
		require.Equal(t, fmt.Sprintf("subscription %d, period %d: VPS S, discount #%d 10%%", sub.ID, period, discount.ID), e.Reference)
		seen[e.IdempotencyKey] = true
	}
	require.Len(t, seen, 3, "one charge per period")
	var bal struct{ Balances []struct{ Amount int64 } }
	call(t, admin, "GET", fmt.Sprintf("%s/customers/%d/balance", api, cid), "", http.StatusOK, &bal)
	require.Equal(t, int64(0), bal.Balances[0].Amount)

	var invoices struct {
		Total int
		Items []struct {
			ID    int64
			Total int64
			Lines []struct {
				Name        string
				PeriodFrom  time.Time `json:"period_from"`
				PeriodUntil time.Time `json:"period_until"`
				UnitPrice   int64     `json:"unit_price"`
				Discount    int64
				Label       string `json:"discount_label"`
				Total       int64
			}
		}
	}
	call(t, admin, "GET", fmt.Sprintf("%s/invoices?customer_id=%d", api, cid), "", http.StatusOK, &invoices)
	require.Equal(t, 3, invoices.Total, "one invoice per charge")
	var prevFrom time.Time
	for i := len(invoices.Items) - 1; i >= 0; i-- { // oldest first
		inv := invoices.Items[i]
		require.Equal(t, int64(1169), inv.Total)
		require.Len(t, inv.Lines, 1)
		l := inv.Lines[0]
		require.Equal(t, "VPS S", l.Name)
		require.Equal(t, [3]int64{1299, 130, 1169}, [3]int64{l.UnitPrice, l.Discount, l.Total}, "unit price, discount, total")
		require.Equal(t, fmt.Sprintf("discount #%d 10%%", discount.ID), l.Label)
		require.Equal(t, 6*time.Second, l.PeriodUntil.Sub(l.PeriodFrom))
		if !prevFrom.IsZero() {
			require.Equal(t, 6*time.Second, l.PeriodFrom.Sub(prevFrom), "consecutive periods")
		}
		prevFrom = l.PeriodFrom
	}
	req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("%s/invoices/%d/html", api, invoices.Items[0].ID), nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+admin)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	var html [8192]byte
	n, _ := res.Body.Read(html[:])
	for _, want := range []string{"<th>Discount</th>", "12.99 EUR", "-1.30 EUR", "11.69 EUR", fmt.Sprintf("discount #%d 10%%", discount.ID)} {
		require.Contains(t, string(html[:n]), want)
	}
}

// TestWorkerKillDuringDiscountedRenewals is TestWorkerKillDuringRenewals
// for discounted subscriptions: 50 customers with a 10% discount order a
// product of 1.00 EUR renewed after 40 seconds, with money for exactly two
// discounted periods (1.80 EUR); the worker is killed (SIGKILL) in the
// middle of the renewals and started again. Every customer then has
// exactly two debits, each of 0.90 EUR naming the discount, and a balance
// of exactly zero.
func TestWorkerKillDuringDiscountedRenewals(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server and 50 subscriptions")
	}
	t.Parallel()
	const n = 50
	ctx := context.Background()
	r := newKillRig(t)
	w := r.startWorker()
	t.Cleanup(func() { _ = w.Process.Kill(); _ = w.Wait() })
	m := mustRunMain(t, func(cfg *Config) {
		cfg.DatabaseURL, cfg.TemporalAddress = r.dbURL, r.dev.FrontendHostPort()
		cfg.Settings = billing.DefaultSettings()
		cfg.Settings.LowMoneyExpirePeriod = []int{}
	})
	pool := m.Pool
	product, err := createProduct(ctx, m.Store, billing.PeriodSecond, 40, 1)
	require.NoError(t, err)
	customers, err := createCustomers(ctx, m.Store, n, 2*90)
	require.NoError(t, err)
	bp, from := 1000, time.Now().Add(-time.Minute)
	discounts := map[int64]int64{}
	for _, c := range customers {
		d, err := m.Store.CreateDiscount(ctx, c, billing.DiscountInput{PercentBP: &bp, ValidFrom: &from})
		require.NoError(t, err)
		discounts[c] = d.ID
	}
	token, err := adminToken(ctx, m.Store, "discount-kill-admin")
	require.NoError(t, err)
	hc := &http.Client{Transport: apitest.Transport(t, nil)}
	require.NoError(t, parallel(n, n, func(i int) error {
		_, err := order(ctx, hc, m.URL, token, customers[i], product.ID)
		return err
	}))

	renewals := func() int {
		var c int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM ledger_entries WHERE idempotency_key LIKE 'subscription:%:period:2'`).Scan(&c))
		return c
	}
	deadline := time.Now().Add(3 * time.Minute)
	for renewals() < n/5 {
		require.True(t, time.Now().Before(deadline), "the renewals did not start")
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, w.Process.Signal(syscall.SIGKILL))
	_ = w.Wait()
	t.Logf("worker killed with %d of %d discounted renewals charged", renewals(), n)
	time.Sleep(2 * time.Second)
	w = r.startWorker()
	require.Eventually(t, func() bool { return renewals() == n }, 3*time.Minute, 100*time.Millisecond, "every subscription renews")
	time.Sleep(3 * time.Second) // let anything that would be charged twice be charged

	rows, err := pool.Query(ctx, `SELECT customer_id, amount, reference, idempotency_key FROM ledger_entries WHERE kind = 'debit' ORDER BY id`)
	require.NoError(t, err)
	perCustomer := map[int64]int{}
	for rows.Next() {
		var cust, amount int64
		var ref, key string
		require.NoError(t, rows.Scan(&cust, &amount, &ref, &key))
		require.Equal(t, int64(90), amount, "%s: 1.00 less 10%%", key)
		require.Contains(t, ref, fmt.Sprintf(": Bench second, discount #%d 10%%", discounts[cust]), key)
		perCustomer[cust]++
	}
	require.NoError(t, rows.Err())
	require.Len(t, perCustomer, n)
	for c, k := range perCustomer {
		require.Equal(t, 2, k, "customer %d: exactly one charge per period", c)
	}
	var wrongBalance int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT customer_id FROM ledger_entries GROUP BY customer_id
		HAVING sum(CASE kind WHEN 'credit' THEN amount ELSE -amount END) <> 0) x`).Scan(&wrongBalance))
	require.Zero(t, wrongBalance, "customers whose balance is not exactly zero")
}
