package api_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// product creates a monthly product and returns its ID.
func (b *bundle) product(price int) string {
	b.t.Helper()
	status, body := b.do("POST", "/api/v1/products", fmt.Sprintf(`{"name": "VPS", "price": %d, "currency": "EUR", "period_unit": "month"}`, price))
	require.Equal(b.t, http.StatusCreated, status, "%v", body)
	return jsonID(body)
}

// waitFor polls the subscription until its workflow reports status.
func (b *bundle) waitFor(id, status string) map[string]any {
	b.t.Helper()
	var got map[string]any
	require.Eventually(b.t, func() bool {
		_, got = b.do("GET", "/api/v1/subscriptions/"+id, "")
		sched, _ := got["schedule"].(map[string]any)
		return sched != nil && sched["status"] == status
	}, 30*time.Second, 25*time.Millisecond, "subscription %s never became %s", id, status)
	return got
}

// TestOrderWaitsForPaymentThroughTheAPI: an order without funds waits;
// marking a payment paid signals it, and it activates.
func TestOrderWaitsForPaymentThroughTheAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cid, _ := b.newCustomer()
	pid := b.product(1500)
	status, body := b.do("POST", "/api/v1/subscriptions", `{"customer_id": `+cid+`, "product_id": `+pid+`}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	sid := jsonID(body)
	got := b.waitFor(sid, "unpaid")
	require.Equal(t, true, got["schedule"].(map[string]any)["waiting_for_payment"])

	status, body = b.do("POST", "/api/v1/payments", `{"customer_id": `+cid+`, "method": "electronic", "amount": 2000, "currency": "EUR"}`)
	require.Equal(t, http.StatusCreated, status)
	status, _ = b.do("POST", "/api/v1/payments/"+jsonID(body)+"/paid", "")
	require.Equal(t, http.StatusOK, status)
	got = b.waitFor(sid, "active")
	require.NotNil(t, got["schedule"].(map[string]any)["paid_until"])
	require.Eventually(t, func() bool {
		_, bal := b.do("GET", "/api/v1/customers/"+cid+"/balance", "")
		return bal["balances"].([]any)[0].(map[string]any)["amount"] == 500.0
	}, 10*time.Second, 25*time.Millisecond, "20.00 paid, 15.00 charged")

	// Renew now twice with the same period: one charge.
	status, body = b.do("POST", "/api/v1/subscriptions/"+sid+"/renew", "")
	require.Equal(t, http.StatusConflict, status, "5.00 left does not pay 15.00: %v", body)
	code, msg, _ := errorOf(t, body)
	require.Equal(t, "insufficient_funds", code)
	require.Contains(t, msg, "less than 15.00 EUR")
}

func TestSubscriptionActionsValidate(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cid, _ := b.newCustomer()
	free := b.product(0)
	status, body := b.do("POST", "/api/v1/subscriptions", `{"customer_id": `+cid+`, "product_id": `+free+`}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	sid := jsonID(body)
	b.waitFor(sid, "active")
	s := "/api/v1/subscriptions/" + sid
	for _, tc := range []struct {
		path, body string
		status     int
		field      string
	}{
		{s + "/suspend", `{}`, 422, "reason"},
		{s + "/suspend", `{"reason": 5}`, 422, "reason"},
		{s + "/extend", `{"days": 0}`, 422, "days"},
		{s + "/extend", `{"days": 99999}`, 422, "days"},
		{s + "/auto-renew", `{}`, 422, "enabled"},
		{s + "/change-product", `{"product_id": 999999999}`, 404, ""},
		{s + "/change-product", `{}`, 422, "product_id"},
		{s + "/resume", ``, 409, ""},
		{s + "/cancel", `{"at_period_end": "yes"}`, 422, "at_period_end"},
		{"/api/v1/subscriptions/999999999/suspend", `{"reason": "x"}`, 404, ""},
		{"/api/v1/subscriptions", `{"customer_id": ` + cid + `}`, 422, "product_id"},
		{"/api/v1/subscriptions", `{"customer_id": ` + cid + `, "product_id": 999999999}`, 404, ""},
	} {
		status, body := b.do("POST", tc.path, tc.body)
		require.Equal(t, tc.status, status, "%s %s: %v", tc.path, tc.body, body)
		_, _, fields := errorOf(t, body)
		if tc.field != "" {
			require.Contains(t, fields, tc.field, "%s %s", tc.path, tc.body)
		}
	}

	status, body = b.do("POST", s+"/suspend", `{"reason": "abuse report"}`)
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, "suspended", body["status"])
	require.Equal(t, "abuse report", body["suspend_reason"])
	status, body = b.do("POST", s+"/suspend", `{"reason": "again"}`)
	require.Equal(t, http.StatusConflict, status)
	_, msg, _ := errorOf(t, body)
	require.Contains(t, msg, "only an active service can be suspended")
	status, body = b.do("POST", s+"/resume", "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, "active", body["status"])
	status, body = b.do("POST", s+"/cancel", `{}`)
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, "cancelled", body["status"])
	status, body = b.do("POST", s+"/extend", `{"days": 3}`)
	require.Equal(t, http.StatusConflict, status, "%v", body)

	status, audit := b.do("GET", "/api/v1/audit?object_type=subscription&object_id="+sid, "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 4.0, audit["total"], "order, suspend, resume, cancel; rejected actions leave no trace: %v", audit)
}

func TestOrderIdempotencyKey(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cid, _ := b.newCustomer()
	p1, p2 := b.product(0), b.product(0)
	order := func(product, key string) (int, map[string]any) {
		req := fmt.Sprintf(`{"customer_id": %s, "product_id": %s}`, cid, product)
		return b.doHeaders("POST", "/api/v1/subscriptions", req, map[string]string{"Idempotency-Key": key})
	}
	status, first := order(p1, "k-1")
	require.Equal(t, http.StatusCreated, status, "%v", first)
	status, again := order(p1, "k-1")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, first["id"], again["id"])
	status, body := order(p2, "k-1")
	require.Equal(t, http.StatusConflict, status, "%v", body)
	status, list := b.do("GET", "/api/v1/subscriptions?customer_id="+cid, "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 1.0, list["total"])

	status, body = b.do("PUT", "/api/v1/products/"+p2, `{"name": "Old", "price": 0, "currency": "EUR", "period_unit": "month", "status": "archived"}`)
	require.Equal(t, http.StatusOK, status, "%v", body)
	status, _ = order(p2, "k-2")
	require.Equal(t, http.StatusConflict, status, "an archived product can't be ordered")
}
