package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/tempobill/billing"
)

const paymentColumns = `id, customer_id, method, amount, currency, status, description,
	external_id, created_at, paid_at, cancelled_at`

func scanPayment(row pgx.Row) (billing.Payment, error) {
	var p billing.Payment
	err := row.Scan(&p.ID, &p.CustomerID, &p.Method, &p.Amount, &p.Currency, &p.Status,
		&p.Description, &p.ExternalID, &p.CreatedAt, &p.PaidAt, &p.CancelledAt)
	return p, err
}

// CreatePayment records a new, unpaid payment of an active customer.
func (s *Store) CreatePayment(ctx context.Context, in billing.PaymentCreate) (billing.Payment, error) {
	var p billing.Payment
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := activeCustomer(ctx, tx, in.CustomerID); err != nil {
			return err
		}
		var err error
		p, err = scanPayment(tx.QueryRow(ctx, `INSERT INTO payments (customer_id, method, amount,
			currency, description, external_id) VALUES ($1, $2, $3, $4, $5, $6)
			RETURNING `+paymentColumns, in.CustomerID, in.Method, in.Amount, in.Currency,
			in.Description, in.ExternalID))
		auditObject(ctx, "payment", p.ID, in.CustomerID)
		return err
	})
	return p, dbError(err, "payment", "")
}

// Payment returns a payment.
func (s *Store) Payment(ctx context.Context, id int64) (billing.Payment, error) {
	p, err := scanPayment(s.pool.QueryRow(ctx, `SELECT `+paymentColumns+` FROM payments WHERE id = $1`, id))
	return p, dbError(err, "payment", id)
}

// Payments lists payments that match f, newest first.
func (s *Store) Payments(ctx context.Context, f billing.PaymentFilter) (billing.Page[billing.Payment], error) {
	page := billing.Page[billing.Payment]{Items: []billing.Payment{}}
	page.Limit, page.Offset = clampPage(f.Limit, f.Offset)
	cond := `WHERE ($1::bigint IS NULL OR customer_id = $1) AND ($2 = '' OR status = $2)`
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM payments `+cond, f.CustomerID, f.Status).Scan(&page.Total); err != nil {
		return page, dbError(err, "payment", "")
	}
	rows, err := s.pool.Query(ctx, `SELECT `+paymentColumns+` FROM payments `+cond+`
		ORDER BY id DESC LIMIT $3 OFFSET $4`, f.CustomerID, f.Status, page.Limit, page.Offset)
	if err != nil {
		return page, dbError(err, "payment", "")
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (billing.Payment, error) { return scanPayment(r) })
	if items != nil {
		page.Items = items
	}
	return page, dbError(err, "payment", "")
}

// MarkPaymentPaid marks a new payment paid and credits the customer's ledger,
// both in one transaction. Marking a paid payment again changes nothing and
// credits nothing; a cancelled payment can't be paid. A credit that would take
// the customer's balance above MaxBalance is refused (EINVALID) and the
// payment stays new.
func (s *Store) MarkPaymentPaid(ctx context.Context, id int64) (billing.Payment, error) {
	var p billing.Payment
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		p, err = scanPayment(tx.QueryRow(ctx, `SELECT `+paymentColumns+` FROM payments WHERE id = $1 FOR UPDATE`, id))
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
		if _, err := tx.Exec(ctx, `SELECT FROM customers WHERE id = $1 FOR UPDATE`, p.CustomerID); err != nil {
			return err
		}
		p, err = scanPayment(tx.QueryRow(ctx, `UPDATE payments SET status = 'paid', paid_at = now()
			WHERE id = $1 RETURNING `+paymentColumns, id))
		if err != nil {
			return err
		}
		auditObject(ctx, "payment", p.ID, p.CustomerID)
		_, err = appendEntry(ctx, tx, billing.LedgerEntry{CustomerID: p.CustomerID,
			Kind: billing.Credit, Amount: p.Amount, Currency: p.Currency, Reason: billing.ReasonPayment,
			Reference: fmt.Sprintf("payment %d", p.ID), IdempotencyKey: fmt.Sprintf("payment:%d", p.ID)})
		return err
	})
	return p, dbError(err, "payment", id)
}

// CancelPayment cancels a new payment. A paid payment can't be cancelled: a
// refund is a new ledger entry.
func (s *Store) CancelPayment(ctx context.Context, id int64) (billing.Payment, error) {
	var p billing.Payment
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		p, err = scanPayment(tx.QueryRow(ctx, `SELECT `+paymentColumns+` FROM payments WHERE id = $1 FOR UPDATE`, id))
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
		p, err = scanPayment(tx.QueryRow(ctx, `UPDATE payments SET status = 'cancelled',
			cancelled_at = now() WHERE id = $1 RETURNING `+paymentColumns, id))
		return err
	})
	return p, dbError(err, "payment", id)
}
