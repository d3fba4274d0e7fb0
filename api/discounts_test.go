package api_test

import (
	"crypto/rand"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store"
)

// TestDiscountsAPI: staff with customers.write create, replace and end a
// customer's discounts, each change audited with the discount and the
// customer; staff with customers.read and the customer's own client read
// them; a client can't change them (403) nor see another customer's (404);
// invalid input answers 422 naming every field and writes nothing.
func TestDiscountsAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id, _ := b.newCustomer()
	otherID, _ := b.newCustomer()
	base := "/api/v1/customers/" + id + "/discounts"

	// Validation: every problem at once; nothing is written.
	for _, tc := range []struct {
		body   string
		fields []string
	}{
		{`{}`, []string{"percent_bp"}},
		{`{"percent_bp": 0}`, []string{"percent_bp"}},
		{`{"percent_bp": 10001, "note": "x"}`, []string{"percent_bp"}},
		{`{"percent_bp": 100, "amount": 5, "currency": "EUR"}`, []string{"percent_bp"}},
		{`{"amount": 0, "currency": "EURO"}`, []string{"amount", "currency"}},
		{`{"amount": 1000000000000000001, "currency": "EUR"}`, []string{"amount"}},
		{`{"amount": 5}`, []string{"currency"}},
		{`{"percent_bp": 100, "valid_from": "2026-03-01T00:00:00Z", "valid_until": "2026-03-01T00:00:00Z"}`, []string{"valid_until"}},
		{`{"percent_bp": 100, "product_ids": [4, 4]}`, []string{"product_ids"}},
		{`{"percent_bp": 100, "product_ids": [999999999]}`, []string{"product_ids"}},
	} {
		status, body := b.do("POST", base, tc.body)
		require.Equal(t, http.StatusUnprocessableEntity, status, "%s: %v", tc.body, body)
		code, _, fields := errorOf(t, body)
		require.Equal(t, billing.EINVALID, code)
		for _, f := range tc.fields {
			require.Contains(t, fields, f, "%s: %v", tc.body, fields)
		}
	}
	status, body := b.do("GET", base, "")
	require.Equal(t, http.StatusOK, status)
	require.Empty(t, body["items"], "refused requests wrote nothing")

	// Create: a percent on all products, valid from now; a fixed amount on one product.
	writer := b.staffSession(billing.RoleStaff, billing.PermCustomersWrite, billing.PermCustomersRead)
	status, body = b.doAs(writer, "POST", base, `{"percent_bp": 1000, "note": "loyal customer"}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	require.Equal(t, "percent", body["kind"])
	require.EqualValues(t, 1000, body["percent_bp"])
	require.Nil(t, body["amount"])
	require.Nil(t, body["valid_until"])
	require.Equal(t, []any{}, body["product_ids"])
	percentID := jsonID(body)
	status, body = b.doJSON("POST", "/api/v1/products", map[string]any{"name": "VPS", "price": 1299, "currency": "EUR", "period_unit": "month"})
	require.Equal(t, http.StatusCreated, status, "%v", body)
	productID := jsonID(body)
	status, body = b.doAs(writer, "POST", base, fmt.Sprintf(`{"amount": 200, "currency": "EUR", "product_ids": [%s],
		"valid_from": "2026-03-01T00:00:00Z", "valid_until": "2026-06-01T00:00:00Z"}`, productID))
	require.Equal(t, http.StatusCreated, status, "%v", body)
	require.Equal(t, "fixed", body["kind"])
	require.EqualValues(t, 200, body["amount"])
	require.Equal(t, "EUR", body["currency"])
	require.Nil(t, body["percent_bp"])
	require.Equal(t, "2026-06-01T00:00:00Z", body["valid_until"])
	fixedID := jsonID(body)

	// Replace, then end.
	status, body = b.doAs(writer, "PUT", base+"/"+percentID, `{"percent_bp": 1500, "valid_until": "2099-01-01T00:00:00Z"}`)
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.EqualValues(t, 1500, body["percent_bp"])
	require.Equal(t, "", body["note"], "replaced as a whole")
	status, body = b.doAs(writer, "PUT", base+"/"+percentID, `{"percent_bp": 1500, "valid_from": "2100-01-01T00:00:00Z", "valid_until": "2099-01-01T00:00:00Z"}`)
	require.Equal(t, http.StatusUnprocessableEntity, status, "%v", body)
	status, body = b.doAs(writer, "DELETE", base+"/"+fixedID, "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.NotNil(t, body["ended_at"])
	require.Equal(t, "2026-06-01T00:00:00Z", body["valid_until"], "it had ended already by its own until")
	status, _ = b.doAs(writer, "DELETE", base+"/"+fixedID, "")
	require.Equal(t, http.StatusConflict, status, "ended once")
	status, _ = b.doAs(writer, "PUT", base+"/"+fixedID, `{"percent_bp": 100}`)
	require.Equal(t, http.StatusConflict, status, "an ended discount no longer changes")

	// Every change is audited, with the discount and the customer.
	status, body = b.do("GET", "/api/v1/audit?object_type=discount&customer_id="+id, "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	var actions []string
	for _, it := range body["items"].([]any) {
		e := it.(map[string]any)
		actions = append(actions, fmt.Sprint(e["action"], " ", e["object_id"]))
		require.Equal(t, "staff", e["actor_kind"])
	}
	require.Equal(t, []string{"endDiscount " + fixedID, "updateDiscount " + percentID, "createDiscount " + fixedID,
		"createDiscount " + percentID}, actions, "newest first; refused changes are not logged")

	// Reading: staff with customers.read, and the customer's own client.
	reader := b.staffSession(billing.RoleStaff, billing.PermCustomersRead)
	status, body = b.doAs(reader, "GET", base, "")
	require.Equal(t, http.StatusOK, status)
	require.Len(t, body["items"], 2)
	status, _ = b.doAs(reader, "POST", base, `{"percent_bp": 100}`)
	require.Equal(t, http.StatusForbidden, status, "customers.read doesn't change discounts")
	status, _ = b.doAs(b.staffSession(billing.RoleStaff), "GET", base, "")
	require.Equal(t, http.StatusForbidden, status)

	users, err := b.store.Users(t.Context(), mustID(t, id))
	require.NoError(t, err)
	client := b.session(store.Session{Kind: billing.ActorClient, UserID: users[0].ID, CustomerID: mustID(t, id)})
	status, body = b.doAs(client, "GET", base+"/"+percentID, "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.EqualValues(t, 1500, body["percent_bp"])
	for _, r := range []struct{ method, path, body string }{
		{"POST", base, `{"percent_bp": 10000}`},
		{"PUT", base + "/" + percentID, `{"percent_bp": 10000}`},
		{"DELETE", base + "/" + percentID, ""},
	} {
		status, _ = b.doAs(client, r.method, r.path, r.body)
		require.Equal(t, http.StatusForbidden, status, "a client doesn't give itself discounts: %s %s", r.method, r.path)
	}
	status, _ = b.doAs(client, "GET", "/api/v1/customers/"+otherID+"/discounts", "")
	require.Equal(t, http.StatusNotFound, status, "another customer's discounts")
	status, _ = b.do("GET", "/api/v1/customers/"+otherID+"/discounts/"+percentID, "")
	require.Equal(t, http.StatusNotFound, status, "a discount of another customer")
	status, body = b.do("GET", base+"/"+percentID, "")
	require.Equal(t, http.StatusOK, status)
	require.EqualValues(t, 1500, body["percent_bp"], "the client's attempts changed nothing")
}

// TestInvoiceShowsDiscount: an invoice line with a discount shows, in the
// HTML view and in the PDF (read back with pdftotext), the unit price
// before it, the discount with its name, and the total after it.
func TestInvoiceShowsDiscount(t *testing.T) {
	t.Parallel()
	tool, err := exec.LookPath("pdftotext")
	require.NoError(t, err, "pdftotext is missing: make setup installs poppler-utils")
	b := setup(t)
	ctx := t.Context()
	login := "d" + uniq()
	in := billing.CustomerCreate{AccountType: billing.AccountIndividual, Name: "Discounted " + login, Country: "DE",
		User: billing.UserCreate{Login: login, Email: login + "@example.com"}}
	in.Defaults()
	c, _, err := b.store.CreateCustomer(ctx, in, "hash")
	require.NoError(t, err)
	_, err = b.store.Adjust(ctx, c.ID, billing.Adjustment{Kind: billing.Credit, Amount: 1169, Currency: "EUR", Reference: "funds", IdempotencyKey: rand.Text()})
	require.NoError(t, err)
	e, err := b.store.Adjust(ctx, c.ID, billing.Adjustment{Kind: billing.Debit, Amount: 1169, Currency: "EUR", Reference: "charge", IdempotencyKey: rand.Text()})
	require.NoError(t, err)
	// Numbered in the year 1901: the package's other tests use 1900 (invoiceFor).
	lines := `[{"name": "VPS S", "description": "2 vCPU", "period_from": "2026-03-01T00:00:00Z", "period_until": "2026-04-01T00:00:00Z",
		"quantity": 1, "unit_price": 1299, "discount": 130, "discount_label": "discount #7 10%", "total": 1169}]`
	var id int64
	require.NoError(t, b.store.Pool().QueryRow(ctx, `INSERT INTO invoices (number, year, seq, customer_id, ledger_entry_id, charge_key,
		status, currency, total, lines, customer_name, provider)
		VALUES ($1, 1901, $2, $3, $2, $4, 'paid', 'EUR', 1169, $5, $6, 'Hosting GmbH') RETURNING id`,
		billing.InvoiceNumber(1901, e.ID), e.ID, c.ID, e.IdempotencyKey, lines, c.Name).Scan(&id))

	status, body := b.do("GET", fmt.Sprint("/api/v1/invoices/", id), "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	line := body["lines"].([]any)[0].(map[string]any)
	require.EqualValues(t, 130, line["discount"])
	require.Equal(t, "discount #7 10%", line["discount_label"])
	status, body = b.do("GET", fmt.Sprint("/api/v1/invoices/", id, "/html"), "")
	require.Equal(t, http.StatusOK, status)
	for _, want := range []string{"<th>Discount</th>", "12.99 EUR", "-1.30 EUR", "11.69 EUR", "discount #7 10%"} {
		require.Contains(t, body["text"], want)
	}
	res, raw := b.send(b.token, "GET", fmt.Sprint("/api/v1/invoices/", id, "/pdf"), "", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, "%s", raw)
	file := filepath.Join(t.TempDir(), "invoice.pdf")
	require.NoError(t, os.WriteFile(file, raw, 0o600))
	out, err := exec.CommandContext(ctx, tool, "-layout", file, "-").Output()
	require.NoError(t, err)
	text := string(out)
	require.Regexp(t, `VPS S\s+2026-03-01 - 2026-04-01\s+1\s+12\.99 EUR\s+-1\.30 EUR\s+11\.69 EUR`, text)
	for _, want := range []string{"Discount", "discount #7 10%", "Total"} {
		require.Contains(t, text, want)
	}
}

// TestClientsDontSeeDiscountNotes: a discount's note is staff's (why it was
// given); the customer's client reads the discount without it.
func TestClientsDontSeeDiscountNotes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id, _ := b.newCustomer()
	base := "/api/v1/customers/" + id + "/discounts"
	status, body := b.do("POST", base, `{"percent_bp": 500, "note": "complained twice; keep them"}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	discount := jsonID(body)
	_, body = b.do("GET", base+"/"+discount, "")
	require.Equal(t, "complained twice; keep them", body["note"], "staff see it")

	users, err := b.store.Users(t.Context(), mustID(t, id))
	require.NoError(t, err)
	client := b.session(store.Session{Kind: billing.ActorClient, UserID: users[0].ID, CustomerID: mustID(t, id)})
	status, body = b.doAs(client, "GET", base+"/"+discount, "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, "", body["note"])
	require.EqualValues(t, 500, body["percent_bp"])
	status, body = b.doAs(client, "GET", base, "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, "", body["items"].([]any)[0].(map[string]any)["note"])
}
