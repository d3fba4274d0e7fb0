package activities

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store"
	"github.com/tempobill/billing/zoneinfo"
)

// Plan is what a subscription is billed by: its product's price and
// settings and its customer's time zone.
type Plan struct {
	ProductID    int64
	ProductName  string
	Price        int64
	Currency     string
	PeriodUnit   string
	PeriodCount  int
	IncomingDays int
	AutoRenew    bool
	GraceDays    *int // nil: the policy's default
	TimeZone     string
	PostPaid     bool
	// HasSteps: the product has custom steps or a webhook (when read).
	HasSteps bool
}

// plan reads the price and settings of the subscription's product (or of
// productID) and its customer's time zone.
func (a *Activities) plan(ctx context.Context, subscriptionID, productID int64) (Plan, error) {
	p, tz, postPaid, err := a.Store.SubscriptionPlan(ctx, subscriptionID, productID)
	if err != nil {
		return Plan{}, err
	}
	return Plan{ProductID: p.ID, ProductName: p.Name, Price: p.Price, Currency: p.Currency,
		PeriodUnit: p.PeriodUnit, PeriodCount: p.PeriodCount, IncomingDays: p.IncomingDays,
		AutoRenew: p.AutoRenew, GraceDays: p.GraceDays, TimeZone: tz, PostPaid: postPaid,
		HasSteps: len(p.Steps) > 0 || p.WebhookURL != ""}, nil
}

// ChargePeriodInput charges period number Period of a subscription: one
// period of the product (ProductID, or the subscription's own when 0) at its
// current price, from the date From.
type ChargePeriodInput struct {
	SubscriptionID int64
	CustomerID     int64
	Period         int
	ProductID      int64
	From           time.Time
	// AnchorDay is the day of the month the service is billed on; 0 takes
	// From's day (the order, or the first charge after an extension).
	AnchorDay int
	// Announced, if set and for the same product, is the plan the period's
	// notices named: its price and currency are charged, not today's.
	Announced *Plan
	// MaxUnpaidOrders, for an order (period 1), bounds how many of the
	// customer's orders may wait for a payment (0: no limit).
	MaxUnpaidOrders int
	// ErrorCodes: a refusal's error type is the domain's code
	// (ErrInsufficientFunds, ErrChargeDeclined). Workflow code from before
	// leaves it false and gets the legacy types it knows, so a worker of the
	// old release deciding on a charge made by a new one (or the other way
	// round) during a rolling upgrade reads the refusal right.
	ErrorCodes bool
}

// ChargePeriodResult is the charge, the plan it was made at and the new
// paid-until date. A refusal, or a failure that retrying can't fix, is an
// application error of type ErrInsufficientFunds or ErrChargeDeclined whose
// details hold the Plan, if it could be read.
type ChargePeriodResult struct {
	EntryID   int64
	Plan      Plan
	PaidUntil time.Time
	// AnchorDay is the anchor the period was computed with (0 unless monthly).
	AnchorDay int
	// Policy is the policy of the stored global settings, read with the
	// charge: the period runs with it. Nil while none are stored: the
	// workflow keeps the policy it was started with.
	Policy *billing.Policy
	// MissingParameters, for an order (period 1), are the required order
	// parameters of the product that the subscription lacks: it is paid but
	// can't be activated yet.
	MissingParameters []billing.OrderParameter
	// Metered: the period counts usage (its product declares resources):
	// its overage is to be charged when it ends.
	Metered bool
}

