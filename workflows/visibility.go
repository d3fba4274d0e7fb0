package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
)

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
