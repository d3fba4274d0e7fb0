package store_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/store"
)

// TestIngestWithThresholdAndCloseDoNotDeadlock: an ingest that crosses the
// threshold (and queues its notice, as the API does, in its transaction)
// while the period's overage is being charged: both complete. Before, the
// ingest held the period (FOR SHARE) and then needed the customer's row for
// the notice's foreign key, while the charge held the customer's row (FOR
// UPDATE) and waited for the period: PostgreSQL broke the deadlock by failing
// one of them (40P01). The order is forced: a third transaction holds the
// total's row until both wait.
func TestIngestWithThresholdAndCloseDoNotDeadlock(t *testing.T) {
	t.Parallel()
	pool := dbtest.OwnPool(t)
	b := bundle{ctx: t.Context(), store: store.New(pool)}
	c := b.newCustomer(t)
	_, sub := b.metered(t, c, 0)
	at := periodFrom.Add(time.Hour)
	_, err := b.store.IngestUsage(b.ctx, sub.ID, events(at, billing.UsageEvent{Resource: "minutes", Quantity: 50, IdempotencyKey: "m0"}), at, 90)
	require.NoError(t, err)

	waiting := func(n int) {
		t.Helper()
		require.Eventually(t, func() bool {
			var w int
			require.NoError(t, pool.QueryRow(b.ctx, `SELECT count(*) FROM pg_stat_activity
				WHERE datname = current_database() AND wait_event_type = 'Lock'`).Scan(&w))
			return w == n
		}, 10*time.Second, 10*time.Millisecond, "%d transactions waiting", n)
	}
	hold, err := pool.Begin(b.ctx)
	require.NoError(t, err)
	_, err = hold.Exec(b.ctx, `SELECT 1 FROM usage_totals WHERE subscription_id = $1 AND period = 1 AND resource = 'minutes' FOR UPDATE`, sub.ID)
	require.NoError(t, err)

	ingested := make(chan error, 1)
	go func() {
		ingested <- b.store.Tx(b.ctx, func(tx *store.Store) error {
			res, err := tx.IngestUsage(b.ctx, sub.ID, events(at, billing.UsageEvent{Resource: "minutes", Quantity: 45, IdempotencyKey: "m1"}), at, 90)
			if err != nil {
				return err
			}
			if len(res.Crossings) != 1 {
				return fmt.Errorf("crossings: %v", res.Crossings)
			}
			cust, err := tx.Customer(b.ctx, c.ID)
			if err != nil {
				return err
			}
			_, err = activities.QueueEvent(b.ctx, tx, activities.ThresholdNotice(cust, sub.ID, res.Crossings[0]), "en")
			return err
		})
	}()
	waiting(1) // the ingest, on the total's row, holding the period
	charged := make(chan error, 1)
	go func() {
		_, err := b.store.ChargeOverage(b.ctx, sub.ID, c.ID, 1)
		charged <- err
	}()
	waiting(2) // and the charge
	require.NoError(t, hold.Rollback(b.ctx))
	require.NoError(t, <-ingested, "the ingest")
	require.NoError(t, <-charged, "the charge")
	u, err := b.store.Usage(b.ctx, sub.ID, 1)
	require.NoError(t, err)
	require.True(t, u.Closed)
	require.EqualValues(t, 95, u.Resources[1].Used)
}
