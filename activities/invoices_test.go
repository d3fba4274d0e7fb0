package activities_test

import (
	"crypto/rand"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/internal/smtptest"
	"github.com/tempobill/billing/mail"
)

// mimePart is one leaf of a message: its content type, file name and
// decoded content.
type mimePart struct {
	contentType, filename string
	content               []byte
}

// leaves returns the decoded leaf parts of a MIME entity.
func leaves(t *testing.T, header interface{ Get(string) string }, body io.Reader) []mimePart {
	t.Helper()
	mt, params, err := mime.ParseMediaType(header.Get("Content-Type"))
	require.NoError(t, err)
	if strings.HasPrefix(mt, "multipart/") {
		var out []mimePart
		r := multipart.NewReader(body, params["boundary"])
		for {
			p, err := r.NextRawPart()
			if err == io.EOF {
				return out
			}
			require.NoError(t, err)
			out = append(out, leaves(t, p.Header, p)...)
		}
	}
	switch strings.ToLower(header.Get("Content-Transfer-Encoding")) {
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	}
	raw, err := io.ReadAll(body)
	require.NoError(t, err)
	_, dp, _ := mime.ParseMediaType(header.Get("Content-Disposition"))
	return []mimePart{{contentType: mt, filename: dp["filename"], content: raw}}
}

// pdfText reads a PDF's text with pdftotext.
func pdfText(t *testing.T, pdf []byte) string {
	t.Helper()
	tool, err := exec.LookPath("pdftotext")
	require.NoError(t, err, "pdftotext is missing: make setup installs poppler-utils")
	file := filepath.Join(t.TempDir(), "doc.pdf")
	require.NoError(t, os.WriteFile(file, pdf, 0o600))
	out, err := exec.CommandContext(t.Context(), tool, "-layout", file, "-").Output()
	require.NoError(t, err)
	return string(out)
}

// TestInvoiceIssuedNotice: with auto_invoicing on, a period charge queues
// invoice_issued in its transaction; the redelivery sends exactly one email
// to each user of the customer, with the invoice's PDF attached, whose text
// has the invoice's number and total. A retried charge sends none. A refund
// of the charge issues a credit note and sends credit_note_issued, with its
// PDF, once.
func TestInvoiceIssuedNotice(t *testing.T) {
	t.Parallel()
	f := setupOn(t, dbtest.OwnPool(t), billing.ProductInput{})
	srv, err := smtptest.Start()
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	m, err := mail.NewSMTP(srv.Addr, "", "", "none")
	require.NoError(t, err)
	f.acts.Mail = m
	on, provider := true, "Hosting GmbH\nBerlin"
	_, err = f.st.UpdateSettings(f.ctx, billing.DefaultSettings(), billing.SettingsUpdate{AutoInvoicing: &on, InvoiceProvider: &provider})
	require.NoError(t, err)
	second := "b" + strings.ToLower(rand.Text()[:10])
	_, err = f.st.CreateUser(f.ctx, f.cust.ID, billing.UserCreate{Login: second, Email: second + "@example.com", FirstName: "Bob"}, "x")
	require.NoError(t, err)
	users, err := f.st.Users(f.ctx, f.cust.ID)
	require.NoError(t, err)
	require.Len(t, users, 2)
	_, err = f.st.Adjust(f.ctx, f.cust.ID, billing.Adjustment{Kind: billing.Credit, Amount: 1000, Currency: "EUR",
		Reference: "funds", IdempotencyKey: "funds-" + second})
	require.NoError(t, err)

	charge := activities.ChargePeriodInput{SubscriptionID: f.sub.ID, CustomerID: f.cust.ID, Period: 1, From: time.Now()}
	_, err = f.acts.ChargePeriod(f.ctx, charge)
	require.NoError(t, err)
	inv, err := f.st.InvoiceByChargeKey(f.ctx, activities.PeriodChargeKey(f.sub.ID, 1))
	require.NoError(t, err)
	require.Empty(t, srv.Messages(), "queued, not sent yet")
	f.redeliver(t)
	check := func(msgs []smtptest.Message, subject, file string, want ...string) {
		t.Helper()
		var to []string
		for _, msg := range msgs {
			to = append(to, msg.To)
			require.Equal(t, subject, msg.Subject)
			parts := leaves(t, msg.Header, strings.NewReader(msg.Body))
			var pdfs []mimePart
			for _, p := range parts {
				if p.contentType == "application/pdf" {
					pdfs = append(pdfs, p)
				}
			}
			require.Len(t, pdfs, 1, "one PDF attached")
			require.Equal(t, file, pdfs[0].filename)
			text := pdfText(t, pdfs[0].content)
			for _, w := range want {
				require.Contains(t, text, w)
			}
		}
		require.ElementsMatch(t, []string{users[0].Email, users[1].Email}, to, "every user, once")
	}
	msgs := srv.Messages()
	require.Len(t, msgs, 2)
	check(msgs, "New invoice "+inv.Number, inv.Number+".pdf", "Invoice "+inv.Number, "2.50 EUR", "Total", "Hosting GmbH")
	body := leaves(t, msgs[0].Header, strings.NewReader(msgs[0].Body))[0]
	require.Contains(t, string(body.content), "invoice "+inv.Number+" of "+inv.IssuedAt.Format("2006-01-02")+
		" for "+f.cust.Name+" is attached as a PDF. Its total of 2.50 EUR has been paid from your balance.")

	_, err = f.acts.ChargePeriod(f.ctx, charge) // a retry: found, not charged again
	require.NoError(t, err)
	f.redeliver(t)
	require.Len(t, srv.Messages(), 2, "a retried charge sends no second notice")
	all, err := f.st.Invoices(f.ctx, billing.InvoiceFilter{})
	require.NoError(t, err)
	require.Equal(t, 1, all.Total)

	refund := activities.RefundPeriodInput{SubscriptionID: f.sub.ID, CustomerID: f.cust.ID, Period: 1}
	res, err := f.acts.RefundPeriod(f.ctx, refund)
	require.NoError(t, err)
	require.Equal(t, int64(250), res.Amount)
	cn, err := f.st.CreditNoteByRefund(f.ctx, activities.PeriodChargeKey(f.sub.ID, 1))
	require.NoError(t, err)
	_, err = f.acts.RefundPeriod(f.ctx, refund)
	require.NoError(t, err)
	f.redeliver(t)
	msgs = srv.Messages()
	require.Len(t, msgs, 4, "one credit note notice per user, though refunded twice")
	check(msgs[2:], "Credit note "+cn.Number+" for invoice "+inv.Number, cn.Number+".pdf", "Credit note "+cn.Number,
		"Corrects invoice "+inv.Number, "2.50 EUR", "Total credited")
}

