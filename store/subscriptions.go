package store

import (
	"context"
	"encoding/json"
	"maps"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

func subscriptionFromRow(r dbsqlc.Subscription) billing.Subscription {
	sub := subscriptionFromColumns(r)
	sub.Parameters = parameterValues(r.Parameters)
	return sub
}

// parameterValues decodes a subscription's parameters column.
func parameterValues(raw []byte) map[string]string {
	out := map[string]string{}
	_ = json.Unmarshal(raw, &out)
	return out
}

func subscriptionFromColumns(r dbsqlc.Subscription) billing.Subscription {
	return billing.Subscription{ID: r.ID, CustomerID: r.CustomerID, ProductID: r.ProductID, Status: r.Status,
		PaidUntil: r.PaidUntil, AnchorDay: r.AnchorDay, AutoRenew: r.AutoRenew, SuspendReason: r.SuspendReason, UpdatesUntil: r.UpdatesUntil,
		WorkflowID: billing.SubscriptionWorkflowID(r.ID), CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
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
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		// One round trip for the customer's lock, its status and the
		// product, one for the insert and its limit, one for the audit
		// entry: an order is the API's busiest write (issue 15).
		locked, err := q.SubscriptionOrderLock(ctx, dbsqlc.SubscriptionOrderLockParams{CustomerID: in.CustomerID, ProductID: in.ProductID})
		if err == pgx.ErrNoRows {
			if err := activeCustomer(ctx, q, in.CustomerID); err != nil {
				return err
			}
			return billing.NotFound("product", in.ProductID)
		}
		if err != nil {
			return err
		}
		if locked.CustomerStatus != billing.CustomerActive {
			return billing.Errorf(billing.ECONFLICT, "customer %d is deleted", in.CustomerID)
		}
		o.Product = productFromRow(locked.Product)
		var key *string
		if idempotencyKey != "" {
			key = &idempotencyKey
			row, err := q.SubscriptionGetByIdempotencyKey(ctx, dbsqlc.SubscriptionGetByIdempotencyKeyParams{
				CustomerID: in.CustomerID, IdempotencyKey: idempotencyKey})
			if err == nil {
				prior := subscriptionFromRow(row)
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
		if err := billing.CheckParameters(o.Product.OrderParameters, in.Parameters); err != nil {
			return err
		}
		autoRenew := o.Product.AutoRenew
		if in.AutoRenew != nil {
			autoRenew = *in.AutoRenew
		}
		row, err := q.SubscriptionInsertUnderLimit(ctx, dbsqlc.SubscriptionInsertUnderLimitParams{CustomerID: in.CustomerID,
			ProductID: in.ProductID, AutoRenew: autoRenew, IdempotencyKey: key, UpdatesMonths: updatesMonths(o.Product),
			Parameters: jsonOf(in.Parameters, "{}"), MaxUnpaid: max(maxUnpaid, 0)})
		if err == pgx.ErrNoRows {
			unpaid, err := q.SubscriptionCountAwaitingPayment(ctx, in.CustomerID)
			if err != nil {
				return err
			}
			return billing.Errorf(billing.ECONFLICT, "customer %d has %d unpaid orders, the most allowed at once; pay or cancel one first",
				in.CustomerID, unpaid)
		}
		o.Subscription = subscriptionFromRow(row)
		o.Created = err == nil
		auditObject(ctx, "subscription", o.Subscription.ID, in.CustomerID)
		return err
	})
	return o, dbError(err, "subscription", "")
}

// updatesMonths is how many months after the order a subscription of p
// receives updates: a license's UpdatesMonths, else none.
func updatesMonths(p billing.Product) int {
	if p.Kind != billing.KindLicense {
		return 0
	}
	return p.UpdatesMonths
}

// SetParameters adds values to a live subscription's order parameters (a
// value given again replaces the old one), checked against its product's,
// under the row's lock. It returns the names of every parameter now given,
// and of the required ones of its product (as it is now) still missing.
func (s *Store) SetParameters(ctx context.Context, id int64, values map[string]string) (given, missing []string, err error) {
	var names []string
	err = s.inTx(ctx, func(q *dbsqlc.Queries) error {
		row, err := q.SubscriptionLockParameters(ctx, id)
		if err != nil {
			return dbError(err, "subscription", id)
		}
		if row.Status == billing.SubscriptionCancelled || row.Status == billing.SubscriptionDeleted {
			return billing.Errorf(billing.ECONFLICT, "the subscription is %s", row.Status)
		}
		if err := billing.CheckParameters(orderParameters(row.OrderParameters), values); err != nil {
			return err
		}
		merged := parameterValues(row.Parameters)
		maps.Copy(merged, values)
		names = slices.Sorted(maps.Keys(merged))
		missing = []string{}
		for _, p := range billing.MissingParameters(orderParameters(row.OrderParameters), merged) {
			missing = append(missing, p.Name)
		}
		return q.SubscriptionSetParameters(ctx, dbsqlc.SubscriptionSetParametersParams{ID: id, Parameters: jsonOf(merged, "{}")})
	})
	if err != nil {
		return nil, nil, err
	}
	return names, missing, nil
}

// MissingParameters are the required order parameters of product productID
// that subscription id has not been given.
func (s *Store) MissingParameters(ctx context.Context, id, productID int64) ([]billing.OrderParameter, error) {
	row, err := s.q.SubscriptionParameters(ctx, dbsqlc.SubscriptionParametersParams{ID: id, ProductID: productID})
	if err != nil {
		return nil, dbError(err, "subscription", id)
	}
	return billing.MissingParameters(orderParameters(row.OrderParameters), parameterValues(row.Parameters)), nil
}

// SetUpdatesUntil sets a subscription's updates-until date (staff, for a license).
func (s *Store) SetUpdatesUntil(ctx context.Context, id int64, at time.Time) error {
	n, err := s.q.SubscriptionSetUpdatesUntil(ctx, dbsqlc.SubscriptionSetUpdatesUntilParams{ID: id, UpdatesUntil: &at})
	if err == nil && n == 0 {
		return billing.NotFound("subscription", id)
	}
	return dbError(err, "subscription", id)
}

// Subscription returns a subscription.
func (s *Store) Subscription(ctx context.Context, id int64) (billing.Subscription, error) {
	row, err := s.q.SubscriptionGet(ctx, id)
	return subscriptionFromRow(row), dbError(err, "subscription", id)
}

// SubscriptionSnapshot is a subscription with the live schedule (JSON) its
// workflow last published, nil if none yet, and the price now of the
// product of its next period (that schedule's next product, else its own).
type SubscriptionSnapshot struct {
	Subscription billing.Subscription
	Schedule     []byte
	NextPrice    billing.Money
	// NextAnnounced: NextPrice was announced for the next period
	// (AnnouncePlan), not read from the product now.
	NextAnnounced bool
}

// SubscriptionWithSchedule returns subscription id's snapshot, in one read:
// GET /subscriptions/{id} serves it without asking the workflow.
func (s *Store) SubscriptionWithSchedule(ctx context.Context, id int64) (SubscriptionSnapshot, error) {
	row, err := s.q.SubscriptionGetWithSchedule(ctx, id)
	if err != nil {
		return SubscriptionSnapshot{}, dbError(err, "subscription", id)
	}
	snap := SubscriptionSnapshot{Subscription: subscriptionFromRow(row.Subscription), Schedule: row.Subscription.Schedule}
	if row.NextCurrency != "" {
		snap.NextPrice = billing.Money{Amount: row.NextPrice, Currency: row.NextCurrency}
		snap.NextAnnounced = row.NextAnnounced
	}
	return snap, nil
}

// Subscriptions lists the subscriptions that match f, newest first.
func (s *Store) Subscriptions(ctx context.Context, f billing.SubscriptionFilter) (billing.Page[billing.Subscription], error) {
	p, err := page(f.PageRequest, func() (int64, error) {
		return s.q.SubscriptionCount(ctx, dbsqlc.SubscriptionCountParams{CustomerID: f.CustomerID,
			ProductID: f.ProductID, Status: f.Status})
	}, func(limit, offset int64) ([]billing.Subscription, error) {
		rows, err := s.q.SubscriptionList(ctx, dbsqlc.SubscriptionListParams{CustomerID: f.CustomerID,
			ProductID: f.ProductID, Status: f.Status, Limit: limit, Offset: offset})
		return fromRows(rows, subscriptionFromRow), err
	})
	return p, dbError(err, "subscription", "")
}

// LiveSubscriptionIDs returns the customer's subscriptions whose workflows
// are still running: those a payment may concern.
func (s *Store) LiveSubscriptionIDs(ctx context.Context, customerID int64) ([]int64, error) {
	ids, err := s.q.SubscriptionLiveIDs(ctx, customerID)
	if err == nil && ids == nil {
		ids = []int64{}
	}
	return ids, err
}

// PeriodCharge is the charge of one period of a subscription and the
// paid-until date it buys.
type PeriodCharge struct {
	SubscriptionID int64
	ProductID      int64
	PaidUntil      time.Time
	AnchorDay      int // 0: not a monthly service
	Charge         billing.Charge
	// PeriodFrom is when the period begins (its invoice line shows it).
	PeriodFrom time.Time
	// Period is the period's number: usage is counted in it from now on (0:
	// not recorded for usage).
	Period int
	// Lines, if set, are the invoice's lines instead of the product's (an
	// overage charge: a line per resource).
	Lines []billing.InvoiceLine
}

// nullDay is an anchor day for its column: NULL for 0, none.
func nullDay(d int) *int {
	if d == 0 {
		return nil
	}
	return &d
}

// ChargePeriod charges a period and marks the subscription active and paid
// until the new date, in one transaction: both happen once, or neither. With
// the setting auto_invoicing on, the charge's invoice is issued in the same
// transaction (see issueInvoice); a replay of the charge issues none. The
// customer's discount valid at pc.PeriodFrom (billing.BestDiscount) is taken
// off pc.Charge's amount (never below 0: a period discounted to nothing is
// free and writes no entry) and named in its reference. The support incidents
// the product includes are granted with the charge, once per charge key.
func (s *Store) ChargePeriod(ctx context.Context, pc PeriodCharge) (billing.LedgerEntry, error) {
	out, _, err := s.ChargePeriodWritten(ctx, pc)
	return out, err
}

// ChargePeriodWritten is ChargePeriod, and reports whether this call wrote
// the charge: false for a replay (the period was charged before) and for a
// period free or discounted to nothing, which writes no entry. Counted once
// the transaction commits, a charge is counted once however often it is
// retried.
func (s *Store) ChargePeriodWritten(ctx context.Context, pc PeriodCharge) (billing.LedgerEntry, bool, error) {
	var out billing.LedgerEntry
	var written bool
	err := s.inTxStore(ctx, func(tx *Store) error {
		q := tx.q
		// The discount valid at the period's start, chosen again by a retry:
		// the period's one charge is made at it (a replay finds that charge).
		c := pc.Charge
		disc, err := discountFor(ctx, q, c.CustomerID, pc.ProductID, c.Currency, pc.PeriodFrom, c.Amount)
		if err != nil {
			return err
		}
		if disc != nil {
			c.Amount -= disc.Off
			c.Reference += ", " + disc.Discount.Label()
		}
		var fresh bool
		if out, fresh, err = charge(ctx, q, c); err != nil {
			return err
		}
		written = fresh
		// The support incidents the product includes come with the charge,
		// before the subscription's row is locked (the customer's lock first).
		if err := grantPurchased(ctx, q, pc); err != nil {
			return err
		}
		if fresh {
			if err := issueInvoice(ctx, q, pc, out, disc); err != nil {
				return err
			}
		}
		n, err := q.SubscriptionMarkCharged(ctx, dbsqlc.SubscriptionMarkChargedParams{ID: pc.SubscriptionID,
			PaidUntil: pc.PaidUntil, ProductID: pc.ProductID, AnchorDay: nullDay(pc.AnchorDay)})
		if err == nil && n == 0 {
			return billing.NotFound("subscription", pc.SubscriptionID) // rolls the charge back
		}
		if err == nil && pc.Period > 0 {
			err = q.UsagePeriodInsert(ctx, dbsqlc.UsagePeriodInsertParams{SubscriptionID: pc.SubscriptionID, Period: pc.Period,
				ProductID: pc.ProductID, PeriodFrom: pc.PeriodFrom, PeriodUntil: pc.PaidUntil})
		}
		if err != nil {
			return err
		}
		return tx.watchLowBalance(ctx, pc.Charge.CustomerID, "") // the balance, and a daily service activated
	})
	return out, written && err == nil, dbError(err, "charge", pc.Charge.IdempotencyKey)
}

// SetSubscriptionState mirrors a workflow's state into the subscription's
// row. anchorDay is written only if anchorKnown (0: none, the plan is not
// monthly); a workflow from before anchors leaves the row's.
func (s *Store) SetSubscriptionState(ctx context.Context, id int64, status, reason string, paidUntil *time.Time, autoRenew bool,
	anchorDay int, anchorKnown bool) error {
	return dbError(s.inTxStore(ctx, func(tx *Store) error {
		q := tx.q
		// A daily service's state changes the days the balance lasts: the
		// customer's lock first, as the ledger's writers take it.
		var sub dbsqlc.LowBalanceSubscriptionRow
		if tx.lowBalance != nil {
			var err error
			if sub, err = q.LowBalanceSubscription(ctx, id); err == nil && sub.Daily {
				err = q.CustomerLock(ctx, sub.CustomerID)
			}
			if err != nil {
				return err
			}
		}
		n, err := q.SubscriptionSetState(ctx, dbsqlc.SubscriptionSetStateParams{ID: id, Status: status,
			SuspendReason: reason, PaidUntil: paidUntil, AutoRenew: autoRenew, AnchorDay: nullDay(anchorDay),
			AnchorKnown: anchorKnown})
		if err == nil && n == 0 {
			return billing.NotFound("subscription", id)
		}
		if err != nil || !sub.Daily {
			return err
		}
		return tx.watchLowBalance(ctx, sub.CustomerID, "")
	}), "subscription", id)
}

// DeleteUnstartedSubscription removes the row of an order whose workflow
// could not be started, so a failed request leaves nothing behind.
func (s *Store) DeleteUnstartedSubscription(ctx context.Context, id int64) error {
	return dbError(s.q.SubscriptionDeleteUnstarted(ctx, id), "subscription", id)
}

// MarkAwaitingPayment records that an order's first charge was refused: it
// waits for a payment and counts towards the customer's unpaid orders. With
// max orders of the customer already waiting (0: no limit), it marks nothing
// and answers false: the order may not wait. Counted under the customer's
// row lock, so a burst of orders can't pass the limit.
func (s *Store) MarkAwaitingPayment(ctx context.Context, id, customerID int64, max int) (bool, error) {
	ok := false
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		if err := q.CustomerLock(ctx, customerID); err != nil {
			return err
		}
		n, err := q.SubscriptionAwaitingPayment(ctx, dbsqlc.SubscriptionAwaitingPaymentParams{ID: id, CustomerID: customerID})
		if err != nil {
			return err
		}
		if n.Already > 0 || max <= 0 || n.Waiting < int64(max) {
			ok = true
			return q.SubscriptionMarkAwaitingPayment(ctx, id)
		}
		return nil
	})
	return ok, dbError(err, "subscription", id)
}

