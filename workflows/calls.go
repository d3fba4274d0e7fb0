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

// activityOptions: activities that touch money or send messages retry until
// they succeed; their idempotency keys make every retry safe.
func activityOptions(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		HeartbeatTimeout:    activities.HeartbeatTimeout, // a lost worker costs seconds
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: time.Minute},
		Summary: summary,
	})
}

// noticeOptions: SendNotices records every send's outcome itself and leaves
// what failed to the redelivery schedule, so its retries are only for a
// lost worker or database; it heartbeats, so a lost worker costs seconds.
func noticeOptions(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		HeartbeatTimeout:    activities.HeartbeatTimeout,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: time.Minute, MaximumAttempts: 10},
		Summary: summary,
	})
}

// bestEffortOptions: custom steps get ten attempts (about ten minutes), then
// the workflow records the failure and goes on; a broken webhook must not
// stop billing. (Custom steps don't heartbeat: no heartbeat timeout.)
func bestEffortOptions(ctx workflow.Context, summary string) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 2,
			MaximumInterval: time.Minute, MaximumAttempts: 10},
		Summary: summary,
	})
}

// charge charges period number period of the product (0: the current one)
// at its current price, from the date from. A refusal (insufficient funds
// or declined) is returned as refused, with the plan it was tried at.
func (w *subscription) charge(ctx workflow.Context, productID int64, period int, from time.Time, anchor int) (res activities.ChargePeriodResult, refused *temporal.ApplicationError, err error) {
	summary := fmt.Sprintf("charge period %d", period)
	in := activities.ChargePeriodInput{
		SubscriptionID: w.in.SubscriptionID, CustomerID: w.in.CustomerID, Period: period, ProductID: productID, From: from,
		AnchorDay: anchor, Announced: w.st.NextPlan, // charged only if it is the same product
	}
	if period == 1 && w.ordersExpire {
		in.MaxUnpaidOrders = w.in.Policy.MaxUnpaidOrders
	}
	err = workflow.ExecuteActivity(activityOptions(ctx, summary), a.ChargePeriod, in).Get(ctx, &res)
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
		err := workflow.ExecuteActivity(activityOptions(ctx, "read the next period's plan"), a.ReadPlan,
			activities.ReadPlanInput{SubscriptionID: w.in.SubscriptionID, ProductID: w.st.NextProductID}).Get(ctx, &p)
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

// Followup is what an action leaves to do after it: notices to send and the
// custom steps of a milestone. Actions queue them, in the main loop or in an
// update handler, and the main loop runs them, so that a slow mail server
// never holds up a charge or a staff action.
type Followup struct {
	Milestone string
	Period    int
	Notices   []activities.NoticeRequest
	Steps     bool
	// Plan, if set, is what the notices name (the next period's plan);
	// otherwise the current period's.
	Plan *activities.Plan
}

// follow queues the notices and, with steps, the custom steps of milestone.
func (w *subscription) follow(milestone string, steps bool, notices ...activities.NoticeRequest) {
	w.st.Followups = append(w.st.Followups, Followup{Milestone: milestone, Period: w.st.Period, Notices: notices, Steps: steps})
	w.changed = true
}

// followAt queues notices about the next period, naming plan.
func (w *subscription) followAt(milestone string, plan activities.Plan, notices ...activities.NoticeRequest) {
	w.st.Followups = append(w.st.Followups, Followup{Milestone: milestone, Period: w.st.Period, Notices: notices, Plan: &plan})
	w.changed = true
}

// runFollowups runs what actions queued, in order.
func (w *subscription) runFollowups(ctx workflow.Context) error {
	for len(w.st.Followups) > 0 {
		f := w.st.Followups[0]
		w.st.Followups = w.st.Followups[1:]
		if len(f.Notices) > 0 {
			w.notify(ctx, f.Period, f.Plan, f.Notices...)
		}
		if f.Steps {
			if err := w.steps(ctx, f.Milestone); err != nil {
				return err
			}
		}
	}
	return nil
}

// cycleKey makes a notice key unique within the period once the service was
// suspended, resumed or extended, so that the same notice can go out again
// for the new situation while a retry still can't send it twice.
func (w *subscription) cycleKey(key string) string {
	if w.st.Cycle == 0 {
		return key
	}
	return fmt.Sprintf("%s#%d", key, w.st.Cycle)
}

// noticeOf asks for the service notice of milestone.
func (w *subscription) noticeOf(milestone string) activities.NoticeRequest {
	return activities.NoticeRequest{Milestone: milestone, Key: w.cycleKey(milestone)}
}

// notify sends the notices of milestones, once each per period, channel and
// recipient. Failures are recorded in the notices table; billing goes on.
func (w *subscription) notify(ctx workflow.Context, period int, plan *activities.Plan, reqs ...activities.NoticeRequest) {
	summary := "notify: " + reqs[0].Key
	for _, r := range reqs[1:] {
		summary += ", " + r.Key
	}
	in := activities.SendNoticesInput{SubscriptionID: w.in.SubscriptionID, CustomerID: w.in.CustomerID,
		Period: period, Notices: reqs, Plan: w.st.Plan, PaidUntil: w.st.PaidUntil, SuspendReason: w.st.SuspendReason}
	if plan != nil {
		in.Plan = *plan
	}
	if w.st.Status == billing.SubscriptionSuspended && !w.st.SuspendedByStaff {
		in.DeleteAt = w.st.deleteAt(w.in.Policy)
	}
	if err := workflow.ExecuteActivity(noticeOptions(ctx, summary), a.SendNotices, in).Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("notices not all sent; going on", "notices", summary, "error", err)
	}
}

