package api_test

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store"
)

// TestExpenses: a customer's expenses are its debits (service charges with
// their subscription, period and product; staff's debits), never its
// credits, filtered by subscription, time and currency, paged, with totals
// per currency of every match; as CSV with a header row by ?format=csv or
// Accept: text/csv. A client sees only their own customer's.
func TestExpenses(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id, _ := b.newCustomer()
	other, _ := b.newCustomer()
	b.pay(id, billing.MethodElectronic, 5000, "EUR")
	b.pay(id, billing.MethodElectronic, 5000, "USD")
	b.pay(other, billing.MethodElectronic, 5000, "EUR")
	product := func(name string, price int64, currency string) string {
		status, body := b.do("POST", "/api/v1/products", fmt.Sprintf(`{"name": %q, "price": %d, "currency": %q, "period_unit": "month"}`, name, price, currency))
		require.Equal(t, http.StatusCreated, status, "%v", body)
		return jsonID(body)
	}
	order := func(customer, product string) string {
		status, body := b.do("POST", "/api/v1/subscriptions", `{"customer_id": `+customer+`, "product_id": `+product+`}`)
		require.Equal(t, http.StatusCreated, status, "%v", body)
		return jsonID(body)
	}
	vps, mail := product("VPS "+uniq(), 1000, "EUR"), product("Mail "+uniq(), 750, "USD")
	s1, s2 := order(id, vps), order(id, mail)
	order(other, vps)
	for _, c := range []string{id, other} {
		require.Eventually(t, func() bool {
			_, body := b.do("GET", "/api/v1/subscriptions?status=active&customer_id="+c, "")
			return body["total"] != 0.0
		}, time.Minute, 200*time.Millisecond)
	}
	require.Eventually(t, func() bool {
		_, body := b.do("GET", "/api/v1/subscriptions?status=active&customer_id="+id, "")
		return body["total"] == 2.0
	}, time.Minute, 200*time.Millisecond)
	status, body := b.do("POST", "/api/v1/customers/"+id+"/ledger", `{"kind": "debit", "amount": 300, "currency": "EUR", "reference": "setup fee", "idempotency_key": "fee-`+id+`"}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	// An old period of s1, written in 2020.
	_, err := b.store.Pool().Exec(t.Context(), `INSERT INTO ledger_entries (customer_id, kind, amount, currency, reason, reference, idempotency_key, created_at)
		VALUES ($1, 'debit', 900, 'EUR', 'charge', 'old period', 'subscription:' || $2 || ':period:7', '2020-03-01T00:00:00Z')`, id, s1)
	require.NoError(t, err)

	list := func(query string) map[string]any {
		t.Helper()
		status, body := b.do("GET", "/api/v1/customers/"+id+"/expenses"+query, "")
		require.Equal(t, http.StatusOK, status, "%v", body)
		return body
	}
	body = list("")
	require.Equal(t, 4.0, body["total"], "three charges and the fee; no credit")
	require.Equal(t, []any{map[string]any{"amount": 2200.0, "currency": "EUR"}, map[string]any{"amount": 750.0, "currency": "USD"}}, body["totals"])
	items := body["items"].([]any)
	var fee, charge map[string]any
	for _, it := range items {
		switch m := it.(map[string]any); {
		case m["reason"] == "adjustment":
			fee = m
		case jsonString(m["subscription_id"]) == s2:
			charge = m
		}
	}
	require.Equal(t, "setup fee", fee["reference"])
	require.Nil(t, fee["subscription_id"], "staff's debit is no service's")
	require.NotNil(t, charge)
	require.Equal(t, 1.0, charge["period"])
	require.Equal(t, mail, jsonString(charge["product_id"]))
	require.Equal(t, 750.0, charge["amount"])

	body = list("?subscription_id=" + s1)
	require.Equal(t, 2.0, body["total"], "its two periods")
	require.Equal(t, []any{map[string]any{"amount": 1900.0, "currency": "EUR"}}, body["totals"])
	body = list("?currency=USD")
	require.Equal(t, 1.0, body["total"])
	body = list("?until=2021-01-01T00:00:00Z")
	require.Equal(t, 1.0, body["total"])
	require.Equal(t, "old period", body["items"].([]any)[0].(map[string]any)["reference"])
	body = list("?from=2021-01-01T00:00:00Z&currency=EUR")
	require.Equal(t, []any{map[string]any{"amount": 1300.0, "currency": "EUR"}}, body["totals"])
	body = list("?limit=1&offset=1")
	require.Len(t, body["items"], 1)
	require.Equal(t, 4.0, body["total"])
	require.Len(t, body["totals"], 2, "totals of every match, not the page")
	for _, q := range []string{"?currency=BTC", "?from=yesterday", "?subscription_id=x", "?format=pdf"} {
		status, _ := b.do("GET", "/api/v1/customers/"+id+"/expenses"+q, "")
		require.Equal(t, http.StatusUnprocessableEntity, status, q)
	}

	// CSV, by parameter or by Accept.
	for _, h := range []map[string]string{nil, {"Accept": "text/csv"}} {
		path := "/api/v1/customers/" + id + "/expenses?subscription_id=" + s2
		if h == nil {
			path += "&format=csv"
		}
		res, raw := b.send(b.token, "GET", path, "", h)
		require.Equal(t, http.StatusOK, res.StatusCode, "%s", raw)
		require.True(t, strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv"))
		rows, err := csv.NewReader(strings.NewReader(string(raw))).ReadAll()
		require.NoError(t, err)
		require.Equal(t, []string{"id", "charged_at", "subscription_id", "period", "product_id", "product", "reason", "reference", "amount", "currency"}, rows[0])
		require.Len(t, rows, 2)
		require.Equal(t, []string{s2, "1", mail, "charge", "7.50", "USD"}, []string{rows[1][2], rows[1][3], rows[1][4], rows[1][6], rows[1][8], rows[1][9]})
	}

	// Clients see their own customer's only.
	_, users := b.do("GET", "/api/v1/customers/"+other+"/users", "")
	userID := int64(users["items"].([]any)[0].(map[string]any)["id"].(float64))
	var otherID int64
	_, err = fmt.Sscan(other, &otherID)
	require.NoError(t, err)
	client := b.session(store.Session{Kind: billing.ActorClient, UserID: userID, CustomerID: otherID})
	status, body = b.doAs(client, "GET", "/api/v1/customers/"+other+"/expenses", "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, 1.0, body["total"])
	require.Equal(t, []any{map[string]any{"amount": 1000.0, "currency": "EUR"}}, body["totals"])
	status, _ = b.doAs(client, "GET", "/api/v1/customers/"+id+"/expenses", "")
	require.Equal(t, http.StatusNotFound, status)
	res, _ := b.send(client, "GET", "/api/v1/customers/"+id+"/expenses?format=csv", "", nil)
	require.Equal(t, http.StatusNotFound, res.StatusCode)
}

// TestExpenseTotalsExact: totals are summed in numeric, exact to the minor
// unit beyond float precision; a total beyond int64 is a 409 naming the
// currency.
func TestExpenseTotalsExact(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id, _ := b.newCustomer()
	b.seedLedger(id, billing.Debit, 9, billing.MaxBalance-1, "GBP")
	res, raw := b.send(b.token, "GET", "/api/v1/customers/"+id+"/expenses", "", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, "%s", raw)
	require.Contains(t, string(raw), `"totals":[{"amount":8999999999999999991,"currency":"GBP"}]`)
	b.seedLedger(id, billing.Debit, 1, billing.MaxBalance, "GBP")
	status, body := b.do("GET", "/api/v1/customers/"+id+"/expenses", "")
	require.Equal(t, http.StatusConflict, status, "%v", body)
	_, msg, _ := errorOf(t, body)
	require.Contains(t, msg, "GBP")
}

// TestExpensesNameTheOverage: a period's overage charge (keyed
// subscription:<id>:period:<n>:overage) is an expense of its service and
// period, like the period's own charge.
func TestExpensesNameTheOverage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id, _ := b.newCustomer()
	product := b.product(1000)
	cid, err := strconv.ParseInt(id, 10, 64)
	require.NoError(t, err)
	pid, err := strconv.ParseInt(product, 10, 64)
	require.NoError(t, err)
	o, err := b.store.CreateSubscription(t.Context(), billing.SubscriptionCreate{CustomerID: cid, ProductID: pid}, "", 0)
	require.NoError(t, err)
	sub := o.Subscription.ID
	for _, e := range []struct {
		amount int64
		key    string
	}{{1000, fmt.Sprintf("subscription:%d:period:1", sub)}, {150, billing.OverageChargeKey(sub, 1)}} {
		_, err := b.store.Pool().Exec(t.Context(), `INSERT INTO ledger_entries (customer_id, kind, amount, currency, reason, reference, idempotency_key)
			VALUES ($1, 'debit', $2, 'EUR', 'charge', 'period or overage', $3)`, cid, e.amount, e.key)
		require.NoError(t, err)
	}
	status, body := b.do("GET", fmt.Sprintf("/api/v1/customers/%s/expenses?subscription_id=%d", id, sub), "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, 2.0, body["total"], "the period's charge and its overage")
	require.Equal(t, []any{map[string]any{"amount": 1150.0, "currency": "EUR"}}, body["totals"])
	for _, it := range body["items"].([]any) {
		m := it.(map[string]any)
		require.Equal(t, float64(sub), m["subscription_id"], "%v", m)
		require.Equal(t, 1.0, m["period"], "%v", m)
		require.Equal(t, product, jsonString(m["product_id"]), "%v", m)
	}
}
