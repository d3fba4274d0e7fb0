package store

import (
	"context"
	"time"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

// AnnouncePlan records price as what subscription id's period is announced
// at, for product productID, unless a price was announced for that period
// and product already, and returns the one that stands: the first reader's
// (the workflow at a notice, or the reminders schedule). A period before
// the one announced last is not announced: price is returned as it is.
func (s *Store) AnnouncePlan(ctx context.Context, id int64, period int, productID int64, price billing.Money) (billing.Money, error) {
	for range 2 {
		rows, err := s.q.AnnouncePlan(ctx, dbsqlc.AnnouncePlanParams{SubscriptionID: id, Period: period, ProductID: productID,
			Price: price.Amount, Currency: price.Currency})
		if err != nil {
			return billing.Money{}, dbError(err, "subscription", id)
		}
		if len(rows) > 0 {
			return billing.Money{Amount: rows[0].Price, Currency: rows[0].Currency}, nil
		}
		// Another transaction wrote the announcement after this statement's
		// snapshot was taken: read it with a fresh one.
	}
	m, err := s.AnnouncedPlan(ctx, id, period, productID)
	if err == nil && m.Currency == "" {
		return price, nil // a later period was announced: this one is past
	}
	return m, err
}

// AnnouncedPlan is the price subscription id's period was announced at for
// product productID; the zero Money if none was.
func (s *Store) AnnouncedPlan(ctx context.Context, id int64, period int, productID int64) (billing.Money, error) {
	rows, err := s.q.AnnouncedPlan(ctx, dbsqlc.AnnouncedPlanParams{SubscriptionID: id, Period: period, ProductID: productID})
	if err != nil || len(rows) == 0 {
		return billing.Money{}, dbError(err, "subscription", id)
	}
	return billing.Money{Amount: rows[0].Price, Currency: rows[0].Currency}, nil
}

// DueReminders is a subscription with reminders due: those its workflow
// published (Reminders, JSON) that fall after Through (nil: any).
type DueReminders struct {
	SubscriptionID int64
	CustomerID     int64
	Reminders      []byte
	Through        *time.Time
}

// RemindersDue lists at most max subscriptions with reminders due by now,
// the earliest first; only subscription id's unless it is 0; only those
// whose id is shard modulo shards (shards 0 or 1: all).
func (s *Store) RemindersDue(ctx context.Context, now time.Time, id int64, shard, shards, max int) ([]DueReminders, error) {
	rows, err := s.q.RemindersDue(ctx, dbsqlc.RemindersDueParams{Now: now, SubscriptionID: id, Shard: shard, Shards: shards, Max: int32(max)})
	return fromRows(rows, func(r dbsqlc.RemindersDueRow) DueReminders {
		return DueReminders{SubscriptionID: r.ID, CustomerID: r.CustomerID, Reminders: r.Reminders, Through: r.RemindedThrough}
	}), dbError(err, "subscriptions", nil)
}

// RemindersHandled records that every reminder of subscription id due by
// through was handled, if the subscription still publishes reminders (JSON,
// as RemindersDue read them): false if its workflow published others
// meanwhile, which the next batch looks at. It never moves back.
func (s *Store) RemindersHandled(ctx context.Context, id int64, through time.Time, reminders []byte) (bool, error) {
	n, err := s.q.RemindersHandled(ctx, dbsqlc.RemindersHandledParams{ID: id, Through: through, Reminders: reminders})
	return n > 0, dbError(err, "subscription", id)
}
