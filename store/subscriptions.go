package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tempobill/billing"
)

const subscriptionColumns = `id, customer_id, product_id, status, paid_until, anchor_day, auto_renew, suspend_reason, created_at, updated_at`

func scanSubscription(row pgx.Row) (billing.Subscription, error) {
	var s billing.Subscription
	err := row.Scan(&s.ID, &s.CustomerID, &s.ProductID, &s.Status, &s.PaidUntil, &s.AnchorDay, &s.AutoRenew,
		&s.SuspendReason, &s.CreatedAt, &s.UpdatedAt)
	s.WorkflowID = billing.SubscriptionWorkflowID(s.ID)
	return s, err
}

// Order is what CreateSubscription stored: the subscription and the product
// ordered (without its notice settings). Created is false when the
// idempotency key found an earlier order of the customer.
type Order struct {
	Subscription billing.Subscription
	Product      billing.Product
	Created      bool
}

// CreateSubscription stores an order of an active product for an active
// customer; automatic renewal defaults to the product's setting. With an
// idempotency key that the customer already used, it returns that order.
// A customer with maxUnpaid unpaid orders (0: no limit) can't order more
// (ECONFLICT); the count is taken under the customer's row lock.
func (s *Store) CreateSubscription(ctx context.Context, in billing.SubscriptionCreate, idempotencyKey string, maxUnpaid int) (Order, error) {
	var o Order
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := activeCustomer(ctx, tx, in.CustomerID); err != nil {
			return err
		}
		var err error
		o.Product, err = scanProduct(tx.QueryRow(ctx, `SELECT `+productColumns+` FROM products WHERE id = $1`, in.ProductID))
		if err != nil {
			return dbError(err, "product", in.ProductID)
		}
		if idempotencyKey != "" {
			prior, err := scanSubscription(tx.QueryRow(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions
				WHERE customer_id = $1 AND idempotency_key = $2`, in.CustomerID, idempotencyKey))
			if err == nil {
				if prior.ProductID != in.ProductID {
					return billing.Errorf(billing.ECONFLICT, "Idempotency-Key %q was already used for an order of product %d", idempotencyKey, prior.ProductID)
				}
				o.Subscription = prior
				return nil
			}
			if err != pgx.ErrNoRows {
				return err
			}
		}
		if o.Product.Status != billing.ProductActive {
			return billing.Errorf(billing.ECONFLICT, "product %d is archived and can't be ordered", in.ProductID)
		}
		if maxUnpaid > 0 {
			var unpaid int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM subscriptions WHERE customer_id = $1 AND status = 'unpaid' AND awaiting_payment`,
				in.CustomerID).Scan(&unpaid); err != nil {
				return err
			}
			if unpaid >= maxUnpaid {
				return billing.Errorf(billing.ECONFLICT, "customer %d has %d unpaid orders, the most allowed at once; pay or cancel one first",
					in.CustomerID, unpaid)
			}
		}
		autoRenew := o.Product.AutoRenew
		if in.AutoRenew != nil {
			autoRenew = *in.AutoRenew
		}
		var key any
		if idempotencyKey != "" {
			key = idempotencyKey
		}
		o.Subscription, err = scanSubscription(tx.QueryRow(ctx, `INSERT INTO subscriptions (customer_id, product_id,
			auto_renew, idempotency_key) VALUES ($1, $2, $3, $4) RETURNING `+subscriptionColumns,
			in.CustomerID, in.ProductID, autoRenew, key))
		o.Created = err == nil
		auditObject(ctx, "subscription", o.Subscription.ID, in.CustomerID)
		return err
	})
	return o, dbError(err, "subscription", "")
}

