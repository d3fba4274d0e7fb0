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
