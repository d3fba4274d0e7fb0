package store

import (
	"context"
	"math"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/tempobill/billing"
)

const ledgerColumns = `id, customer_id, kind, amount, currency, reason, reference, idempotency_key, created_at`

func scanEntry(row pgx.Row) (billing.LedgerEntry, error) {
	var e billing.LedgerEntry
	err := row.Scan(&e.ID, &e.CustomerID, &e.Kind, &e.Amount, &e.Currency, &e.Reason,
		&e.Reference, &e.IdempotencyKey, &e.CreatedAt)
	return e, err
}

// balanceSum is a balance summed from the ledger: credits minus debits.
// PostgreSQL sums bigint into numeric, so the sum itself can't overflow; it
// is never cast to bigint in SQL but converted in Go, where a sum beyond
// int64 is an error we choose rather than a failed cast.
const balanceSum = `sum(CASE kind WHEN 'credit' THEN amount ELSE -amount END)`

// lockedBalance returns the customer's balance in currency, for a write in
// tx that holds the customer's row lock. Within the cap a balance always fits
// in int64; one written before the cap that doesn't saturates at the nearest
// int64 bound, which keeps every check of a write right: an entry that takes
// it back towards zero passes, one that takes it further is refused.
func lockedBalance(ctx context.Context, tx pgx.Tx, customerID int64, currency string) (int64, error) {
	var n pgtype.Numeric
	if err := tx.QueryRow(ctx, `SELECT coalesce(`+balanceSum+`, 0) FROM ledger_entries
		WHERE customer_id = $1 AND currency = $2`, customerID, currency).Scan(&n); err != nil {
		return 0, err
	}
	v, err := n.Int64Value()
	switch {
	case err == nil:
		return v.Int64, nil
	case n.Int != nil && n.Int.Sign() > 0:
		return math.MaxInt64, nil
	case n.Int != nil && n.Int.Sign() < 0:
		return math.MinInt64, nil
	}
	return 0, err
}

// appendEntry writes e unless an entry with its idempotency key exists, and
// returns the entry that holds the key. A key reused for a different entry is
// a conflict, so a bug can't silently swallow a charge. The caller holds the
// customer's row lock (see insertEntry); a replay of a written entry is never
// refused by the balance cap.
func appendEntry(ctx context.Context, tx pgx.Tx, e billing.LedgerEntry) (billing.LedgerEntry, error) {
	prior, err := entryByKey(ctx, tx, e)
	if err != pgx.ErrNoRows {
		return prior, err
	}
	return insertEntry(ctx, tx, e, nil)
}

// insertEntry writes e, whose idempotency key the caller found unused. The
// caller holds the customer's row lock, so that the balance checked is the
// balance written to: e must keep the customer's balance in its currency
// within ±MaxBalance, then pass allow (if not nil), which sees that balance.
// A refusal writes nothing.
func insertEntry(ctx context.Context, tx pgx.Tx, e billing.LedgerEntry, allow func(balance int64) error) (billing.LedgerEntry, error) {
	balance, err := lockedBalance(ctx, tx, e.CustomerID, e.Currency)
	if err != nil {
		return billing.LedgerEntry{}, err
	}
	if err := e.CheckBalanceCap(balance); err != nil {
		return billing.LedgerEntry{}, err
	}
	if allow != nil {
		if err := allow(balance); err != nil {
			return billing.LedgerEntry{}, err
		}
	}
	out, err := scanEntry(tx.QueryRow(ctx, `INSERT INTO ledger_entries (customer_id, kind, amount,
		currency, reason, reference, idempotency_key) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (idempotency_key) DO NOTHING RETURNING `+ledgerColumns,
		e.CustomerID, e.Kind, e.Amount, e.Currency, e.Reason, e.Reference, e.IdempotencyKey))
	if err == pgx.ErrNoRows { // the key was taken meanwhile, under another customer's lock
		return entryByKey(ctx, tx, e)
	}
	return out, err
}

// entryByKey returns the entry that holds e's idempotency key, pgx.ErrNoRows
// if none does, and a conflict if it holds a different entry.
func entryByKey(ctx context.Context, q querier, e billing.LedgerEntry) (billing.LedgerEntry, error) {
	out, err := scanEntry(q.QueryRow(ctx, `SELECT `+ledgerColumns+` FROM ledger_entries
		WHERE idempotency_key = $1`, e.IdempotencyKey))
	if err != nil {
		return out, err
	}
	if out.CustomerID != e.CustomerID || out.Kind != e.Kind || out.Amount != e.Amount || out.Currency != e.Currency {
		return out, billing.Errorf(billing.ECONFLICT, "idempotency key %q was already used for a different entry", e.IdempotencyKey)
	}
	return out, nil
}

