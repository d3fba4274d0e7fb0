package api_test

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
)

func TestProducts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	status, body := b.do("POST", "/api/v1/products", `{"name": "VPS S", "description": "1 vCPU, 2 GB", "price": 1299, "currency": "EUR",
		"period_unit": "month", "incoming_days": 5, "payment_states": {
			"incoming": {"email": true, "subject": "Payment for [PAYMENT_NAME]", "body": "Dear [USER_NAME], [PAYMENT_AMOUNT] on [DATE_OF_PAYMENT].", "reply_to": "billing@example.com"},
			"non_sufficient_funds": {"sms": true, "sms_body": "Top up [LOGIN]"}}}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	require.Equal(t, 1299.0, body["price"])
	require.Equal(t, 1.0, body["period_count"])
	require.Equal(t, true, body["auto_renew"])
	states := body["payment_states"].(map[string]any)
	require.Len(t, states, 4, "every payment state has settings")
	require.Equal(t, "Payment for [PAYMENT_NAME]", states["incoming"].(map[string]any)["subject"])
	id := jsonID(body)

	status, body = b.do("GET", "/api/v1/products/"+id, "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "Top up [LOGIN]", body["payment_states"].(map[string]any)["non_sufficient_funds"].(map[string]any)["sms_body"])

	status, body = b.do("PUT", "/api/v1/products/"+id, `{"name": "VPS S", "price": 1499, "currency": "EUR", "period_unit": "second", "period_count": 30, "incoming_days": 0, "status": "archived"}`)
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, 0.0, body["incoming_days"])
	require.Equal(t, "archived", body["status"])

	status, body = b.do("GET", "/api/v1/products?status=archived", "")
	require.Equal(t, http.StatusOK, status)
	require.GreaterOrEqual(t, body["total"], 1.0)

	for name, tc := range map[string]struct{ body, field string }{
		"negative price":   {`{"name": "x", "price": -1, "currency": "EUR", "period_unit": "month"}`, "price"},
		"huge price":       {`{"name": "x", "price": 100000000000000000000, "currency": "EUR", "period_unit": "month"}`, "price"},
		"fractional price": {`{"name": "x", "price": 12.5, "currency": "EUR", "period_unit": "month"}`, "price"},
		"missing price":    {`{"name": "x", "currency": "EUR", "period_unit": "month"}`, "price"},
		"unknown currency": {`{"name": "x", "price": 1, "currency": "XYZ", "period_unit": "month"}`, "currency"},
		"period unit":      {`{"name": "x", "price": 1, "currency": "EUR", "period_unit": "fortnight"}`, "period_unit"},
		"unknown state":    {`{"name": "x", "price": 1, "currency": "EUR", "period_unit": "month", "payment_states": {"paid": {}}}`, "payment_states.paid"},
		"email no subject": {`{"name": "x", "price": 1, "currency": "EUR", "period_unit": "month", "payment_states": {"approved": {"email": true}}}`, "payment_states.approved.email"},
		"bad reply-to":     {`{"name": "x", "price": 1, "currency": "EUR", "period_unit": "month", "payment_states": {"approved": {"reply_to": "nobody"}}}`, "payment_states.approved.reply_to"},
	} {
		status, body := b.do("POST", "/api/v1/products", tc.body)
		require.Equal(t, http.StatusUnprocessableEntity, status, name)
		_, _, fields := errorOf(t, body)
		require.Contains(t, fields, tc.field, name)
	}
}

func TestPaymentsCreditTheBalanceOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id, _ := b.newCustomer()
	status, body := b.do("POST", "/api/v1/payments", `{"customer_id": `+id+`, "method": "wire_transfer", "amount": 2500, "currency": "EUR", "description": "invoice 7"}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	require.Equal(t, "new", body["status"])
	payID := jsonID(body)

	for range 2 {
		status, body = b.do("POST", "/api/v1/payments/"+payID+"/paid", "")
		require.Equal(t, http.StatusOK, status, "%v", body)
		require.Equal(t, "paid", body["status"])
	}
	status, body = b.do("GET", "/api/v1/customers/"+id+"/balance", "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, []any{map[string]any{"amount": 2500.0, "currency": "EUR"}}, body["balances"])

	status, body = b.do("POST", "/api/v1/customers/"+id+"/ledger", `{"kind": "debit", "amount": 500, "currency": "EUR", "reference": "setup fee", "idempotency_key": "fee-`+id+`"}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	status, _ = b.do("POST", "/api/v1/customers/"+id+"/ledger", `{"kind": "debit", "amount": 500, "currency": "EUR", "reference": "setup fee", "idempotency_key": "fee-`+id+`"}`)
	require.Equal(t, http.StatusCreated, status)

	status, body = b.do("GET", "/api/v1/customers/"+id+"/ledger", "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 2.0, body["total"], "the repeated adjustment and payment wrote nothing more")
	status, body = b.do("GET", "/api/v1/customers/"+id+"/balance", "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 2000.0, body["balances"].([]any)[0].(map[string]any)["amount"])

	status, _ = b.do("POST", "/api/v1/payments/"+payID+"/cancel", "")
	require.Equal(t, http.StatusConflict, status)
	status, body = b.do("GET", "/api/v1/payments?customer_id="+id+"&status=paid", "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 1.0, body["total"])

	for name, tc := range map[string]struct {
		body   string
		status int
		field  string
	}{
		"negative":         {`{"customer_id": ` + id + `, "method": "electronic", "amount": -5, "currency": "EUR"}`, 422, "amount"},
		"zero":             {`{"customer_id": ` + id + `, "method": "electronic", "amount": 0, "currency": "EUR"}`, 422, "amount"},
		"beyond int64":     {`{"customer_id": ` + id + `, "method": "electronic", "amount": 9223372036854775808, "currency": "EUR"}`, 422, "amount"},
		"above max":        {`{"customer_id": ` + id + `, "method": "electronic", "amount": 9223372036854775807, "currency": "EUR"}`, 422, "amount"},
		"float":            {`{"customer_id": ` + id + `, "method": "electronic", "amount": 10.01, "currency": "EUR"}`, 422, "amount"},
		"string amount":    {`{"customer_id": ` + id + `, "method": "electronic", "amount": "10", "currency": "EUR"}`, 422, "amount"},
		"unknown currency": {`{"customer_id": ` + id + `, "method": "electronic", "amount": 10, "currency": "BTC"}`, 422, "currency"},
		"method":           {`{"customer_id": ` + id + `, "method": "cash", "amount": 10, "currency": "EUR"}`, 422, "method"},
		"unknown customer": {`{"customer_id": 999999999, "method": "electronic", "amount": 10, "currency": "EUR"}`, 404, ""},
	} {
		status, body := b.do("POST", "/api/v1/payments", tc.body)
		require.Equal(t, tc.status, status, name)
		_, _, fields := errorOf(t, body)
		if tc.field != "" {
			require.Contains(t, fields, tc.field, name)
		}
	}
	status, _ = b.do("POST", "/api/v1/customers/"+id+"/ledger", `{"kind": "credit", "amount": -5, "currency": "EUR", "reference": "x", "idempotency_key": "neg"}`)
	require.Equal(t, http.StatusUnprocessableEntity, status)

	status, body = b.do("POST", "/api/v1/payments", `{"customer_id": `+id+`, "method": "electronic", "amount": 10, "currency": "EUR"}`)
	require.Equal(t, http.StatusCreated, status)
	other := jsonID(body)
	status, _ = b.do("POST", "/api/v1/payments/"+other+"/cancel", "")
	require.Equal(t, http.StatusOK, status)
	status, _ = b.do("POST", "/api/v1/payments/"+other+"/paid", "")
	require.Equal(t, http.StatusConflict, status, "a cancelled payment can't be paid")
}

// seedLedger writes n entries of amount straight into the customer's ledger:
// quicker than n requests, and able to build what a ledger written before
// balances were capped may hold.
func (b *bundle) seedLedger(customerID, kind string, n int, amount int64, currency string) {
	b.t.Helper()
	_, err := b.store.Pool().Exec(b.t.Context(), `INSERT INTO ledger_entries (customer_id, kind, amount, currency,
		reason, reference, idempotency_key) SELECT $1::bigint, $2, $3, $4, 'adjustment', 'seed', $5 || g
		FROM generate_series(1, $6::int) g`, customerID, kind, amount, currency, "seed:"+rand.Text()+":", n)
	require.NoError(b.t, err)
}

// TestBalanceCapThroughTheAPI: a payment marked paid or an adjustment that
// would take a balance past the cap answers 422 and writes nothing, and a
// balance at the cap reads.
func TestBalanceCapThroughTheAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id, _ := b.newCustomer()
	b.seedLedger(id, billing.Credit, 999, billing.MaxAmount, "EUR")
	pay := func(amount int64) (int, map[string]any) {
		status, body := b.do("POST", "/api/v1/payments", fmt.Sprintf(`{"customer_id": %s, "method": "wire_transfer", "amount": %d, "currency": "EUR"}`, id, amount))
		require.Equal(t, http.StatusCreated, status, "%v", body)
		return b.do("POST", "/api/v1/payments/"+jsonID(body)+"/paid", "")
	}
	status, body := pay(billing.MaxAmount)
	require.Equal(t, http.StatusOK, status, "up to the cap: %v", body)
	balance := func() {
		t.Helper()
		status, body := b.do("GET", "/api/v1/customers/"+id+"/balance", "")
		require.Equal(t, http.StatusOK, status, "%v", body)
		require.Equal(t, []any{map[string]any{"amount": float64(billing.MaxBalance), "currency": "EUR"}}, body["balances"])
	}
	balance()

	status, body = pay(1)
	require.Equal(t, http.StatusUnprocessableEntity, status, "%v", body)
	code, msg, _ := errorOf(t, body)
	require.Equal(t, billing.EINVALID, code)
	require.Contains(t, msg, "above 10000000000000000.00 EUR")
	status, body = b.do("GET", "/api/v1/payments?customer_id="+id+"&status=new", "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 1.0, body["total"], "the refused payment stays new")

	status, body = b.do("POST", "/api/v1/customers/"+id+"/ledger", `{"kind": "credit", "amount": 1, "currency": "EUR", "reference": "goodwill", "idempotency_key": "cap-`+id+`"}`)
	require.Equal(t, http.StatusUnprocessableEntity, status, "%v", body)
	code, msg, _ = errorOf(t, body)
	require.Equal(t, billing.EINVALID, code)
	require.Contains(t, msg, "EUR")
	status, body = b.do("GET", "/api/v1/customers/"+id+"/ledger", "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 1000.0, body["total"], "nothing written past the cap")
	balance()
}
