package activities

import (
	"context"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store"
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
}

// ChargePeriodResult is the charge, the plan it was made at and the new
// paid-until date. A refusal is an application error of type
// ErrInsufficientFunds or ErrChargeDeclined whose details hold the Plan.
type ChargePeriodResult struct {
	EntryID   int64
	Plan      Plan
	PaidUntil time.Time
}

// ChargePeriod charges one period at the product's current price and moves
// the subscription's paid-until date one period on from From, calendar-
// correct in the customer's time zone, in one transaction keyed by
// (subscription, period): a retry, a replay or a second caller never charges
// the period twice.
func (a *Activities) ChargePeriod(ctx context.Context, in ChargePeriodInput) (ChargePeriodResult, error) {
	plan, err := a.plan(ctx, in.SubscriptionID, in.ProductID)
	if err != nil {
		return ChargePeriodResult{}, nonRetryableIfPermanent(err)
	}
	loc, err := time.LoadLocation(plan.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	until := billing.AddPeriods(in.From.In(loc), plan.PeriodUnit, plan.PeriodCount).UTC()
	e, err := a.Store.ChargePeriod(ctx, store.PeriodCharge{
		SubscriptionID: in.SubscriptionID, ProductID: plan.ProductID, PaidUntil: until,
		Charge: billing.Charge{CustomerID: in.CustomerID, Amount: plan.Price, Currency: plan.Currency,
			Reason:         billing.ReasonCharge,
			Reference:      fmt.Sprintf("subscription %d, period %d: %s", in.SubscriptionID, in.Period, plan.ProductName),
			IdempotencyKey: PeriodChargeKey(in.SubscriptionID, in.Period)},
	})
	if err != nil {
		return ChargePeriodResult{}, chargeError(err, plan)
	}
	return ChargePeriodResult{EntryID: e.ID, Plan: plan, PaidUntil: until}, nil
}

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
}

// SetStatus writes a subscription's status, reason, paid-until date and
// automatic-renewal flag.
func (a *Activities) SetStatus(ctx context.Context, in SetStatusInput) error {
	return nonRetryableIfPermanent(a.Store.SetSubscriptionState(ctx, in.SubscriptionID, in.Status, in.Reason, in.PaidUntil, in.AutoRenew))
}

// nonRetryableIfPermanent marks errors that retrying can't fix.
func nonRetryableIfPermanent(err error) error {
	switch billing.ErrorCode(err) {
	case "", billing.EINTERNAL, billing.EUNAVAILABLE:
		return err
	}
	return temporal.NewNonRetryableApplicationError(billing.ErrorMessage(err), billing.ErrorCode(err), nil)
}
