package store

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/tempobill/billing"
)

const ledgerColumns = `id, customer_id, kind, amount, currency, reason, reference, idempotency_key, created_at`

func scanEntry(row pgx.Row) (billing.LedgerEntry, error) {
	var e billing.LedgerEntry
	err := row.Scan(&e.ID, &e.CustomerID, &e.Kind, &e.Amount, &e.Currency, &e.Reason,
		&e.Reference, &e.IdempotencyKey, &e.CreatedAt)
	return e, err
}

// appendEntry writes e unless an entry with its idempotency key exists, and
// returns the entry that holds the key. A key reused for a different entry is
// a conflict, so a bug can't silently swallow a charge.
func appendEntry(ctx context.Context, q querier, e billing.LedgerEntry) (billing.LedgerEntry, bool, error) {
	out, err := scanEntry(q.QueryRow(ctx, `INSERT INTO ledger_entries (customer_id, kind, amount,
		currency, reason, reference, idempotency_key) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (idempotency_key) DO NOTHING RETURNING `+ledgerColumns,
		e.CustomerID, e.Kind, e.Amount, e.Currency, e.Reason, e.Reference, e.IdempotencyKey))
	if err == nil {
		return out, true, nil
	}
	if err != pgx.ErrNoRows {
		return out, false, err
	}
	out, err = scanEntry(q.QueryRow(ctx, `SELECT `+ledgerColumns+` FROM ledger_entries
		WHERE idempotency_key = $1`, e.IdempotencyKey))
	if err != nil {
		return out, false, err
	}
	if out.CustomerID != e.CustomerID || out.Kind != e.Kind || out.Amount != e.Amount || out.Currency != e.Currency {
		return out, false, billing.Errorf(billing.ECONFLICT, "idempotency key %q was already used for a different entry", e.IdempotencyKey)
	}
	return out, false, nil
}

// Adjust writes a manual ledger entry for a customer, once per idempotency key.
func (s *Store) Adjust(ctx context.Context, customerID int64, a billing.Adjustment) (billing.LedgerEntry, error) {
	var out billing.LedgerEntry
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := activeCustomer(ctx, tx, customerID); err != nil {
			return err
		}
		var err error
		out, _, err = appendEntry(ctx, tx, billing.LedgerEntry{CustomerID: customerID, Kind: a.Kind,
			Amount: a.Amount, Currency: a.Currency, Reason: billing.ReasonAdjustment,
			Reference: a.Reference, IdempotencyKey: "adjustment:" + a.IdempotencyKey})
		auditObject(ctx, "ledger_entry", out.ID, customerID)
		return err
	})
	return out, dbError(err, "ledger entry", "")
}

// Balance returns a customer's balance per currency, summed from the ledger.
func (s *Store) Balance(ctx context.Context, customerID int64) (billing.Balance, error) {
	b := billing.Balance{CustomerID: customerID, Balances: []billing.Money{}}
	if _, err := s.Customer(ctx, customerID); err != nil {
		return b, err
	}
	rows, err := s.pool.Query(ctx, `SELECT currency, sum(CASE kind WHEN 'credit' THEN amount ELSE -amount END)::bigint
		FROM ledger_entries WHERE customer_id = $1 GROUP BY currency ORDER BY currency`, customerID)
	if err != nil {
		return b, dbError(err, "balance", customerID)
	}
	b.Balances, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (billing.Money, error) {
		var m billing.Money
		err := r.Scan(&m.Currency, &m.Amount)
		return m, err
	})
	if b.Balances == nil {
		b.Balances = []billing.Money{}
	}
	return b, dbError(err, "balance", customerID)
}

