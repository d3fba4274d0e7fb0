package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
)

// usageRig is a kill rig with its worker running, the API in this process,
// automatic invoicing on and no low-balance notices, an admin's token and a
// metered product: 1.00 EUR every period seconds, 100 min included (0.05 EUR
// per minute beyond) and 10 GB (2.00 EUR per GB beyond).
type usageRig struct {
	*killRig
	m       *Main
	token   string
	product int64
}

func newUsageRig(t *testing.T, period int) *usageRig {
	t.Helper()
	r := &usageRig{killRig: newKillRig(t)}
	r.m = mustRunMain(t, func(cfg *Config) {
		cfg.DatabaseURL, cfg.TemporalAddress = r.dbURL, r.dev.FrontendHostPort()
	})
	var err error
	r.token, err = adminToken(t.Context(), r.m.Store, "usage-admin")
	require.NoError(t, err)
	r.call("PATCH", "/api/v1/settings", `{"auto_invoicing": true, "invoice_provider": "Tel GmbH", "low_money_expire_period": []}`, http.StatusOK, nil)
	var p struct{ ID int64 }
	r.call("POST", "/api/v1/products", fmt.Sprintf(`{"name": "PBX", "price": 100, "currency": "EUR", "period_unit": "second",
		"period_count": %d, "incoming_days": 1, "resources": [
			{"name": "minutes", "unit": "min", "included": 100, "overage_price": 5},
			{"name": "disk", "unit": "GB", "included": 10, "overage_price": 200}]}`, period), http.StatusCreated, &p)
	r.product = p.ID
	return r
}

func (r *usageRig) call(method, path, body string, want int, out any) {
	r.t.Helper()
	call(r.t, r.token, method, r.m.URL+path, body, want, out)
}

// customer creates a customer with a user (mails to login@example.com) and
// balance EUR cents.
func (r *usageRig) customer(login string, balance int64) int64 {
	r.t.Helper()
	var reg struct{ Customer struct{ ID int64 } }
	r.call("POST", "/api/v1/customers", fmt.Sprintf(`{"account_type": "individual", "name": "Usage %s", "country": "DE",
		"user": {"login": %q, "email": "%s@example.com", "first_name": "Uma"}}`, login, login, login), http.StatusCreated, &reg)
	_, err := r.m.Store.Adjust(r.t.Context(), reg.Customer.ID, billing.Adjustment{Kind: billing.Credit, Amount: balance,
		Currency: "EUR", Reference: "funds", IdempotencyKey: "funds-" + login})
	require.NoError(r.t, err)
	return reg.Customer.ID
}

