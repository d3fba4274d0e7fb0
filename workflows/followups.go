package workflows

import (
	"fmt"
	"reflect"
	"slices"
	"time"

	"go.temporal.io/sdk/workflow"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
)

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
	defer func() {
		if w.carried != nil { // no notices went out: saved on its own
			in := w.carried
			w.carried = nil
			w.runSave(ctx, in)
		}
	}()
	for len(w.st.Followups) > 0 {
		f := w.st.Followups[0]
		w.st.Followups = w.st.Followups[1:]
		for w.cheap && !f.Steps && len(w.st.Followups) > 0 && sameNotices(f, w.st.Followups[0]) {
			// Notices due at the same instant (incoming and low money 3 days
			// before, say) go out in one SendNotices.
			f.Notices = append(slices.Clone(f.Notices), w.st.Followups[0].Notices...)
			w.st.Followups = w.st.Followups[1:]
		}
		if len(f.Notices) > 0 {
			w.notify(ctx, f.Period, f.Plan, f.Notices...)
		}
		if f.Steps {
			if in := w.carried; in != nil { // saved before the steps run
				w.carried = nil
				w.runSave(ctx, in)
			}
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
		in.DeleteAt = w.st.deleteAt(w.policy())
	}
	in.Schedule, w.carried = w.carried, nil
	var sent workflow.Future
	if w.cheap {
		sent = workflow.ExecuteLocalActivity(localOptions(ctx, summary, time.Minute, 10), a.SendNotices, in)
	} else {
		sent = workflow.ExecuteActivity(noticeOptions(ctx, summary), a.SendNotices, in)
	}
	if err := sent.Get(ctx, nil); err != nil {
		workflow.GetLogger(ctx).Warn("notices not all sent; going on", "notices", summary, "error", err)
		if in.Schedule != nil {
			// The save it carried may not have been made (its attempts ran
			// out), and the schedule's hash already counts it as saved:
			// saved on its own, retried until it is (a newer version stored
			// meanwhile makes it a no-op).
			w.runSave(ctx, in.Schedule)
		}
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

// sameNotices: g's notices can go out with f's, in one SendNotices: no
// custom steps, the same period and the same plan named.
func sameNotices(f, g Followup) bool {
	return !g.Steps && len(g.Notices) > 0 && len(f.Notices) > 0 && f.Period == g.Period &&
		reflect.DeepEqual(f.Plan, g.Plan) //workflowcheck:ignore plain values compared: deterministic
}
