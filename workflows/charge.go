package workflows

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
)

// charge charges period number period of the product (0: the current one)
// at its current price, from the date from. A refusal (insufficient funds
// or declined) is returned as refused, with the plan it was tried at.
func (w *subscription) charge(ctx workflow.Context, productID int64, period int, from time.Time, anchor int) (res activities.ChargePeriodResult, refused *temporal.ApplicationError, err error) {
	summary := fmt.Sprintf("charge period %d", period)
	in := activities.ChargePeriodInput{
		SubscriptionID: w.in.SubscriptionID, CustomerID: w.in.CustomerID, Period: period, ProductID: productID, From: from,
		AnchorDay: anchor, Announced: w.st.NextPlan, // charged only if it is the same product
		ErrorCodes: true, // refusals as the domain's codes; IsDeclined reads the legacy types too
	}
	if period == 1 && w.ordersExpire {
		in.MaxUnpaidOrders = w.policy().MaxUnpaidOrders
	}
	// An ordinary activity in runs before cycle-cost version 3; a local one
	// since: one database transaction keyed by (subscription, period), so a
	// worker lost meanwhile runs it again from the last workflow task and
	// the key makes that safe. A renewal is then one workflow task from the
	// timer to the continue-as-new instead of two and an activity task: the
	// storm's work on the Temporal server (docs/scale.md).
	if w.batched {
		err = workflow.ExecuteLocalActivity(localOptions(ctx, summary, 30*time.Second, 0), a.ChargePeriod, in).Get(ctx, &res)
	} else {
		err = workflow.ExecuteActivity(activityOptions(ctx, summary), a.ChargePeriod, in).Get(ctx, &res)
	}
	if err == nil && res.Metered && w.overage {
		w.st.OpenUsage = true
	}
	if errors.As(err, &refused) {
		var plan activities.Plan
		if refused.HasDetails() && refused.Details(&plan) == nil && w.st.Plan.ProductID == 0 {
			w.st.Plan = plan // an unpaid order: show what it waits for
		}
		return res, refused, nil
	}
	return res, nil, err
}

// nextPlan is the plan the next period will be charged at: read once, at the
// period's first notice, so that every notice of the period and the renewal
// name and charge the same price and product. Runs recorded before this
// replay with the current period's plan.
func (w *subscription) nextPlan(ctx workflow.Context) (activities.Plan, error) {
	if !w.announces {
		return w.st.Plan, nil
	}
	if w.st.NextPlan == nil {
		var p activities.Plan
		in := activities.ReadPlanInput{SubscriptionID: w.in.SubscriptionID, ProductID: w.st.NextProductID}
		if w.batched {
			// Announced in the database: the reminders schedule may have
			// read it first, and its price stands.
			in.Period = w.st.Period + 1
		}
		err := w.short(ctx, "read the next period's plan", a.ReadPlan, in).Get(ctx, &p)
		if err != nil {
			return activities.Plan{}, err
		}
		w.st.NextPlan = &p
	}
	return *w.st.NextPlan, nil
}

// refundPeriod gives back the charge of a period that a cancel, accepted
// before it, overtook (an order's first period, or a renewal), and drops the
// notices and steps of that charge if they have not run yet: the period was
// never the customer's.
func (w *subscription) refundPeriod(ctx workflow.Context, period int) error {
	err := workflow.ExecuteActivity(activityOptions(ctx, fmt.Sprintf("refund period %d", period)), a.RefundPeriod, activities.RefundPeriodInput{
		SubscriptionID: w.in.SubscriptionID, CustomerID: w.in.CustomerID, Period: period,
	}).Get(ctx, nil)
	if err != nil {
		return err
	}
	w.st.Followups = slices.DeleteFunc(w.st.Followups, func(f Followup) bool {
		return f.Period == period && (f.Milestone == billing.MilestoneActivated || f.Milestone == billing.MilestoneRenewed || f.Milestone == billing.MilestoneResumed)
	})
	return nil
}

// chargeOverage charges the resource overage of the periods that ended by
// now, or with all (the service ends: cancelled or deleted) of every period
// still open, before anything else happens at the milestone: at a renewal,
// the period's overage is charged first, so the next period is charged only
// if the balance covers it after the overage. Usage was consumed, so the
// overage is charged even into debt (store.ChargeOverage); only the balance
// cap can refuse it, which is logged and leaves the period open for staff.
// Services whose periods count no usage (OpenUsage false) run no activity.
// Runs recorded before the usage-overage change charge no overage.
func (w *subscription) chargeOverage(ctx workflow.Context, all bool) error {
	if !w.overage || !w.st.OpenUsage {
		return nil
	}
	var res activities.ChargeOverageResult
	err := workflow.ExecuteActivity(activityOptions(ctx, "charge overage"), a.ChargeOverage, activities.ChargeOverageInput{
		SubscriptionID: w.in.SubscriptionID, CustomerID: w.in.CustomerID, Before: workflow.Now(ctx), All: all,
	}).Get(ctx, &res)
	var refused *temporal.ApplicationError
	if errors.As(err, &refused) {
		workflow.GetLogger(ctx).Error("overage not charged", "subscription", w.in.SubscriptionID, "err", err)
		return nil
	}
	if err == nil {
		w.st.OpenUsage = res.Open > 0
	}
	return err
}
