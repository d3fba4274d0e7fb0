package workflows

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
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
	err := w.short(ctx, "set status "+w.st.Status, a.SetStatus, activities.SetStatusInput{
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

// saveSchedule publishes the schedule the query answers to the
// subscription's row, where GET /subscriptions/{id} reads it, if it changed
// since the last save: a local activity, numbered by ScheduleVersion so that
// the store keeps the newest of two saves that cross. Called before the
// workflow sleeps, before an update returns and before the run ends: the
// points where a reader can look.
func (w *subscription) saveSchedule(ctx workflow.Context) {
	if in := w.scheduleToSave(ctx); in != nil {
		w.runSave(ctx, in)
	}
}

// runSave runs the local activity that saves in.
func (w *subscription) runSave(ctx workflow.Context, in *activities.SaveScheduleInput) {
	err := workflow.ExecuteLocalActivity(localOptions(ctx, "save the schedule", 30*time.Second, 0), a.SaveSchedule, *in).Get(ctx, nil)
	if err != nil {
		workflow.GetLogger(ctx).Error("schedule not saved", "error", err)
	}
}

// scheduleToSave is the save of the schedule, numbered, if it changed since
// the last; nil if it did not.
func (w *subscription) scheduleToSave(ctx workflow.Context) *activities.SaveScheduleInput {
	s, _ := w.schedule()
	data, err := json.Marshal(s) //workflowcheck:ignore a struct encodes the same every time (map keys sorted)
	if err != nil {
		workflow.GetLogger(ctx).Error("schedule not encoded", "error", err)
		return nil
	}
	h := fnv.New64a()
	_, _ = h.Write(data)
	reminders := w.reminders()
	if reminders != nil {
		r, _ := json.Marshal(reminders) //workflowcheck:ignore a struct encodes the same every time
		_, _ = h.Write(r)
	}
	if sum := h.Sum64(); sum == w.st.ScheduleHash && w.st.ScheduleVersion > 0 {
		return nil
	} else {
		w.st.ScheduleHash = sum
	}
	w.st.ScheduleVersion++
	return &activities.SaveScheduleInput{SubscriptionID: w.in.SubscriptionID, Version: w.st.ScheduleVersion, Schedule: data, Reminders: reminders}
}