// waitPeriod waits until subscription sub's current period is period.
func (r *usageRig) waitPeriod(sub int64, period int) {
	r.t.Helper()
	deadline := time.Now().Add(40 * time.Second)
	for {
		var u billing.Usage
		raw, code := r.get(fmt.Sprintf("/api/v1/subscriptions/%d/usage", sub))
		if code == http.StatusOK && json.Unmarshal(raw, &u) == nil && u.Period == period {
			return
		}
		if time.Now().After(deadline) {
			s, _ := r.get(fmt.Sprintf("/api/v1/subscriptions/%d", sub))
			l, _ := r.get(fmt.Sprintf("/api/v1/customers/%d/ledger", sub))
			r.t.Fatalf("subscription %d did not reach period %d; usage %s; subscription %s; ledger %s", sub, period, raw, s, l)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (r *usageRig) get(path string) ([]byte, int) {
	req, err := http.NewRequestWithContext(r.t.Context(), "GET", r.m.URL+path, nil)
	require.NoError(r.t, err)
	req.Header.Set("Authorization", "Bearer "+r.token)
	res, err := http.DefaultClient.Do(req)
	require.NoError(r.t, err)
	defer res.Body.Close()
	var raw json.RawMessage
	_ = json.NewDecoder(res.Body).Decode(&raw)
	return raw, res.StatusCode
}

// report sends one batch of events to sub and checks how many were new.
func (r *usageRig) report(sub int64, accepted int, events ...string) {
	r.t.Helper()
	var res billing.UsageResult
	r.call("POST", fmt.Sprintf("/api/v1/subscriptions/%d/usage", sub), `{"events": [`+strings.Join(events, ", ")+`]}`, http.StatusOK, &res)
	require.Equal(r.t, accepted, res.Accepted)
}

func ev(resource string, quantity int, key string) string {
	return fmt.Sprintf(`{"resource": %q, "quantity": %d, "idempotency_key": %q}`, resource, quantity, key)
}

// overage is a subscription's overage charge of a period, from the ledger.
type overage struct {
	Amount    int64
	Reference string
	Entries   int
}

func overageOf(t *testing.T, pool *pgxpool.Pool, sub int64, period int) overage {
	t.Helper()
	var o overage
	require.NoError(t, pool.QueryRow(t.Context(), `SELECT count(*), coalesce(sum(amount), 0), coalesce(max(reference), '')
		FROM ledger_entries WHERE idempotency_key = $1 AND kind = 'debit'`, billing.OverageChargeKey(sub, period)).Scan(&o.Entries, &o.Amount, &o.Reference))
	return o
}

// TestUsageOverageEndToEnd follows a metered service billed every 12
// seconds through three periods with a real worker: period 1 uses 130 min
// and 5 GB (1.50 EUR of overage), period 2 stays within what is included
// (no overage charge), period 3 uses 12 GB and is cancelled before it ends
// (4.00 EUR, charged at the cancel). Each period's ledger, its overage
// invoice with one line per resource, and the notices (two thresholds, two
// overage charges) are exact.
func TestUsageOverageEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs three periods in real time")
	}
	t.Parallel()
	r := newUsageRig(t, 12)
	w := r.startWorker()
	t.Cleanup(func() { _ = w.Process.Kill(); _ = w.Wait() })
	pool := r.m.Pool
	cid := r.customer("meter", 1000)
	var sub billing.Subscription
	r.call("POST", "/api/v1/subscriptions", fmt.Sprintf(`{"customer_id": %d, "product_id": %d}`, cid, r.product), http.StatusCreated, &sub)

	// Period 1: 130 min in two batches (one resent), 5 GB.
	r.waitPeriod(sub.ID, 1)
	r.report(sub.ID, 2, ev("minutes", 80, "c1"), ev("disk", 5, "d1"))
	r.report(sub.ID, 1, ev("minutes", 80, "c1"), ev("minutes", 50, "c2"))
	var u billing.Usage
	r.call("GET", fmt.Sprintf("/api/v1/subscriptions/%d/usage", sub.ID), "", http.StatusOK, &u)
	require.Equal(t, []billing.ResourceUsage{
		{Resource: "minutes", Unit: "min", Used: 130, Included: 100, Overage: 30, OveragePrice: 5, OverageAmount: 150, Percent: 130},
		{Resource: "disk", Unit: "GB", Used: 5, Included: 10, OveragePrice: 200, Percent: 50}}, u.Resources)
	require.Zero(t, overageOf(t, pool, sub.ID, 1).Entries, "nothing charged before the period ends")

	// Period 2 begins: period 1's overage was charged, once, before the renewal.
	r.waitPeriod(sub.ID, 2)
	require.Equal(t, overage{Amount: 150, Entries: 1, Reference: fmt.Sprintf("subscription %d, period 1: PBX, overage", sub.ID)},
		overageOf(t, pool, sub.ID, 1))
	r.call("GET", fmt.Sprintf("/api/v1/subscriptions/%d/usage?period=1", sub.ID), "", http.StatusOK, &u)
	require.True(t, u.Closed)
	require.EqualValues(t, 150, u.OverageAmount)
	var inv billing.Invoice
	var invID int64
	require.NoError(t, pool.QueryRow(t.Context(), `SELECT id FROM invoices WHERE charge_key = $1`, billing.OverageChargeKey(sub.ID, 1)).Scan(&invID))
	r.call("GET", fmt.Sprintf("/api/v1/invoices/%d", invID), "", http.StatusOK, &inv)
	require.EqualValues(t, 150, inv.Total)
	require.Len(t, inv.Lines, 1, "one line per resource with an overage")
	require.Equal(t, billing.InvoiceLine{Name: "PBX: minutes overage", Description: "130 min used, 100 min included",
		PeriodFrom: u.PeriodFrom, PeriodUntil: u.PeriodUntil, Quantity: 30, UnitPrice: 5, Total: 150}, inv.Lines[0])
	// A late event of period 1 is refused: the period is closed.
	at := u.PeriodFrom.Add(time.Second).Format(time.RFC3339Nano)
	r.call("POST", fmt.Sprintf("/api/v1/subscriptions/%d/usage", sub.ID),
		fmt.Sprintf(`{"events": [{"resource": "minutes", "quantity": 1, "idempotency_key": "late", "at": %q}]}`, at), http.StatusConflict, nil)
	r.report(sub.ID, 1, ev("minutes", 50, "c3"))

	// Period 3 begins: period 2 had no overage, and nothing was charged for it.
	r.waitPeriod(sub.ID, 3)
	require.Zero(t, overageOf(t, pool, sub.ID, 2).Entries)
	r.call("GET", fmt.Sprintf("/api/v1/subscriptions/%d/usage?period=2", sub.ID), "", http.StatusOK, &u)
	require.True(t, u.Closed, "closed without a charge")
	require.Zero(t, u.OverageAmount)
	r.report(sub.ID, 1, ev("disk", 12, "d3"))
	r.call("POST", fmt.Sprintf("/api/v1/subscriptions/%d/cancel", sub.ID), `{}`, http.StatusOK, nil)
	require.Equal(t, overage{Amount: 400, Entries: 1, Reference: fmt.Sprintf("subscription %d, period 3: PBX, overage", sub.ID)},
		overageOf(t, pool, sub.ID, 3), "the last period's overage is charged when the service ends")

	var invoices struct {
		Total int
		Items []billing.Invoice
	}
	r.call("GET", fmt.Sprintf("/api/v1/invoices?customer_id=%d", cid), "", http.StatusOK, &invoices)
	require.Equal(t, 5, invoices.Total, "three periods and two overages")
	require.Equal(t, []billing.InvoiceLine{{Name: "PBX: disk overage", Description: "12 GB used, 10 GB included",
		PeriodFrom: invoices.Items[0].Lines[0].PeriodFrom, PeriodUntil: invoices.Items[0].Lines[0].PeriodUntil,
		Quantity: 2, UnitPrice: 200, Total: 400}}, invoices.Items[0].Lines)

	var bal struct{ Balances []billing.Money }
	r.call("GET", fmt.Sprintf("/api/v1/customers/%d/balance", cid), "", http.StatusOK, &bal)
	require.Equal(t, []billing.Money{{Amount: 1000 - 3*100 - 150 - 400, Currency: "EUR"}}, bal.Balances)

	// Notices: the overage charges at once, the thresholds (minutes in
	// period 1, disk in period 3) by the redelivery within a minute.
	require.Eventually(t, func() bool {
		return r.smtp.Count("of your minutes used") == 1 && r.smtp.Count("of your disk used") == 1
	}, 90*time.Second, 250*time.Millisecond, "the threshold notices; all: %v", subjects(r.smtp))
	time.Sleep(2 * time.Second) // anything sent twice would arrive by now
	require.Equal(t, 1, r.smtp.Count("PBX: 1.50 EUR charged for resource overage"), "all: %v", subjects(r.smtp))
	require.Equal(t, 1, r.smtp.Count("PBX: 4.00 EUR charged for resource overage"))
	require.Equal(t, 2, r.smtp.Count("charged for resource overage"))
	require.Equal(t, 1, r.smtp.Count("PBX: 130% of your minutes used"))
	require.Equal(t, 1, r.smtp.Count("PBX: 120% of your disk used"))
	var body string // as recorded; the mail carries it quoted-printable
	require.NoError(t, pool.QueryRow(t.Context(), `SELECT body FROM notices WHERE event = 'overage_charged' AND object_id = $1
		AND subject LIKE '%1.50 EUR%'`, fmt.Sprint(sub.ID)).Scan(&body))
	require.Contains(t, body, "- minutes: 30 min beyond 100 min, 30 x 0.05 EUR = 1.50 EUR")
	require.Contains(t, body, "Your balance is now 7.50 EUR") // 10.00 - 1.00 - 1.50
}

// TestWorkerKillDuringOverage: 40 metered services use 130 min each in
// their first period and renew in the same second; the worker is killed
// (SIGKILL) in the middle of the overage charges and started again.
// Afterwards each service was charged its overage exactly once (1.50 EUR,
// one ledger entry, one invoice), renewed once, and its overage notice was
// claimed once and delivered at most once.
func TestWorkerKillDuringOverage(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server and 40 subscriptions")
	}
	t.Parallel()
	const n = 40
	ctx := context.Background()
	r := newUsageRig(t, 30)
	w := r.startWorker()
	t.Cleanup(func() { _ = w.Process.Kill(); _ = w.Wait() })
	pool := r.m.Pool
	subs := make([]int64, n)
	require.NoError(t, parallel(n, 8, func(i int) error {
		cid := r.customer(fmt.Sprintf("kill%d", i), 1000)
		var sub billing.Subscription
		r.call("POST", "/api/v1/subscriptions", fmt.Sprintf(`{"customer_id": %d, "product_id": %d}`, cid, r.product), http.StatusCreated, &sub)
		subs[i] = sub.ID
		return nil
	}))
	for _, id := range subs {
		r.waitPeriod(id, 1)
		r.report(id, 2, ev("minutes", 100, "a"), ev("minutes", 30, "b"))
	}
	charged := func() int {
		var c int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM ledger_entries WHERE idempotency_key LIKE 'subscription:%:period:1:overage'`).Scan(&c))
		return c
	}
	deadline := time.Now().Add(3 * time.Minute)
	for charged() < n/5 {
		require.True(t, time.Now().Before(deadline), "the overage charges did not start")
		time.Sleep(10 * time.Millisecond)
	}
	require.NoError(t, w.Process.Signal(syscall.SIGKILL))
	_ = w.Wait()
	t.Logf("worker killed with %d of %d overages charged", charged(), n)
	time.Sleep(2 * time.Second)
	w = r.startWorker()

	require.Eventually(t, func() bool {
		var renewed int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM ledger_entries WHERE idempotency_key LIKE 'subscription:%:period:2'`).Scan(&renewed))
		return charged() == n && renewed == n
	}, 3*time.Minute, 100*time.Millisecond, "every service is charged its overage and renewed")
	for _, id := range subs {
		require.Equal(t, overage{Amount: 150, Entries: 1, Reference: fmt.Sprintf("subscription %d, period 1: PBX, overage", id)}, overageOf(t, pool, id, 1))
	}
	var invoices, debits int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM invoices WHERE charge_key LIKE 'subscription:%:period:1:overage'`).Scan(&invoices))
	require.Equal(t, n, invoices, "one overage invoice per service")
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT customer_id FROM ledger_entries WHERE kind = 'debit'
		AND idempotency_key ~ '^subscription:\d+:period:(1|1:overage|2)$' GROUP BY customer_id HAVING count(*) <> 3) x`).Scan(&debits))
	require.Zero(t, debits, "customers not charged exactly order, overage and renewal")

	// Each overage notice: claimed once (sent, or left "sending" by the kill:
	// at most once), none delivered twice.
	settled := func() (sent, sending int) {
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'sent'), count(*) FILTER (WHERE status = 'sending')
			FROM notices WHERE event = 'overage_charged' AND channel = 'email'`).Scan(&sent, &sending))
		return sent, sending
	}
	require.Eventually(t, func() bool {
		sent, sending := settled()
		return sent+sending == n
	}, 2*time.Minute, 250*time.Millisecond, "every overage notice is sent (a queued one by the redelivery)")
	time.Sleep(3 * time.Second)
	seen := map[string]int{}
	for _, m := range r.smtp.Messages() {
		seen[m.MessageID]++
		require.LessOrEqual(t, seen[m.MessageID], 1, "message %s delivered twice", m.MessageID)
	}
	sent, sending := settled()
	delivered := r.smtp.Count("1.50 EUR charged for resource overage")
	require.GreaterOrEqual(t, delivered, sent)
	require.LessOrEqual(t, delivered, sent+sending)
	require.Equal(t, n, sent+sending, "no overage notice was forgotten or doubled")
}