// Subscription returns a subscription.
func (s *Store) Subscription(ctx context.Context, id int64) (billing.Subscription, error) {
	sub, err := scanSubscription(s.pool.QueryRow(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions WHERE id = $1`, id))
	return sub, dbError(err, "subscription", id)
}

// Subscriptions lists the subscriptions that match f, newest first.
func (s *Store) Subscriptions(ctx context.Context, f billing.SubscriptionFilter) (billing.Page[billing.Subscription], error) {
	page := billing.Page[billing.Subscription]{Items: []billing.Subscription{}}
	page.Limit, page.Offset = clampPage(f.Limit, f.Offset)
	cond := `WHERE ($1::bigint IS NULL OR customer_id = $1) AND ($2::bigint IS NULL OR product_id = $2) AND ($3 = '' OR status = $3)`
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM subscriptions `+cond, f.CustomerID, f.ProductID, f.Status).Scan(&page.Total); err != nil {
		return page, dbError(err, "subscription", "")
	}
	rows, err := s.pool.Query(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions `+cond+`
		ORDER BY id DESC LIMIT $4 OFFSET $5`, f.CustomerID, f.ProductID, f.Status, page.Limit, page.Offset)
	if err != nil {
		return page, dbError(err, "subscription", "")
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (billing.Subscription, error) { return scanSubscription(r) })
	if items != nil {
		page.Items = items
	}
	return page, dbError(err, "subscription", "")
}

// LiveSubscriptionIDs returns the customer's subscriptions whose workflows
// are still running: those a payment may concern.
func (s *Store) LiveSubscriptionIDs(ctx context.Context, customerID int64) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM subscriptions WHERE customer_id = $1
		AND status IN ('unpaid', 'active', 'suspended') ORDER BY id`, customerID)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, pgx.RowTo[int64])
}

// PeriodCharge is the charge of one period of a subscription and the
// paid-until date it buys.
type PeriodCharge struct {
	SubscriptionID int64
	ProductID      int64
	PaidUntil      time.Time
	AnchorDay      int // 0: not a monthly service
	Charge         billing.Charge
}

func nullDay(d int) any {
	if d == 0 {
		return nil
	}
	return d
}

// ChargePeriod charges a period and marks the subscription active and paid
// until the new date, in one transaction: both happen once, or neither.
func (s *Store) ChargePeriod(ctx context.Context, pc PeriodCharge) (billing.LedgerEntry, error) {
	var out billing.LedgerEntry
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if out, err = charge(ctx, tx, pc.Charge); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `UPDATE subscriptions SET status = 'active', suspend_reason = '',
			paid_until = greatest(paid_until, $2), product_id = $3, anchor_day = $4,
			workflow_started_at = coalesce(workflow_started_at, now()),
			updated_at = now() WHERE id = $1`,
			pc.SubscriptionID, pc.PaidUntil, pc.ProductID, nullDay(pc.AnchorDay))
		if err == nil && tag.RowsAffected() == 0 {
			return billing.NotFound("subscription", pc.SubscriptionID) // rolls the charge back
		}
		return err
	})
	return out, dbError(err, "charge", pc.Charge.IdempotencyKey)
}

