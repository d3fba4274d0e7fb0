package store

import (
	"context"
	"encoding/json"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

func invoiceFromRow(r dbsqlc.Invoice) billing.Invoice {
	inv := billing.Invoice{ID: r.ID, Number: r.Number, CustomerID: r.CustomerID, SubscriptionID: r.SubscriptionID,
		LedgerEntryID: r.LedgerEntryID, Status: r.Status, Currency: r.Currency, Total: r.Total,
		Lines: []billing.InvoiceLine{}, CustomerName: r.CustomerName, Provider: r.Provider, IssuedAt: r.IssuedAt}
	// Both columns are written by issueInvoice from these very types.
	_ = json.Unmarshal(r.Lines, &inv.Lines)
	if len(r.Payer) > 0 && string(r.Payer) != "null" {
		inv.Payer = &billing.InvoicePayer{}
		_ = json.Unmarshal(r.Payer, inv.Payer)
	}
	return inv
}

// issueInvoice issues the invoice of the period charge e, just written in
// q's transaction (which holds the customer's row lock), if the setting
// auto_invoicing is on and the customer is not post-paid. Its number is the
// next of the year, taken under the year's counter lock: gapless, since a
// rolled back charge gives it back. With disc, the charge's discount, its
// line shows the unit price before it, the discount and the total after it.
func issueInvoice(ctx context.Context, q *dbsqlc.Queries, pc PeriodCharge, e billing.LedgerEntry, disc *AppliedDiscount) error {
	settings, err := q.SettingsGet(ctx)
	if err == pgx.ErrNoRows || (err == nil && !settings.AutoInvoicing) {
		return nil
	}
	if err != nil {
		return err
	}
	src, err := q.InvoiceSource(ctx, dbsqlc.InvoiceSourceParams{CustomerID: e.CustomerID, ProductID: pc.ProductID})
	if err != nil || src.PostPaid {
		return err
	}
	issued := time.Now().UTC()
	seq, err := q.InvoiceNextNumber(ctx, issued.Year())
	if err != nil {
		return err
	}
	items := pc.Lines // an overage charge brings its own
	if items == nil {
		line := billing.InvoiceLine{Name: src.ProductName, Description: src.ProductDescription,
			PeriodFrom: pc.PeriodFrom.UTC(), PeriodUntil: pc.PaidUntil.UTC(), Quantity: 1, UnitPrice: e.Amount, Total: e.Amount}
		if disc != nil { // the price before it, what it took off, the total charged
			line.UnitPrice, line.Discount, line.DiscountLabel = e.Amount+disc.Off, disc.Off, disc.Discount.Label()
		}
		items = []billing.InvoiceLine{line}
	}
	lines, err := json.Marshal(items)
	if err != nil {
		return err
	}
	sub := pc.SubscriptionID
	_, err = q.InvoiceInsert(ctx, dbsqlc.InvoiceInsertParams{Number: billing.InvoiceNumber(issued.Year(), seq),
		Year: issued.Year(), Seq: seq, CustomerID: e.CustomerID, SubscriptionID: &sub, LedgerEntryID: e.ID,
		ChargeKey: e.IdempotencyKey, Status: billing.InvoicePaid, Currency: e.Currency, Total: e.Amount,
		Lines: lines, CustomerName: src.CustomerName, Payer: src.Payer, Provider: settings.InvoiceProvider,
		IssuedAt: issued})
	return err
}

// Invoice returns an invoice with its credit notes.
func (s *Store) Invoice(ctx context.Context, id int64) (billing.Invoice, error) {
	row, err := s.q.InvoiceGet(ctx, id)
	return s.credited(ctx, row, dbError(err, "invoice", id))
}

// InvoiceByChargeKey returns the invoice of the charge written under key.
func (s *Store) InvoiceByChargeKey(ctx context.Context, key string) (billing.Invoice, error) {
	row, err := s.q.InvoiceGetByChargeKey(ctx, key)
	return s.credited(ctx, row, dbError(err, "invoice", key))
}

// credited is the invoice of row, read with err, with its credit notes.
func (s *Store) credited(ctx context.Context, row dbsqlc.Invoice, err error) (billing.Invoice, error) {
	invs := []billing.Invoice{invoiceFromRow(row)}
	if err != nil {
		return invs[0], err
	}
	err = withCredits(ctx, s.q, invs)
	return invs[0], dbError(err, "invoice", row.ID)
}

// Invoices lists invoices that match f, newest first.
func (s *Store) Invoices(ctx context.Context, f billing.InvoiceFilter) (billing.Page[billing.Invoice], error) {
	p, err := page(f.PageRequest, func() (int64, error) {
		return s.q.InvoiceCount(ctx, dbsqlc.InvoiceCountParams{CustomerID: f.CustomerID, Status: f.Status,
			From: f.From, Until: f.Until})
	}, func(limit, offset int64) ([]billing.Invoice, error) {
		rows, err := s.q.InvoiceList(ctx, dbsqlc.InvoiceListParams{CustomerID: f.CustomerID, Status: f.Status,
			From: f.From, Until: f.Until, Limit: limit, Offset: offset})
		if err != nil {
			return nil, err
		}
		invs := fromRows(rows, invoiceFromRow)
		return invs, withCredits(ctx, s.q, invs)
	})
	return p, dbError(err, "invoice", "")
}