// steps runs the custom lifecycle steps registered for milestone. Which
// steps a product has is read by an activity, so adding a step to a product
// changes nothing in running histories.
func (w *subscription) steps(ctx workflow.Context, milestone string) error {
	var found activities.StepsForResult
	err := workflow.ExecuteActivity(activityOptions(ctx, "find steps for "+milestone), a.StepsFor,
		activities.StepsForInput{SubscriptionID: w.in.SubscriptionID, Milestone: milestone}).Get(ctx, &found)
	if err != nil {
		return err
	}
	in := activities.StepInput{SubscriptionID: w.in.SubscriptionID, CustomerID: w.in.CustomerID,
		ProductID: w.st.Plan.ProductID, Milestone: milestone, Period: w.st.Period, Status: w.st.Status, PaidUntil: w.st.PaidUntil}
	for _, name := range found.Activities {
		err := workflow.ExecuteActivity(bestEffortOptions(ctx, name+" at "+milestone), name, in).Get(ctx, nil)
		if err != nil {
			workflow.GetLogger(ctx).Warn("custom step failed; going on", "step", name, "milestone", milestone, "error", err)
		}
	}
	return nil
}

// publish mirrors the state into the search attributes and, unless a charge
// already wrote it, into the subscription's row, so lists, filters and the
// Temporal UI show it.
func (w *subscription) publish(ctx workflow.Context, rowWritten bool) {
	updates := []temporal.SearchAttributeUpdate{
		SearchCustomerID.ValueSet(w.in.CustomerID),
		SearchStatus.ValueSet(w.st.Status),
	}
	if w.st.Plan.ProductID != 0 {
		updates = append(updates, SearchProductID.ValueSet(w.st.Plan.ProductID))
	}
	var paidUntil *time.Time
	if !w.st.PaidUntil.IsZero() {
		d := w.st.PaidUntil
		paidUntil = &d
		updates = append(updates, SearchPaidUntil.ValueSet(d))
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, updates...); err != nil {
		workflow.GetLogger(ctx).Error("search attributes not updated", "error", err)
	}
	w.setDetails(ctx, "")
	if rowWritten {
		return
	}
	err := workflow.ExecuteActivity(activityOptions(ctx, "set status "+w.st.Status), a.SetStatus, activities.SetStatusInput{
		SubscriptionID: w.in.SubscriptionID, Status: w.st.Status, Reason: w.st.SuspendReason,
		PaidUntil: paidUntil, AutoRenew: w.st.AutoRenew, AnchorDay: w.st.AnchorDay, AnchorKnown: w.updatesFirst,
	}).Get(ctx, nil)
	if err != nil {
		workflow.GetLogger(ctx).Error("status not mirrored", "error", err)
	}
}

// setDetails shows the current state on the workflow's page in the Temporal UI.
func (w *subscription) setDetails(ctx workflow.Context, note string) {
	s := fmt.Sprintf("**%s**, %s for %s per %d %s", w.st.Status, w.st.Plan.ProductName,
		billing.Money{Amount: w.st.Plan.Price, Currency: w.st.Plan.Currency}, w.st.Plan.PeriodCount, w.st.Plan.PeriodUnit)
	if !w.st.PaidUntil.IsZero() {
		s += ", paid until " + w.st.PaidUntil.Format(time.RFC3339)
	}
	if w.st.SuspendReason != "" {
		s += ", suspended: " + w.st.SuspendReason
	}
	if note != "" {
		s += "\n\n" + note
	}
	workflow.SetCurrentDetails(ctx, s)
}