// ChargePeriod charges one period at the product's current price and moves
// the subscription's paid-until date one period on from From, calendar-
// correct in the customer's time zone, in one transaction keyed by
// (subscription, period): a retry, a replay or a second caller never charges
// the period twice.
func (a *Activities) ChargePeriod(ctx context.Context, in ChargePeriodInput) (ChargePeriodResult, error) {
	defer heartbeat(ctx)()
	plan, err := a.plan(ctx, in.SubscriptionID, in.ProductID)
	if err != nil {
		return ChargePeriodResult{}, chargeError(err, nil, in.ErrorCodes)
	}
	if in.Announced != nil && in.Announced.ProductID == plan.ProductID {
		plan.Price, plan.Currency = in.Announced.Price, in.Announced.Currency
	} else if in.Announced == nil && in.Period > 1 {
		// The workflow read no plan for the period (its notices all fell
		// before the run began), but the reminders schedule may have
		// announced one: that price is charged.
		m, err := a.Store.AnnouncedPlan(ctx, in.SubscriptionID, in.Period, plan.ProductID)
		if err != nil {
			return ChargePeriodResult{}, chargeError(err, plan, in.ErrorCodes)
		}
		if m.Currency != "" {
			plan.Price, plan.Currency = m.Amount, m.Currency
		}
	}
	// The period runs with the settings of the moment it is charged.
	settings, stored, err := a.Store.StoredSettings(ctx)
	if err != nil {
		return ChargePeriodResult{}, chargeError(err, plan, in.ErrorCodes)
	}
	var policy *billing.Policy
	if stored {
		p := settings.Policy()
		policy = &p
	}
	loc := zoneinfo.Load(plan.TimeZone) // the zones the workflow computes with
	from, anchor := in.From.In(loc), 0
	if plan.PeriodUnit == billing.PeriodMonth {
		anchor = cmp.Or(in.AnchorDay, from.Day())
	}
	until := billing.AddPeriodsAnchored(from, plan.PeriodUnit, plan.PeriodCount, anchor).UTC()
	var e billing.LedgerEntry
	var written bool
	// The invoice the charge issues and its notice land with it or not at all.
	err = a.Store.Tx(ctx, func(st *store.Store) error {
		var err error
		e, written, err = st.ChargePeriodWritten(ctx, store.PeriodCharge{
			SubscriptionID: in.SubscriptionID, ProductID: plan.ProductID, PaidUntil: until, AnchorDay: anchor,
			PeriodFrom: from, Period: in.Period,
			Charge: billing.Charge{CustomerID: in.CustomerID, Amount: plan.Price, Currency: plan.Currency,
				Reason:         billing.ReasonCharge,
				Reference:      fmt.Sprintf("subscription %d, period %d: %s", in.SubscriptionID, in.Period, plan.ProductName),
				IdempotencyKey: PeriodChargeKey(in.SubscriptionID, in.Period)},
		})
		if err != nil {
			return err
		}
		return a.invoiceIssued(ctx, st, PeriodChargeKey(in.SubscriptionID, in.Period))
	})
	// Counted once committed, and only by the attempt that wrote it: an
	// attempt retried after the commit finds the charge and counts nothing.
	a.Metrics.Charge(written, err)
	if err != nil {
		if code := billing.ErrorCode(err); in.Period == 1 && (code == billing.EINSUFFICIENT || code == billing.EDECLINED || code == billing.EINVALID) {
			// An order that can't be paid now waits for a payment: it counts
			// towards the customer's unpaid orders from now on, if there is room.
			ok, merr := a.Store.MarkAwaitingPayment(ctx, in.SubscriptionID, in.CustomerID, in.MaxUnpaidOrders)
			if merr != nil {
				return ChargePeriodResult{}, merr
			}
			if !ok {
				return ChargePeriodResult{}, temporal.NewNonRetryableApplicationError(fmt.Sprintf(
					"the customer already has %d orders waiting for a payment", in.MaxUnpaidOrders), ErrTooManyUnpaid, err, plan)
			}
		}
		return ChargePeriodResult{}, chargeError(err, plan, in.ErrorCodes)
	}
	metered, err := a.Store.UsagePeriodMetered(ctx, in.SubscriptionID, in.Period)
	if err != nil {
		return ChargePeriodResult{}, err // retried: the charge is written, a retry finds it
	}
	res := ChargePeriodResult{EntryID: e.ID, Plan: plan, PaidUntil: until, AnchorDay: anchor, Policy: policy, Metered: metered}
	if in.Period == 1 {
		// Read after the charge: parameters stored before it are seen here.
		if res.MissingParameters, err = a.Store.MissingParameters(ctx, in.SubscriptionID, plan.ProductID); err != nil {
			return ChargePeriodResult{}, nonRetryableIfPermanent(err)
		}
	}
	return res, nil
}

// RefundPeriodInput refunds the charge of period Period of a subscription.
type RefundPeriodInput struct {
	SubscriptionID int64
	CustomerID     int64
	Period         int
}

// RefundPeriodResult is the refund's ledger entry (0 if nothing was charged).
type RefundPeriodResult struct {
	EntryID int64
	Amount  int64
}

// RefundPeriod credits back what the period was charged, once (keyed by the
// charge's key): an order cancelled while its payment was being taken.
func (a *Activities) RefundPeriod(ctx context.Context, in RefundPeriodInput) (RefundPeriodResult, error) {
	defer heartbeat(ctx)()
	var e billing.LedgerEntry
	key := PeriodChargeKey(in.SubscriptionID, in.Period)
	// The credit note of the charge's invoice and its notice land with the refund.
	err := a.Store.Tx(ctx, func(st *store.Store) error {
		var err error
		e, err = st.Refund(ctx, in.CustomerID, key,
			fmt.Sprintf("subscription %d, period %d: refund, cancelled before it began", in.SubscriptionID, in.Period))
		if err != nil || e.ID == 0 {
			return err
		}
		cn, err := st.CreditNoteByRefund(ctx, key)
		if billing.ErrorCode(err) == billing.ENOTFOUND {
			return nil // the charge has no invoice
		}
		if err != nil {
			return err
		}
		return QueueCreditNoteIssued(ctx, st, cn, a.DefaultLanguage)
	})
	if err != nil {
		return RefundPeriodResult{}, nonRetryableIfPermanent(err)
	}
	return RefundPeriodResult{EntryID: e.ID, Amount: e.Amount}, nil
}

