package store

import (
	"context"
	"errors"
)

var errRolledBack = errors.New("rolled back on purpose")

// WatchLowBalanceRolledBack runs the low-balance watch of every currency of
// the customer in a transaction that is then rolled back: what one balance
// change adds, without the commit.
func (s *Store) WatchLowBalanceRolledBack(ctx context.Context, customerID int64) error {
	err := s.inTxStore(ctx, func(tx *Store) error {
		if err := tx.watchLowBalance(ctx, customerID, ""); err != nil {
			return err
		}
		return errRolledBack
	})
	if errors.Is(err, errRolledBack) {
		return nil
	}
	return err
}

// ExecForTest runs sql in the transaction s is bound to (or on the pool),
// for tests that write rows the store has no method for yet beside a
// store call in one transaction.
func (s *Store) ExecForTest(ctx context.Context, sql string, args ...any) (int64, error) {
	var id int64
	err := s.db.QueryRow(ctx, sql, args...).Scan(&id)
	return id, err
}
