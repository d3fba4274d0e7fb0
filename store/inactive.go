package store

import (
	"context"
	"time"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

func inactiveFromRow(r dbsqlc.InactiveCustomersRow) billing.InactiveCustomer {
	c := billing.InactiveCustomer{ID: r.ID, LastActivity: r.LastActivity}
	if r.DeletionWarnedAt != nil && !r.DeletionWarnedAt.Before(r.LastActivity) {
		c.WarnedAt = r.DeletionWarnedAt // a warning before the last activity no longer counts
	}
	return c
}

// InactiveCustomers lists up to limit customers deletable for inactivity
// (see billing.InactiveCustomer) whose last activity is before since, the
// longest inactive first.
func (s *Store) InactiveCustomers(ctx context.Context, since time.Time, limit int) ([]billing.InactiveCustomer, error) {
	rows, err := s.q.InactiveCustomers(ctx, dbsqlc.InactiveCustomersParams{Since: since, MaxRows: int32(limit)})
	if err != nil {
		return nil, dbError(err, "customer", "")
	}
	return fromRows(rows, inactiveFromRow), nil
}

// WarnDeletion records that customer id was warned, at warnedAt, of its
// deletion for the inactivity since lastActivity, unless it was already,
// and returns the recorded time.
func (s *Store) WarnDeletion(ctx context.Context, id int64, lastActivity, warnedAt time.Time) (time.Time, error) {
	at, err := s.q.CustomerWarnDeletion(ctx, dbsqlc.CustomerWarnDeletionParams{ID: id, LastActivity: lastActivity, WarnedAt: warnedAt})
	return at, dbError(err, "customer", id)
}

// DeletionWarningSent returns when the deletion warning whose notification
// keys start with keyPrefix was sent to customer id, or nil if it was not
// (yet).
func (s *Store) DeletionWarningSent(ctx context.Context, id int64, keyPrefix string) (*time.Time, error) {
	at, err := s.q.DeletionWarningSent(ctx, dbsqlc.DeletionWarningSentParams{CustomerID: &id, KeyPrefix: keyPrefix})
	if err != nil || len(at) == 0 {
		return nil, dbError(err, "notice", "")
	}
	return &at[0], nil
}

// DeleteInactiveCustomer marks customer id deleted if, under its lock (which
// payments and ledger writers take too), it is still deletable, inactive
// since before since, and was warned after that activity and no later than
// warnedBy. It reports whether it deleted it now; a customer deleted before
// is returned as it is.
func (s *Store) DeleteInactiveCustomer(ctx context.Context, id int64, since, warnedBy time.Time) (billing.Customer, bool, error) {
	var out billing.Customer
	var deleted bool
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		row, err := q.CustomerGetForUpdate(ctx, id)
		if err != nil {
			return err
		}
		if out = customerFromRow(dbsqlc.CustomerGetRow(row)); out.Status == billing.CustomerDeleted {
			return nil
		}
		rows, err := q.InactiveCustomers(ctx, dbsqlc.InactiveCustomersParams{Since: since, CustomerID: &id, MaxRows: 1})
		if err != nil || len(rows) == 0 {
			return err
		}
		if c := inactiveFromRow(rows[0]); c.WarnedAt == nil || c.WarnedAt.After(warnedBy) {
			return nil
		}
		marked, err := q.CustomerMarkDeleted(ctx, id)
		out, deleted = customerFromRow(dbsqlc.CustomerGetRow(marked)), err == nil
		return err
	})
	return out, deleted, dbError(err, "customer", id)
}