// SetSubscriptionState mirrors a workflow's state into the subscription's
// row. anchorDay is written only if anchorKnown (0: none, the plan is not
// monthly); a workflow from before anchors leaves the row's.
func (s *Store) SetSubscriptionState(ctx context.Context, id int64, status, reason string, paidUntil *time.Time, autoRenew bool,
	anchorDay int, anchorKnown bool) error {
	return dbError(s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE subscriptions SET status = $2, suspend_reason = $3,
			paid_until = coalesce($4, paid_until), auto_renew = $5,
			anchor_day = CASE WHEN $7 THEN $6 ELSE anchor_day END, updated_at = now(),
			workflow_started_at = coalesce(workflow_started_at, now()) WHERE id = $1`,
			id, status, reason, paidUntil, autoRenew, nullDay(anchorDay), anchorKnown)
		if err == nil && tag.RowsAffected() == 0 {
			return billing.NotFound("subscription", id)
		}
		return err
	}), "subscription", id)
}

// DeleteUnstartedSubscription removes the row of an order whose workflow
// could not be started, so a failed request leaves nothing behind.
func (s *Store) DeleteUnstartedSubscription(ctx context.Context, id int64) error {
	_, err := s.pool.Exec(ctx, `DELETE FROM subscriptions WHERE id = $1 AND status = 'unpaid'
		AND workflow_started_at IS NULL AND NOT EXISTS (SELECT 1 FROM notices WHERE subscription_id = $1)`, id)
	return dbError(err, "subscription", id)
}

// MarkAwaitingPayment records that an order's first charge was refused: it
// waits for a payment and counts towards the customer's unpaid orders. With
// max orders of the customer already waiting (0: no limit), it marks nothing
// and answers false: the order may not wait. Counted under the customer's
// row lock, so a burst of orders can't pass the limit.
func (s *Store) MarkAwaitingPayment(ctx context.Context, id, customerID int64, max int) (bool, error) {
	ok := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM customers WHERE id = $1 FOR UPDATE`, customerID); err != nil {
			return err
		}
		var waiting, already int
		if err := tx.QueryRow(ctx, `SELECT count(*) FILTER (WHERE id <> $2), count(*) FILTER (WHERE id = $2)
			FROM subscriptions WHERE customer_id = $1 AND status = 'unpaid' AND awaiting_payment`, customerID, id).Scan(&waiting, &already); err != nil {
			return err
		}
		if already > 0 || max <= 0 || waiting < max {
			ok = true
			_, err := tx.Exec(ctx, `UPDATE subscriptions SET awaiting_payment = true,
				workflow_started_at = coalesce(workflow_started_at, now()) WHERE id = $1 AND status = 'unpaid'`, id)
			return err
		}
		return nil
	})
	return ok, dbError(err, "subscription", id)
}

// MarkWorkflowStarted records that the subscription's workflow is running.
func (s *Store) MarkWorkflowStarted(ctx context.Context, id int64) error {
	_, err := s.pool.Exec(ctx, `UPDATE subscriptions SET workflow_started_at = coalesce(workflow_started_at, now()) WHERE id = $1`, id)
	return dbError(err, "subscription", id)
}

// UnstartedSubscriptions lists orders older than age whose workflow was
// never known to start.
func (s *Store) UnstartedSubscriptions(ctx context.Context, age time.Duration) ([]billing.Subscription, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions
		WHERE workflow_started_at IS NULL AND created_at < now() - make_interval(secs => $1) ORDER BY id LIMIT 500`, age.Seconds())
	if err != nil {
		return nil, dbError(err, "subscription", "")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (billing.Subscription, error) { return scanSubscription(r) })
	return out, dbError(err, "subscription", "")
}

// SubscriptionPlan reads, in one query, what a subscription is billed by:
// its product (or productID, when not 0) without its notice settings, and
// its customer's time zone and post-paid flag.
func (s *Store) SubscriptionPlan(ctx context.Context, subscriptionID, productID int64) (p billing.Product, timeZone string, postPaid bool, err error) {
	err = s.pool.QueryRow(ctx, `SELECT p.id, p.name, p.price, p.currency, p.period_unit, p.period_count,
			p.auto_renew, p.incoming_days, p.grace_days, p.steps, p.webhook_url, c.time_zone, c.post_paid
		FROM subscriptions s
		JOIN products p ON p.id = coalesce(nullif($2::bigint, 0), s.product_id)
		JOIN customers c ON c.id = s.customer_id
		WHERE s.id = $1`, subscriptionID, productID).Scan(&p.ID, &p.Name, &p.Price, &p.Currency, &p.PeriodUnit,
		&p.PeriodCount, &p.AutoRenew, &p.IncomingDays, &p.GraceDays, &p.Steps, &p.WebhookURL, &timeZone, &postPaid)
	return p, timeZone, postPaid, dbError(err, "subscription", subscriptionID)
}
