package api_test

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store"
)

// invoiceFor writes an invoice of c directly (a debit of 12.99 EUR and its
// invoice, numbered in the year 1900 so that no issued number is taken):
// the package's tests share one database, where automatic invoicing stays off.
func invoiceFor(t *testing.T, st *store.Store, c billing.Customer) int64 {
	t.Helper()
	ctx := t.Context()
	pool := st.Pool()
	_, err := st.Adjust(ctx, c.ID, billing.Adjustment{Kind: billing.Credit, Amount: 1299, Currency: "EUR", Reference: "funds", IdempotencyKey: rand.Text()})
	require.NoError(t, err)
	e, err := st.Adjust(ctx, c.ID, billing.Adjustment{Kind: billing.Debit, Amount: 1299, Currency: "EUR", Reference: "charge", IdempotencyKey: rand.Text()})
	require.NoError(t, err)
	from := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	lines := fmt.Sprintf(`[{"name": "VPS <S>", "description": "2 vCPU", "period_from": %q, "period_until": %q, "quantity": 1, "unit_price": 1299, "total": 1299}]`,
		from.Format(time.RFC3339), from.AddDate(0, 1, 0).Format(time.RFC3339))
	var id int64
	require.NoError(t, pool.QueryRow(ctx, `INSERT INTO invoices (number, year, seq, customer_id, ledger_entry_id, charge_key,
		status, currency, total, lines, customer_name, payer, provider)
		VALUES ($1, 1900, $2, $3, $2, $4, 'paid', 'EUR', 1299, $5, $6, $7, 'Hosting GmbH'||chr(10)||'Berlin') RETURNING id`,
		billing.InvoiceNumber(1900, e.ID), e.ID, c.ID, e.IdempotencyKey, lines, c.Name,
		`{"type": "company", "legal_name": "Payer of `+c.Name+`", "country": "DE", "address": "Ring 2", "tax_id": "DE9", "registration_number": "", "email": ""}`).Scan(&id))
	return id
}

// TestInvoicesListGetAndHTML: staff list invoices by customer and dates, a
// client sees only their own customer's, and the HTML view shows the
// number, lines (escaped), payer, provider and total.
func TestInvoicesListGetAndHTML(t *testing.T) {
	t.Parallel()
	b := setup(t)
	customer := func() (billing.Customer, billing.User) {
		login := "i" + uniq()
		in := billing.CustomerCreate{AccountType: billing.AccountIndividual, Name: "Invoiced " + login, Country: "DE",
			User: billing.UserCreate{Login: login, Email: login + "@example.com"}}
		in.Defaults()
		c, u, err := b.store.CreateCustomer(t.Context(), in, "hash")
		require.NoError(t, err)
		return c, u
	}
	a, userA := customer()
	other, _ := customer()
	idA, idB := invoiceFor(t, b.store, a), invoiceFor(t, b.store, other)

	code, body := b.do("GET", fmt.Sprintf("/api/v1/invoices?customer_id=%d", a.ID), "")
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.EqualValues(t, 1, body["total"])
	item := body["items"].([]any)[0].(map[string]any)
	require.EqualValues(t, idA, item["id"])
	require.Equal(t, "paid", item["status"])
	require.EqualValues(t, 1299, item["total"])

	code, body = b.do("GET", fmt.Sprintf("/api/v1/invoices?customer_id=%d&until=2000-01-01T00:00:00Z", a.ID), "")
	require.Equal(t, http.StatusOK, code)
	require.EqualValues(t, 0, body["total"], "issued now, not before 2000")
	code, body = b.do("GET", fmt.Sprintf("/api/v1/invoices?customer_id=%d&from=2000-01-01T00:00:00Z&status=paid", a.ID), "")
	require.Equal(t, http.StatusOK, code)
	require.EqualValues(t, 1, body["total"])
	code, _ = b.do("GET", "/api/v1/invoices?status=draft", "")
	require.Equal(t, http.StatusUnprocessableEntity, code)

	code, body = b.do("GET", fmt.Sprint("/api/v1/invoices/", idB), "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, other.Name, body["customer_name"])

	// A client sees their own customer's invoices only.
	client := b.session(store.Session{Kind: billing.ActorClient, UserID: userA.ID, CustomerID: a.ID})
	code, body = b.doAs(client, "GET", "/api/v1/invoices", "")
	require.Equal(t, http.StatusOK, code)
	require.EqualValues(t, 1, body["total"])
	code, _ = b.doAs(client, "GET", fmt.Sprint("/api/v1/invoices/", idB), "")
	require.Equal(t, http.StatusNotFound, code)
	code, _ = b.doAs(client, "GET", fmt.Sprint("/api/v1/invoices/", idB, "/html"), "")
	require.Equal(t, http.StatusNotFound, code)

	code, body = b.doAs(client, "GET", fmt.Sprint("/api/v1/invoices/", idA, "/html"), "")
	require.Equal(t, http.StatusOK, code)
	html := body["text"].(string)
	for _, want := range []string{"Invoice INV-1900-", "VPS &lt;S&gt;", "2026-03-01 – 2026-04-01", "Payer of " + a.Name,
		"Hosting GmbH<br>Berlin", "12.99 EUR"} {
		require.True(t, strings.Contains(html, want), "the HTML shows %q:\n%s", want, html)
	}
}

// TestInvoicePDF: the PDF's text, read back with pdftotext (poppler-utils,
// installed by make setup), shows the number, the provider, the payer, the
// line and the total (Western European letters too); staff without
// customers.read get 403.
func TestInvoicePDF(t *testing.T) {
	t.Parallel()
	tool, err := exec.LookPath("pdftotext")
	require.NoError(t, err, "pdftotext is missing: make setup installs poppler-utils")
	b := setup(t)
	login := "p" + uniq()
	in := billing.CustomerCreate{AccountType: billing.AccountIndividual, Name: "Müller " + login, Country: "DE",
		User: billing.UserCreate{Login: login, Email: login + "@example.com"}}
	in.Defaults()
	c, _, err := b.store.CreateCustomer(t.Context(), in, "hash")
	require.NoError(t, err)
	id := invoiceFor(t, b.store, c)

	res, raw := b.send(b.token, "GET", fmt.Sprint("/api/v1/invoices/", id, "/pdf"), "", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, "%s", raw)
	require.Equal(t, "application/pdf", res.Header.Get("Content-Type"))
	require.True(t, bytes.HasPrefix(raw, []byte("%PDF-")))
	file := filepath.Join(t.TempDir(), "invoice.pdf")
	require.NoError(t, os.WriteFile(file, raw, 0o600))
	out, err := exec.CommandContext(t.Context(), tool, "-layout", file, "-").Output()
	require.NoError(t, err)
	text := string(out)
	for _, want := range []string{"Invoice INV-1900-", "Hosting GmbH", "Berlin", "Payer of Müller " + login, "Ring 2",
		"Tax ID: DE9", "VPS <S>", "2 vCPU", "2026-03-01 - 2026-04-01", "12.99 EUR", "Total"} {
		require.Contains(t, text, want)
	}

	other := b.staffSession(billing.RoleStaff)
	res, _ = b.send(other, "GET", fmt.Sprint("/api/v1/invoices/", id, "/pdf"), "", nil)
	require.Equal(t, http.StatusForbidden, res.StatusCode, "customers.read is needed")
}