// Adjust writes a manual ledger entry for a customer, once per idempotency
// key. An entry that would take the balance beyond ±MaxBalance is refused
// (EINVALID).
func (s *Store) Adjust(ctx context.Context, customerID int64, a billing.Adjustment) (billing.LedgerEntry, error) {
	var out billing.LedgerEntry
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := activeCustomer(ctx, tx, customerID); err != nil {
			return err
		}
		var err error
		out, err = appendEntry(ctx, tx, billing.LedgerEntry{CustomerID: customerID, Kind: a.Kind,
			Amount: a.Amount, Currency: a.Currency, Reason: billing.ReasonAdjustment,
			Reference: a.Reference, IdempotencyKey: "adjustment:" + a.IdempotencyKey})
		auditObject(ctx, "ledger_entry", out.ID, customerID)
		return err
	})
	return out, dbError(err, "ledger entry", "")
}

// Refund credits back the charge written under chargeKey, once: the refund
// is keyed by "refund:" and the charge's key. A charge that was never
// written refunds nothing (a zero entry and no error).
func (s *Store) Refund(ctx context.Context, customerID int64, chargeKey, reference string) (billing.LedgerEntry, error) {
	var out billing.LedgerEntry
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM customers WHERE id = $1 FOR UPDATE`, customerID); err != nil {
			return err
		}
		charged, err := scanEntry(tx.QueryRow(ctx, `SELECT `+ledgerColumns+` FROM ledger_entries
			WHERE idempotency_key = $1 AND customer_id = $2 AND kind = 'debit'`, chargeKey, customerID))
		if err == pgx.ErrNoRows {
			return nil
		}
		if err != nil {
			return err
		}
		out, err = appendEntry(ctx, tx, billing.LedgerEntry{CustomerID: customerID, Kind: billing.Credit,
			Amount: charged.Amount, Currency: charged.Currency, Reason: billing.ReasonRefund,
			Reference: reference, IdempotencyKey: "refund:" + chargeKey})
		return err
	})
	return out, dbError(err, "refund", chargeKey)
}

// Balance returns a customer's balance per currency, summed from the ledger.
// A balance beyond int64, which only a ledger written before the cap can
// hold, is a conflict that names the currency, not a failed cast.
func (s *Store) Balance(ctx context.Context, customerID int64) (billing.Balance, error) {
	b := billing.Balance{CustomerID: customerID, Balances: []billing.Money{}}
	if _, err := s.Customer(ctx, customerID); err != nil {
		return b, err
	}
	rows, err := s.pool.Query(ctx, `SELECT currency, `+balanceSum+`
		FROM ledger_entries WHERE customer_id = $1 GROUP BY currency ORDER BY currency`, customerID)
	if err != nil {
		return b, dbError(err, "balance", customerID)
	}
	b.Balances, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (billing.Money, error) {
		var m billing.Money
		var sum pgtype.Numeric
		if err := r.Scan(&m.Currency, &sum); err != nil {
			return m, err
		}
		v, err := sum.Int64Value()
		if err != nil {
			return m, billing.Errorf(billing.ECONFLICT, "the %s balance of customer %d is beyond what an amount can hold (±%d minor units): "+
				"it was written before balances were capped at ±%s; bring it back within the cap with ledger adjustments",
				m.Currency, customerID, int64(math.MaxInt64), billing.Money{Amount: billing.MaxBalance, Currency: m.Currency})
		}
		m.Amount = v.Int64
		return m, nil
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
// negative down to their credit limit (EDECLINED beyond it) and never below
// -MaxBalance (EINVALID).
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
	// A replay returns the charge made, even if the price changed since: a
	// period is charged once, at the price of its first attempt.
	prior, err := scanEntry(tx.QueryRow(ctx, `SELECT `+ledgerColumns+` FROM ledger_entries WHERE idempotency_key = $1`, c.IdempotencyKey))
	if err != pgx.ErrNoRows {
		return prior, err
	}
	if status != billing.CustomerActive {
		return prior, billing.Errorf(billing.EDECLINED, "customer %d is %s", c.CustomerID, status)
	}
	money := func(a int64) billing.Money { return billing.Money{Amount: a, Currency: c.Currency} }
	return insertEntry(ctx, tx, billing.LedgerEntry{CustomerID: c.CustomerID, Kind: billing.Debit,
		Amount: c.Amount, Currency: c.Currency, Reason: c.Reason, Reference: c.Reference,
		IdempotencyKey: c.IdempotencyKey}, func(balance int64) error {
		switch {
		case !postPaid && balance < c.Amount:
			return billing.Errorf(billing.EINSUFFICIENT, "the balance of customer %d is %s, less than %s",
				c.CustomerID, money(balance), money(c.Amount))
		case postPaid && creditLimit != nil && balance < c.Amount-*creditLimit:
			return billing.Errorf(billing.EDECLINED, "charging %s would take customer %d beyond their credit limit of %s",
				money(c.Amount), c.CustomerID, money(*creditLimit))
		}
		return nil
	})
}