// Ledger lists a customer's entries, newest first.
func (s *Store) Ledger(ctx context.Context, customerID int64, limit, offset int) (billing.Page[billing.LedgerEntry], error) {
	page := billing.Page[billing.LedgerEntry]{Items: []billing.LedgerEntry{}}
	page.Limit, page.Offset = clampPage(limit, offset)
	if _, err := s.Customer(ctx, customerID); err != nil {
		return page, err
	}
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM ledger_entries WHERE customer_id = $1`, customerID).Scan(&page.Total); err != nil {
		return page, dbError(err, "ledger", customerID)
	}
	rows, err := s.pool.Query(ctx, `SELECT `+ledgerColumns+` FROM ledger_entries WHERE customer_id = $1
		ORDER BY id DESC LIMIT $2 OFFSET $3`, customerID, page.Limit, page.Offset)
	if err != nil {
		return page, dbError(err, "ledger", customerID)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (billing.LedgerEntry, error) { return scanEntry(r) })
	if items != nil {
		page.Items = items
	}
	return page, dbError(err, "ledger", customerID)
}

// Charge debits c from the customer's balance in one transaction under the
// customer's row lock, so concurrent charges can't overdraw. A charge whose
// idempotency key was already written returns that entry and charges nothing.
// Unless the customer is post-paid, a balance below the amount refuses the
// charge with EINSUFFICIENT and writes nothing; a post-paid customer may go
// negative down to their credit limit (EDECLINED beyond it).
func (s *Store) Charge(ctx context.Context, c billing.Charge) (billing.LedgerEntry, error) {
	var out billing.LedgerEntry
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		out, err = charge(ctx, tx, c)
		return err
	})
	return out, dbError(err, "charge", c.IdempotencyKey)
}

func charge(ctx context.Context, tx pgx.Tx, c billing.Charge) (billing.LedgerEntry, error) {
	if c.Amount == 0 {
		return billing.LedgerEntry{}, nil // a free product: nothing to write
	}
	var postPaid bool
	var status string
	var creditLimit *int64
	if err := tx.QueryRow(ctx, `SELECT post_paid, status, credit_limit FROM customers WHERE id = $1 FOR UPDATE`,
		c.CustomerID).Scan(&postPaid, &status, &creditLimit); err != nil {
		return billing.LedgerEntry{}, dbError(err, "customer", c.CustomerID)
	}
	prior, err := scanEntry(tx.QueryRow(ctx, `SELECT `+ledgerColumns+` FROM ledger_entries WHERE idempotency_key = $1`, c.IdempotencyKey))
	if err == nil {
		return prior, nil
	}
	if err != pgx.ErrNoRows {
		return prior, err
	}
	if status != billing.CustomerActive {
		return prior, billing.Errorf(billing.EDECLINED, "customer %d is %s", c.CustomerID, status)
	}
	var balance int64
	if err := tx.QueryRow(ctx, `SELECT coalesce(sum(CASE kind WHEN 'credit' THEN amount ELSE -amount END), 0)::bigint
		FROM ledger_entries WHERE customer_id = $1 AND currency = $2`, c.CustomerID, c.Currency).Scan(&balance); err != nil {
		return prior, err
	}
	money := func(a int64) billing.Money { return billing.Money{Amount: a, Currency: c.Currency} }
	switch {
	case !postPaid && balance < c.Amount:
		return prior, billing.Errorf(billing.EINSUFFICIENT, "the balance of customer %d is %s, less than %s",
			c.CustomerID, money(balance), money(c.Amount))
	case postPaid && creditLimit != nil && balance-c.Amount < -*creditLimit:
		return prior, billing.Errorf(billing.EDECLINED, "charging %s would take customer %d beyond their credit limit of %s",
			money(c.Amount), c.CustomerID, money(*creditLimit))
	}
	out, _, err := appendEntry(ctx, tx, billing.LedgerEntry{CustomerID: c.CustomerID, Kind: billing.Debit,
		Amount: c.Amount, Currency: c.Currency, Reason: c.Reason, Reference: c.Reference,
		IdempotencyKey: c.IdempotencyKey})
	return out, err
}