// MarkWorkflowStarted records that the subscription's workflow is running.
func (s *Store) MarkWorkflowStarted(ctx context.Context, id int64) error {
	return dbError(s.q.SubscriptionMarkWorkflowStarted(ctx, id), "subscription", id)
}

// UnstartedSubscriptions lists orders older than age whose workflow was
// never known to start.
func (s *Store) UnstartedSubscriptions(ctx context.Context, age time.Duration) ([]billing.Subscription, error) {
	rows, err := s.q.SubscriptionListUnstarted(ctx, age.Seconds())
	if err != nil {
		return nil, dbError(err, "subscription", "")
	}
	return fromRows(rows, subscriptionFromRow), nil
}

// SubscriptionPlan reads, in one query, what a subscription is billed by:
// its product (or productID, when not 0) without its notice settings, and
// its customer's time zone and post-paid flag.
func (s *Store) SubscriptionPlan(ctx context.Context, subscriptionID, productID int64) (p billing.Product, timeZone string, postPaid bool, err error) {
	r, err := s.q.SubscriptionPlan(ctx, dbsqlc.SubscriptionPlanParams{SubscriptionID: subscriptionID, ProductID: productID})
	p = billing.Product{ID: r.ID, Name: r.Name, Price: r.Price, Currency: r.Currency, PeriodUnit: r.PeriodUnit,
		PeriodCount: r.PeriodCount, AutoRenew: r.AutoRenew, IncomingDays: r.IncomingDays, GraceDays: r.GraceDays,
		Steps: r.Steps, WebhookURL: r.WebhookURL}
	return p, r.TimeZone, r.PostPaid, dbError(err, "subscription", subscriptionID)
}