// TestNewInvoiceMailAttachesTheInvoiceAsIssued: an invoice credited before
// its "new invoice" mail goes out is still attached as it was issued (paid,
// no credit note); the credit note has its own mail.
func TestNewInvoiceMailAttachesTheInvoiceAsIssued(t *testing.T) {
	t.Parallel()
	f := setupOn(t, dbtest.OwnPool(t), billing.ProductInput{})
	srv, err := smtptest.Start()
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	m, err := mail.NewSMTP(srv.Addr, "", "", "none")
	require.NoError(t, err)
	f.acts.Mail = m
	on := true
	_, err = f.st.UpdateSettings(f.ctx, billing.DefaultSettings(), billing.SettingsUpdate{AutoInvoicing: &on})
	require.NoError(t, err)
	_, err = f.st.Adjust(f.ctx, f.cust.ID, billing.Adjustment{Kind: billing.Credit, Amount: 1000, Currency: "EUR",
		Reference: "funds", IdempotencyKey: "funds-" + rand.Text()})
	require.NoError(t, err)
	_, err = f.acts.ChargePeriod(f.ctx, activities.ChargePeriodInput{SubscriptionID: f.sub.ID, CustomerID: f.cust.ID, Period: 1, From: time.Now()})
	require.NoError(t, err)
	_, err = f.acts.RefundPeriod(f.ctx, activities.RefundPeriodInput{SubscriptionID: f.sub.ID, CustomerID: f.cust.ID, Period: 1})
	require.NoError(t, err)
	inv, err := f.st.InvoiceByChargeKey(f.ctx, activities.PeriodChargeKey(f.sub.ID, 1))
	require.NoError(t, err)
	require.Equal(t, billing.InvoiceCredited, inv.Status, "credited before any mail went out")

	f.redeliver(t)
	found := false
	for _, msg := range srv.Messages() {
		if msg.Subject != "New invoice "+inv.Number {
			continue
		}
		for _, p := range leaves(t, msg.Header, strings.NewReader(msg.Body)) {
			if p.contentType == "application/pdf" {
				found = true
				text := pdfText(t, p.content)
				require.Contains(t, text, "Status: paid")
				require.NotContains(t, text, "Credit note")
			}
		}
	}
	require.True(t, found, "the new invoice mail with its PDF")
}
