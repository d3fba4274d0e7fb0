package activities

import (
	"bytes"
	"context"
	"strconv"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/invoicedoc"
	"github.com/tempobill/billing/mail"
	"github.com/tempobill/billing/notices"
	"github.com/tempobill/billing/store"
	"github.com/tempobill/billing/zoneinfo"
)

// QueueInvoiceIssued queues, in st (the transaction that issued inv), the
// invoice_issued notice to every user of its customer, keyed by the
// invoice: once per invoice. Its PDF is made when the email is sent, from
// the invoice, which never changes.
func QueueInvoiceIssued(ctx context.Context, st *store.Store, inv billing.Invoice, defaultLanguage string) error {
	cust, err := st.Customer(ctx, inv.CustomerID)
	if err != nil {
		return err
	}
	_, err = QueueEvent(ctx, st, SendEventInput{Event: notices.EventInvoiceIssued, CustomerID: inv.CustomerID,
		ObjectType: notices.ObjectInvoice, ObjectID: strconv.FormatInt(inv.ID, 10), Vars: map[string]string{
			"[INVOICE_NUMBER]": inv.Number, "[AMOUNT]": billing.Money{Amount: inv.Total, Currency: inv.Currency}.String(),
			"[DATE]": inv.IssuedAt.In(zoneinfo.Load(cust.TimeZone)).Format("2006-01-02")}}, defaultLanguage)
	return err
}

// QueueCreditNoteIssued queues, in st (the transaction that issued cn), the
// credit_note_issued notice to every user of its customer, once per credit
// note; its PDF is made when the email is sent.
func QueueCreditNoteIssued(ctx context.Context, st *store.Store, cn billing.CreditNote, defaultLanguage string) error {
	cust, err := st.Customer(ctx, cn.CustomerID)
	if err != nil {
		return err
	}
	_, err = QueueEvent(ctx, st, SendEventInput{Event: notices.EventCreditNoteIssued, CustomerID: cn.CustomerID,
		ObjectType: notices.ObjectCreditNote, ObjectID: strconv.FormatInt(cn.ID, 10), Vars: map[string]string{
			"[CREDIT_NOTE_NUMBER]": cn.Number, "[INVOICE_NUMBER]": cn.InvoiceNumber,
			"[AMOUNT]": billing.Money{Amount: cn.Amount, Currency: cn.Currency}.String(), "[REASON]": cn.Reason,
			"[DATE]": cn.IssuedAt.In(zoneinfo.Load(cust.TimeZone)).Format("2006-01-02")}}, defaultLanguage)
	return err
}

// documentPDF is the PDF that goes with notice n's email when it is about an
// invoice or a credit note, rendered now from the document; ok is false for
// other notices.
func (a *Activities) documentPDF(ctx context.Context, n billing.Notice) (files []mail.Attachment, ok bool, err error) {
	if n.ObjectType != notices.ObjectInvoice && n.ObjectType != notices.ObjectCreditNote {
		return nil, false, nil
	}
	id, err := strconv.ParseInt(n.ObjectID, 10, 64)
	if err != nil {
		return nil, true, nil
	}
	var buf bytes.Buffer
	var name string
	if n.ObjectType == notices.ObjectInvoice {
		inv, err := a.Store.Invoice(ctx, id)
		if err != nil {
			return nil, true, err
		}
		name, err = inv.Number, invoicedoc.InvoicePDF(&buf, inv.AsIssued()) // as issued, even if credited since
		if err != nil {
			return nil, true, err
		}
	} else {
		cn, err := a.Store.CreditNote(ctx, id)
		if err != nil {
			return nil, true, err
		}
		inv, err := a.Store.Invoice(ctx, cn.InvoiceID)
		if err != nil {
			return nil, true, err
		}
		name, err = cn.Number, invoicedoc.CreditNotePDF(&buf, cn, inv)
		if err != nil {
			return nil, true, err
		}
	}
	return []mail.Attachment{{Name: name + ".pdf", ContentType: "application/pdf", Content: buf.Bytes()}}, true, nil
}
