package store

import (
	"context"
	"math"

	"github.com/jackc/pgx/v5"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

func entryFromRow(r dbsqlc.LedgerEntry) billing.LedgerEntry {
	return billing.LedgerEntry{ID: r.ID, CustomerID: r.CustomerID, Kind: r.Kind, Amount: r.Amount, Currency: r.Currency,
		Reason: r.Reason, Reference: r.Reference, IdempotencyKey: r.IdempotencyKey, CreatedAt: r.CreatedAt}
}

// Balances are kept per customer and currency in customer_balances, in
// numeric as the ledger's sums they stand for (see ledger.sql), and converted
// to int64 here.

// lockedBalance returns the customer's balance in currency and locks its row,
// for a write in tx that holds the customer's row lock (which also serializes
// the first entry in a currency, whose row doesn't exist yet). It reads one
// row however long the ledger. Within the cap a balance always fits
// in int64; one written before the cap that doesn't saturates at the nearest
// int64 bound, which keeps every check of a write right: an entry that takes
// it back towards zero passes, one that takes it further is refused.
func lockedBalance(ctx context.Context, q *dbsqlc.Queries, customerID int64, currency string) (int64, error) {
	n, err := q.LedgerBalance(ctx, dbsqlc.LedgerBalanceParams{CustomerID: customerID, Currency: currency})
	if err == pgx.ErrNoRows {
		return 0, nil // no entry in the currency yet
	}
	if err != nil {
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
func appendEntry(ctx context.Context, q *dbsqlc.Queries, e billing.LedgerEntry) (billing.LedgerEntry, error) {
	prior, err := entryByKey(ctx, q, e)
	if err != pgx.ErrNoRows {
		return prior, err
	}
	return insertEntry(ctx, q, e, nil)
}

// insertEntry writes e, whose idempotency key the caller found unused. The
// caller holds the customer's row lock, so that the balance checked is the
// balance written to: e must keep the customer's balance in its currency
// within ±MaxBalance, then pass allow (if not nil), which sees that balance.
// A refusal writes nothing.
func insertEntry(ctx context.Context, q *dbsqlc.Queries, e billing.LedgerEntry, allow func(balance int64) error) (billing.LedgerEntry, error) {
	balance, err := lockedBalance(ctx, q, e.CustomerID, e.Currency)
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
	row, err := q.LedgerInsert(ctx, dbsqlc.LedgerInsertParams{CustomerID: e.CustomerID, Kind: e.Kind, Amount: e.Amount,
		Currency: e.Currency, Reason: e.Reason, Reference: e.Reference, IdempotencyKey: e.IdempotencyKey})
	if err == pgx.ErrNoRows { // the key was taken meanwhile, under another customer's lock
		return entryByKey(ctx, q, e)
	}
	return entryFromRow(row), err
}

// entryByKey returns the entry that holds e's idempotency key, pgx.ErrNoRows
// if none does, and a conflict if it holds a different entry.
func entryByKey(ctx context.Context, q *dbsqlc.Queries, e billing.LedgerEntry) (billing.LedgerEntry, error) {
	row, err := q.LedgerGetByKey(ctx, e.IdempotencyKey)
	out := entryFromRow(row)
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
	err := s.inTxStore(ctx, func(tx *Store) error {
		q := tx.q
		if err := activeCustomer(ctx, q, customerID); err != nil {
			return err
		}
		var err error
		out, err = appendEntry(ctx, q, billing.LedgerEntry{CustomerID: customerID, Kind: a.Kind,
			Amount: a.Amount, Currency: a.Currency, Reason: billing.ReasonAdjustment,
			Reference: a.Reference, IdempotencyKey: "adjustment:" + a.IdempotencyKey})
		auditObject(ctx, "ledger_entry", out.ID, customerID)
		if err != nil {
			return err
		}
		return tx.watchLowBalance(ctx, customerID, a.Currency)
	})
	return out, dbError(err, "ledger entry", "")
}

// Refund credits back the charge written under chargeKey, once: the refund
// is keyed by "refund:" and the charge's key. A charge that was never
// written refunds nothing (a zero entry and no error). A charge with an
// invoice gets back what its credit notes have not credited yet, and the
// refund issues the credit note of that rest in its transaction. What is
// left of the support incidents the charge bought is taken back with it
// (never below 0: those used on tickets stay used).
func (s *Store) Refund(ctx context.Context, customerID int64, chargeKey, reference string) (billing.LedgerEntry, error) {
	var out billing.LedgerEntry
	err := s.inTxStore(ctx, func(tx *Store) error {
		q := tx.q
		if err := q.CustomerLock(ctx, customerID); err != nil {
			return err
		}
		// The support incidents the charge bought go back with it, even
		// with a free period's, which wrote no debit.
		if err := takeBackPurchased(ctx, q, customerID, chargeKey); err != nil {
			return err
		}
		charged, err := q.LedgerGetDebit(ctx, dbsqlc.LedgerGetDebitParams{IdempotencyKey: chargeKey, CustomerID: customerID})
		if err == pgx.ErrNoRows {
			return nil
		}
		if err != nil {
			return err
		}
		if prior, err := q.LedgerGetByKey(ctx, "refund:"+chargeKey); err != pgx.ErrNoRows {
			out = entryFromRow(prior) // refunded before, with its credit note
			return err
		}
		amount, err := refundable(ctx, q, chargeKey, charged.Amount)
		if err != nil || amount <= 0 {
			return err // credit notes gave it all back already
		}
		out, err = appendEntry(ctx, q, billing.LedgerEntry{CustomerID: customerID, Kind: billing.Credit,
			Amount: amount, Currency: charged.Currency, Reason: billing.ReasonRefund,
			Reference: reference, IdempotencyKey: "refund:" + chargeKey})
		if err != nil {
			return err
		}
		if err := refundCreditNote(ctx, q, chargeKey, out); err != nil {
			return err
		}
		return tx.watchLowBalance(ctx, customerID, charged.Currency)
	})
	return out, dbError(err, "refund", chargeKey)
}

// Charged returns the debit written under key for the customer, and false
// if none was (a period discounted to nothing, or a free product, writes
// none).
func (s *Store) Charged(ctx context.Context, customerID int64, key string) (billing.LedgerEntry, bool, error) {
	row, err := s.q.LedgerGetDebit(ctx, dbsqlc.LedgerGetDebitParams{IdempotencyKey: key, CustomerID: customerID})
	if err == pgx.ErrNoRows {
		return billing.LedgerEntry{}, false, nil
	}
	return entryFromRow(row), err == nil, dbError(err, "charge", key)
}

// Balance returns a customer's balance per currency: the ledger's sum, kept
// in a row per currency.
// A balance beyond int64, which only a ledger written before the cap can
// hold, is a conflict that names the currency, not a failed cast.
func (s *Store) Balance(ctx context.Context, customerID int64) (billing.Balance, error) {
	b := billing.Balance{CustomerID: customerID, Balances: []billing.Money{}}
	if _, err := s.Customer(ctx, customerID); err != nil {
		return b, err
	}
	rows, err := s.q.LedgerBalances(ctx, customerID)
	if err != nil {
		return b, dbError(err, "balance", customerID)
	}
	for _, r := range rows {
		v, err := r.Balance.Int64Value()
		if err != nil {
			return billing.Balance{CustomerID: customerID, Balances: []billing.Money{}}, billing.Errorf(billing.ECONFLICT,
				"the %s balance of customer %d is beyond what an amount can hold (±%d minor units): "+
					"it was written before balances were capped at ±%s; bring it back within the cap with ledger adjustments",
				r.Currency, customerID, int64(math.MaxInt64), billing.Money{Amount: billing.MaxBalance, Currency: r.Currency})
		}
		b.Balances = append(b.Balances, billing.Money{Amount: v.Int64, Currency: r.Currency})
	}
	return b, nil
}

// Ledger lists a customer's entries, newest first.
func (s *Store) Ledger(ctx context.Context, customerID int64, limit, offset int) (billing.Page[billing.LedgerEntry], error) {
	if _, err := s.Customer(ctx, customerID); err != nil {
		p := billing.Page[billing.LedgerEntry]{Items: []billing.LedgerEntry{}}
		p.Limit, p.Offset = clampPage(limit, offset)
		return p, err
	}
	req := billing.PageRequest{Limit: limit, Offset: offset}
	p, err := page(req, func() (int64, error) { return s.q.LedgerCount(ctx, customerID) },
		func(limit, offset int64) ([]billing.LedgerEntry, error) {
			rows, err := s.q.LedgerList(ctx, dbsqlc.LedgerListParams{CustomerID: customerID, Limit: limit, Offset: offset})
			return fromRows(rows, entryFromRow), err
		})
	return p, dbError(err, "ledger", customerID)
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
	err := s.inTxStore(ctx, func(tx *Store) error {
		var err error
		if out, _, err = charge(ctx, tx.q, c); err != nil {
			return err
		}
		return tx.watchLowBalance(ctx, c.CustomerID, c.Currency)
	})
	return out, dbError(err, "charge", c.IdempotencyKey)
}

// charge writes c (see Charge) and reports whether it wrote it now: false
// for a replay or a free product.
func charge(ctx context.Context, q *dbsqlc.Queries, c billing.Charge) (billing.LedgerEntry, bool, error) {
	if c.Amount == 0 { // a free product or period: nothing to write
		// unless a first attempt, at a price since discounted, wrote it.
		row, err := q.LedgerGetByKey(ctx, c.IdempotencyKey)
		if err == pgx.ErrNoRows {
			return billing.LedgerEntry{}, false, nil
		}
		return entryFromRow(row), false, err
	}
	terms, err := q.CustomerChargeTermsForUpdate(ctx, c.CustomerID)
	if err != nil {
		return billing.LedgerEntry{}, false, dbError(err, "customer", c.CustomerID)
	}
	postPaid, status, creditLimit := terms.PostPaid, terms.Status, terms.CreditLimit
	// A replay returns the charge made, even if the price changed since: a
	// period is charged once, at the price of its first attempt.
	row, err := q.LedgerGetByKey(ctx, c.IdempotencyKey)
	prior := entryFromRow(row)
	if err != pgx.ErrNoRows {
		return prior, false, err
	}
	if status != billing.CustomerActive {
		return prior, false, billing.Errorf(billing.EDECLINED, "customer %d is %s", c.CustomerID, status)
	}
	money := func(a int64) billing.Money { return billing.Money{Amount: a, Currency: c.Currency} }
	out, err := insertEntry(ctx, q, billing.LedgerEntry{CustomerID: c.CustomerID, Kind: billing.Debit,
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
	// Under the customer's lock the key can only have been taken meanwhile
	// by another customer's entry, which insertEntry answers with a conflict.
	return out, err == nil, err
}
