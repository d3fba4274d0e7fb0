package store

import (
	"context"
	"fmt"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

func paymentFromRow(r dbsqlc.Payment) billing.Payment {
	return billing.Payment{ID: r.ID, CustomerID: r.CustomerID, Method: r.Method, Amount: r.Amount, Currency: r.Currency,
		Status: r.Status, Description: r.Description, ExternalID: r.ExternalID, CreatedAt: r.CreatedAt,
		PaidAt: r.PaidAt, CancelledAt: r.CancelledAt}
}

// CreatePayment records a new, unpaid payment of an active customer.
func (s *Store) CreatePayment(ctx context.Context, in billing.PaymentCreate) (billing.Payment, error) {
	var p billing.Payment
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		if err := activeCustomer(ctx, q, in.CustomerID); err != nil {
			return err
		}
		row, err := q.PaymentInsert(ctx, dbsqlc.PaymentInsertParams{CustomerID: in.CustomerID, Method: in.Method,
			Amount: in.Amount, Currency: in.Currency, Description: in.Description, ExternalID: in.ExternalID})
		p = paymentFromRow(row)
		auditObject(ctx, "payment", p.ID, in.CustomerID)
		return err
	})
	return p, dbError(err, "payment", "")
}

// Payment returns a payment.
func (s *Store) Payment(ctx context.Context, id int64) (billing.Payment, error) {
	row, err := s.q.PaymentGet(ctx, id)
	return paymentFromRow(row), dbError(err, "payment", id)
}

// Payments lists payments that match f, newest first.
func (s *Store) Payments(ctx context.Context, f billing.PaymentFilter) (billing.Page[billing.Payment], error) {
	p, err := page(f.PageRequest, func() (int64, error) {
		return s.q.PaymentCount(ctx, dbsqlc.PaymentCountParams{CustomerID: f.CustomerID, Status: f.Status})
	}, func(limit, offset int64) ([]billing.Payment, error) {
		rows, err := s.q.PaymentList(ctx, dbsqlc.PaymentListParams{CustomerID: f.CustomerID, Status: f.Status,
			Limit: limit, Offset: offset})
		return fromRows(rows, paymentFromRow), err
	})
	return p, dbError(err, "payment", "")
}

// MarkPaymentPaid marks a new payment paid and credits the customer's ledger,
// both in one transaction. Marking a paid payment again changes nothing and
// credits nothing; a cancelled payment can't be paid. A credit that would take
// the customer's balance above MaxBalance is refused (EINVALID) and the
// payment stays new.
func (s *Store) MarkPaymentPaid(ctx context.Context, id int64) (billing.Payment, error) {
	var p billing.Payment
	err := s.inTxStore(ctx, func(tx *Store) error {
		q := tx.q
		row, err := q.PaymentGetForUpdate(ctx, id)
		p = paymentFromRow(row)
		if err != nil {
			return dbError(err, "payment", id)
		}
		switch p.Status {
		case billing.PaymentPaid:
			return nil
		case billing.PaymentCancelled:
			return billing.Errorf(billing.ECONFLICT, "payment %d is cancelled and can't be marked paid", id)
		}
		// The ledger's writers lock the customer (after the payment here), so
		// that the balance capped is the balance credited.
		if err := q.CustomerLock(ctx, p.CustomerID); err != nil {
			return err
		}
		row, err = q.PaymentMarkPaid(ctx, id)
		p = paymentFromRow(row)
		if err != nil {
			return err
		}
		auditObject(ctx, "payment", p.ID, p.CustomerID)
		_, err = appendEntry(ctx, q, billing.LedgerEntry{CustomerID: p.CustomerID,
			Kind: billing.Credit, Amount: p.Amount, Currency: p.Currency, Reason: billing.ReasonPayment,
			Reference: fmt.Sprintf("payment %d", p.ID), IdempotencyKey: fmt.Sprintf("payment:%d", p.ID)})
		if err != nil {
			return err
		}
		return tx.watchLowBalance(ctx, p.CustomerID, p.Currency)
	})
	return p, dbError(err, "payment", id)
}

// CancelPayment cancels a new payment. A paid payment can't be cancelled: a
// refund is a new ledger entry.
func (s *Store) CancelPayment(ctx context.Context, id int64) (billing.Payment, error) {
	var p billing.Payment
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		row, err := q.PaymentGetForUpdate(ctx, id)
		p = paymentFromRow(row)
		if err != nil {
			return dbError(err, "payment", id)
		}
		switch p.Status {
		case billing.PaymentCancelled:
			return nil
		case billing.PaymentPaid:
			return billing.Errorf(billing.ECONFLICT, "payment %d is paid and can't be cancelled; refund it with a ledger adjustment", id)
		}
		auditObject(ctx, "payment", p.ID, p.CustomerID)
		row, err = q.PaymentMarkCancelled(ctx, id)
		p = paymentFromRow(row)
		return err
	})
	return p, dbError(err, "payment", id)
}