// UnpaidOrder is an order waiting for its first charge: its subscription,
// product name and the product's price now.
type UnpaidOrder struct {
	SubscriptionID int64
	ProductName    string
	Price          billing.Money
}

// UnpaidOrders lists the customer's orders waiting for their first charge
// (status unpaid), oldest first.
func (s *Store) UnpaidOrders(ctx context.Context, customerID int64) ([]UnpaidOrder, error) {
	rows, err := s.q.SubscriptionUnpaidOrders(ctx, customerID)
	return fromRows(rows, func(r dbsqlc.SubscriptionUnpaidOrdersRow) UnpaidOrder {
		return UnpaidOrder{SubscriptionID: r.ID, ProductName: r.Name, Price: billing.Money{Amount: r.Price, Currency: r.Currency}}
	}), dbError(err, "subscriptions", customerID)
}

// SaveSubscriptionSchedule stores the live schedule (JSON) subscription id's
// workflow published, as version: a version not newer than the stored one
// changes nothing, so a retried save of an earlier step never undoes a later.
// reminders (JSON, nil for none) are the period's reminders the reminders
// schedule sends (activities.Reminder).
func (s *Store) SaveSubscriptionSchedule(ctx context.Context, id, version int64, schedule, reminders []byte) error {
	if reminders == nil {
		reminders = []byte("[]")
	}
	_, err := s.q.SubscriptionSaveSchedule(ctx, dbsqlc.SubscriptionSaveScheduleParams{ID: id, Version: version, Schedule: schedule, Reminders: reminders})
	return dbError(err, "subscription", id)
}

// SubscriptionSchedule returns the live schedule subscription id's workflow
// last published, and its version; nil if it has published none yet (a
// workflow from before schedules were published, until its next step).
func (s *Store) SubscriptionSchedule(ctx context.Context, id int64) ([]byte, int64, error) {
	r, err := s.q.SubscriptionSchedule(ctx, id)
	if err != nil {
		return nil, 0, dbError(err, "subscription", id)
	}
	return r.Schedule, r.ScheduleVersion, nil
}
