package api_test

import (
	"bytes"
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

// creditNoteFor issues a credit note of 1.00 EUR of the invoice id.
func creditNoteFor(t *testing.T, st *store.Store, id int64) int64 {
	t.Helper()
	amount := int64(100)
	cn, created, err := st.IssueCreditNote(t.Context(), id, billing.CreditNoteCreate{Amount: &amount, Reason: "goodwill"}, "")
	require.NoError(t, err)
	require.True(t, created)
	return cn.ID
}

// TestCreditNotesAPI: staff with ledger.write issue credit notes of an
// invoice; a resent request (same Idempotency-Key) returns the same credit
// note and credits nothing again; more than is left is refused; the invoice
// shows its credit notes and a derived status that the list filters by; the
// credit is in the ledger; the issue is audited; a client sees their own
// customer's credit notes only, and its HTML view.
func TestCreditNotesAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	login := "n" + uniq()
	in := billing.CustomerCreate{AccountType: billing.AccountIndividual, Name: "Credited " + login, Country: "DE",
		User: billing.UserCreate{Login: login, Email: login + "@example.com"}}
	in.Defaults()
	c, u, err := b.store.CreateCustomer(t.Context(), in, "hash")
	require.NoError(t, err)
	inv := invoiceFor(t, b.store, c)
	invPath := fmt.Sprint("/api/v1/invoices/", inv)
	balance := func() float64 {
		t.Helper()
		_, body := b.do("GET", fmt.Sprintf("/api/v1/customers/%d/balance", c.ID), "")
		return body["balances"].([]any)[0].(map[string]any)["amount"].(float64)
	}
	require.EqualValues(t, 0, balance(), "funded and charged 12.99 EUR")

	key := map[string]string{"Idempotency-Key": "cn-" + login}
	code, body := b.doHeaders("POST", invPath+"/credit-notes", `{"amount": 300, "reason": "outage of 3 days"}`, key)
	require.Equal(t, http.StatusCreated, code, "%v", body)
	first := body
	year := time.Now().UTC().Year()
	require.True(t, strings.HasPrefix(first["number"].(string), fmt.Sprintf("CN-%d-", year)), first["number"])
	require.EqualValues(t, inv, first["invoice_id"])
	require.True(t, strings.HasPrefix(first["invoice_number"].(string), "INV-1900-"), first["invoice_number"])
	require.EqualValues(t, 300, first["amount"])
	require.Equal(t, "outage of 3 days", first["reason"])
	require.EqualValues(t, 300, balance())

	code, body = b.doHeaders("POST", invPath+"/credit-notes", `{"amount": 300, "reason": "outage of 3 days"}`, key)
	require.Equal(t, http.StatusOK, code, "resent: %v", body)
	require.Equal(t, first["id"], body["id"])
	require.Equal(t, first["number"], body["number"])
	require.EqualValues(t, 300, balance(), "credited once")
	code, _ = b.doHeaders("POST", invPath+"/credit-notes", `{"amount": 301, "reason": "outage of 3 days"}`, key)
	require.Equal(t, http.StatusConflict, code, "the key with another amount")

	code, body = b.do("GET", invPath, "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "partially_credited", body["status"])
	require.EqualValues(t, 300, body["credited"])
	require.Equal(t, []any{map[string]any{"id": first["id"], "number": first["number"], "amount": 300.0}}, body["credit_notes"])

	code, body = b.do("POST", invPath+"/credit-notes", `{"amount": 1000, "reason": "too much"}`)
	require.Equal(t, http.StatusUnprocessableEntity, code, "999 left")
	require.Contains(t, body["error"].(map[string]any)["fields"].(map[string]any)["amount"], "at most 999")
	code, body = b.do("POST", invPath+"/credit-notes", `{"reason": ""}`)
	require.Equal(t, http.StatusUnprocessableEntity, code)
	require.Contains(t, body["error"].(map[string]any)["fields"], "reason")
	code, body = b.do("POST", invPath+"/credit-notes", `{"reason": "service cancelled"}`)
	require.Equal(t, http.StatusCreated, code, "%v", body)
	require.EqualValues(t, 999, body["amount"], "the rest by default")
	rest := body
	require.EqualValues(t, 1299, balance())
	code, _ = b.do("POST", invPath+"/credit-notes", `{"reason": "again"}`)
	require.Equal(t, http.StatusConflict, code, "credited in full")
	require.EqualValues(t, 1299, balance())

	code, body = b.do("GET", invPath, "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "credited", body["status"])
	require.EqualValues(t, 1299, body["credited"])
	require.Len(t, body["credit_notes"], 2)
	for status, n := range map[string]float64{"credited": 1, "paid": 0, "partially_credited": 0} {
		code, body = b.do("GET", fmt.Sprintf("/api/v1/invoices?customer_id=%d&status=%s", c.ID, status), "")
		require.Equal(t, http.StatusOK, code)
		require.Equal(t, n, body["total"], status)
	}

	code, body = b.do("GET", fmt.Sprintf("/api/v1/customers/%d/ledger", c.ID), "")
	require.Equal(t, http.StatusOK, code)
	e := body["items"].([]any)[0].(map[string]any)
	require.Equal(t, "credit_note", e["reason"])
	require.EqualValues(t, 999, e["amount"])
	require.Equal(t, rest["ledger_entry_id"], e["id"])
	require.Contains(t, e["reference"], rest["number"].(string))

	code, body = b.do("GET", fmt.Sprintf("/api/v1/audit?action=createCreditNote&customer_id=%d", c.ID), "")
	require.Equal(t, http.StatusOK, code)
	require.EqualValues(t, 3, body["total"], "each issue audited, and the resend, naming the credit note it returned")
	a := body["items"].([]any)[0].(map[string]any)
	require.Equal(t, "credit_note", a["object_type"])
	require.Equal(t, fmt.Sprint(rest["id"]), a["object_id"])

	code, body = b.do("GET", fmt.Sprintf("/api/v1/credit-notes?invoice_id=%d", inv), "")
	require.Equal(t, http.StatusOK, code)
	require.EqualValues(t, 2, body["total"])
	require.Equal(t, rest["id"], body["items"].([]any)[0].(map[string]any)["id"], "newest first")
	code, body = b.do("GET", fmt.Sprintf("/api/v1/credit-notes?customer_id=%d&until=2000-01-01T00:00:00Z", c.ID), "")
	require.Equal(t, http.StatusOK, code)
	require.EqualValues(t, 0, body["total"])

	// A client sees their own customer's credit notes; another's answer 404.
	client := b.session(store.Session{Kind: billing.ActorClient, UserID: u.ID, CustomerID: c.ID})
	code, body = b.doAs(client, "GET", "/api/v1/credit-notes", "")
	require.Equal(t, http.StatusOK, code)
	require.EqualValues(t, 2, body["total"])
	code, _ = b.doAs(client, "POST", invPath+"/credit-notes", `{"reason": "self-service"}`)
	require.Equal(t, http.StatusForbidden, code)
	otherLogin := "o" + uniq()
	oin := billing.CustomerCreate{AccountType: billing.AccountIndividual, Name: "Other " + otherLogin, Country: "DE",
		User: billing.UserCreate{Login: otherLogin, Email: otherLogin + "@example.com"}}
	oin.Defaults()
	other, _, err := b.store.CreateCustomer(t.Context(), oin, "hash")
	require.NoError(t, err)
	otherCN := creditNoteFor(t, b.store, invoiceFor(t, b.store, other))
	for _, suffix := range []string{"", "/html", "/pdf"} {
		code, _ = b.doAs(client, "GET", fmt.Sprint("/api/v1/credit-notes/", otherCN, suffix), "")
		require.Equal(t, http.StatusNotFound, code, suffix)
	}
	code, body = b.doAs(client, "GET", fmt.Sprint("/api/v1/credit-notes/", first["id"], "/html"), "")
	require.Equal(t, http.StatusOK, code)
	html := body["text"].(string)
	for _, want := range []string{"Credit note " + first["number"].(string), "Corrects invoice " + first["invoice_number"].(string),
		"outage of 3 days", "Payer of " + c.Name, "Hosting GmbH<br>Berlin", "3.00 EUR", "Total credited"} {
		require.True(t, strings.Contains(html, want), "the HTML shows %q:\n%s", want, html)
	}
	code, body = b.doAs(client, "GET", invPath+"/html", "")
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, body["text"], "Status: credited")
	require.Contains(t, body["text"], "Credit note "+rest["number"].(string)+": 9.99 EUR")
}

// TestCreditNotePDF: the credit note's PDF, read back with pdftotext, shows
// its number, the invoice it corrects, the parties, the reason and the amount.
func TestCreditNotePDF(t *testing.T) {
	t.Parallel()
	tool, err := exec.LookPath("pdftotext")
	require.NoError(t, err, "pdftotext is missing: make setup installs poppler-utils")
	b := setup(t)
	login := "q" + uniq()
	in := billing.CustomerCreate{AccountType: billing.AccountIndividual, Name: "Jürgen " + login, Country: "DE",
		User: billing.UserCreate{Login: login, Email: login + "@example.com"}}
	in.Defaults()
	c, _, err := b.store.CreateCustomer(t.Context(), in, "hash")
	require.NoError(t, err)
	inv, err := b.store.Invoice(t.Context(), invoiceFor(t, b.store, c))
	require.NoError(t, err)
	code, body := b.do("POST", fmt.Sprint("/api/v1/invoices/", inv.ID, "/credit-notes"), `{"amount": 250, "reason": "Störung am Wochenende"}`)
	require.Equal(t, http.StatusCreated, code, "%v", body)

	res, raw := b.send(b.token, "GET", fmt.Sprint("/api/v1/credit-notes/", jsonID(body), "/pdf"), "", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, "%s", raw)
	require.Equal(t, "application/pdf", res.Header.Get("Content-Type"))
	require.True(t, bytes.HasPrefix(raw, []byte("%PDF-")))
	file := filepath.Join(t.TempDir(), "credit-note.pdf")
	require.NoError(t, os.WriteFile(file, raw, 0o600))
	out, err := exec.CommandContext(t.Context(), tool, "-layout", file, "-").Output()
	require.NoError(t, err)
	text := string(out)
	for _, want := range []string{"Credit note " + body["number"].(string), "Corrects invoice " + inv.Number, "Hosting GmbH",
		"Payer of Jürgen " + login, "Credit on invoice " + inv.Number, "Störung am Wochenende", "2.50 EUR", "Total credited",
		"Invoice " + inv.Number + " total: 12.99 EUR"} {
		require.Contains(t, text, want)
	}
}

// TestCreditNoteResendAudit: every audit entry of createCreditNote names the
// credit note and its customer, the resent request's too (it returns the
// credit note made): none is left without an object, out of the customer's
// audit trail.
func TestCreditNoteResendAudit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	login := "r" + uniq()
	in := billing.CustomerCreate{AccountType: billing.AccountIndividual, Name: "Resent " + login, Country: "DE",
		User: billing.UserCreate{Login: login, Email: login + "@example.com"}}
	in.Defaults()
	c, _, err := b.store.CreateCustomer(t.Context(), in, "hash")
	require.NoError(t, err)
	inv := invoiceFor(t, b.store, c)
	key := map[string]string{"Idempotency-Key": "resend-" + login}
	path := fmt.Sprint("/api/v1/invoices/", inv, "/credit-notes")
	code, first := b.doHeaders("POST", path, `{"amount": 100, "reason": "outage"}`, key)
	require.Equal(t, http.StatusCreated, code, "%v", first)
	code, again := b.doHeaders("POST", path, `{"amount": 100, "reason": "outage"}`, key)
	require.Equal(t, http.StatusOK, code, "%v", again)
	require.Equal(t, first["id"], again["id"])

	rows, err := b.store.Pool().Query(t.Context(), `SELECT object_type, object_id, customer_id FROM audit_log
		WHERE action = 'createCreditNote' AND (customer_id = $1 OR object_id = $2) ORDER BY id`, c.ID, fmt.Sprint(inv))
	require.NoError(t, err)
	type entry struct {
		ObjectType, ObjectID string
		CustomerID           *int64
	}
	var got []entry
	for rows.Next() {
		var e entry
		require.NoError(t, rows.Scan(&e.ObjectType, &e.ObjectID, &e.CustomerID))
		got = append(got, e)
	}
	require.NoError(t, rows.Err())
	want := entry{ObjectType: "credit_note", ObjectID: fmt.Sprint(first["id"]), CustomerID: &c.ID}
	require.Equal(t, []entry{want, want}, got, "the issue and the resend, each naming the credit note")
}