// ReadPlanInput names a subscription and, if not 0, the product it moves to.
type ReadPlanInput struct {
	SubscriptionID int64
	ProductID      int64
	// Period, if set, is the number of the period the plan is read for: its
	// price is announced (store.AnnouncePlan), and one announced before, by
	// the reminders schedule, stands.
	Period int
}

// ReadPlan reads the plan a subscription's next period will be charged at.
// Its errors stay retryable: the workflow can't go on without the answer.
func (a *Activities) ReadPlan(ctx context.Context, in ReadPlanInput) (Plan, error) {
	defer heartbeat(ctx)()
	p, err := a.plan(ctx, in.SubscriptionID, in.ProductID)
	if err != nil || in.Period == 0 {
		return p, err
	}
	return a.announce(ctx, in.SubscriptionID, in.Period, p)
}

// announce makes p's price the one period is announced at, unless another
// was announced for that period and product before: then p gets that one.
func (a *Activities) announce(ctx context.Context, subscriptionID int64, period int, p Plan) (Plan, error) {
	m, err := a.Store.AnnouncePlan(ctx, subscriptionID, period, p.ProductID, billing.Money{Amount: p.Price, Currency: p.Currency})
	if err != nil {
		return Plan{}, err
	}
	p.Price, p.Currency = m.Amount, m.Currency
	return p, nil
}

// ErrTooManyUnpaid is the type of a refused order's error when the customer
// already has the most orders waiting for a payment: it may not wait.
const ErrTooManyUnpaid = "TooManyUnpaidOrders"

// PeriodChargeKey is the idempotency key of a subscription's charge for a period.
func PeriodChargeKey(subscriptionID int64, period int) string {
	return fmt.Sprintf("subscription:%d:period:%d", subscriptionID, period)
}

// SetStatusInput mirrors the workflow's state into the subscription's row.
type SetStatusInput struct {
	SubscriptionID int64
	Status         string
	Reason         string
	PaidUntil      *time.Time
	AutoRenew      bool
	// AnchorDay is the day of the month the service is billed on (0: not
	// monthly), written if AnchorKnown (workflows from before anchors don't say).
	AnchorDay   int
	AnchorKnown bool
}

// SetStatus writes a subscription's status, reason, paid-until date and
// automatic-renewal flag.
func (a *Activities) SetStatus(ctx context.Context, in SetStatusInput) error {
	defer heartbeat(ctx)()
	return nonRetryableIfPermanent(a.Store.SetSubscriptionState(ctx, in.SubscriptionID, in.Status, in.Reason, in.PaidUntil, in.AutoRenew, in.AnchorDay, in.AnchorKnown))
}

// invoiceIssued queues, in st, the notice of the invoice of the charge
// written under chargeKey, if it has one. Its key is the invoice's, so a
// retried charge queues none.
func (a *Activities) invoiceIssued(ctx context.Context, st *store.Store, chargeKey string) error {
	inv, err := st.InvoiceByChargeKey(ctx, chargeKey)
	if billing.ErrorCode(err) == billing.ENOTFOUND {
		return nil
	}
	if err != nil {
		return err
	}
	return QueueInvoiceIssued(ctx, st, inv, a.DefaultLanguage)
}

// SaveScheduleInput is the live schedule a subscription's workflow
// publishes: the JSON of workflows.Schedule, numbered by Version, which
// grows with every change.
type SaveScheduleInput struct {
	SubscriptionID int64
	Version        int64
	Schedule       json.RawMessage
	// Reminders are the period's reminders the reminders schedule sends
	// (workflows from before it publish none).
	Reminders []Reminder
}

// SaveSchedule stores the schedule in the subscription's row, where the API
// reads it (store.SaveSubscriptionSchedule keeps the newest version). It is
// short and idempotent: the workflow runs it as a local activity.
func (a *Activities) SaveSchedule(ctx context.Context, in SaveScheduleInput) error {
	reminders, err := json.Marshal(in.Reminders)
	if err != nil || in.Reminders == nil {
		reminders = nil
	}
	return nonRetryableIfPermanent(a.Store.SaveSubscriptionSchedule(ctx, in.SubscriptionID, in.Version, in.Schedule, reminders))
}
