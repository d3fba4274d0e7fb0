package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tempobill/billing"
)

// A rejected update fails with an application error whose type is the
// domain's error code; workflows.Client turns it back into a *billing.Error.
func invalid(msg string) error  { return temporal.NewApplicationError(msg, billing.EINVALID) }
func conflict(msg string) error { return temporal.NewApplicationError(msg, billing.ECONFLICT) }

// registerUpdates registers the staff actions. Each validator rejects what
// the current state forbids, before anything is written to history; each
// handler changes the state under the mutex and returns the new schedule.
func (w *subscription) registerUpdates(ctx workflow.Context) error {
	reg := func(name string, handler, validator any) error {
		return workflow.SetUpdateHandlerWithOptions(ctx, name, handler, workflow.UpdateHandlerOptions{Validator: validator})
	}
	return firstErr(
		reg(UpdateSuspend, w.onSuspend, w.validateSuspend),
		reg(UpdateResume, w.onResume, w.validateResume),
		reg(UpdateCancel, w.onCancel, w.validateCancel),
		reg(UpdateRenewNow, w.onRenewNow, w.validateRenewNow),
		reg(UpdateChangeProduct, w.onChangeProduct, w.validateChangeProduct),
		reg(UpdateSetAutoRenew, w.onSetAutoRenew, w.validateSetAutoRenew),
		reg(UpdateExtend, w.onExtend, w.validateExtend),
		reg(UpdateUpdatesUntil, w.onSetUpdatesUntil, w.validateSetUpdatesUntil),
		reg(UpdateParameters, w.onSetParameters, w.validateSetParameters),
	)
}

func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (w *subscription) requireLive() error {
	if w.final() {
		return conflict("the subscription is " + w.st.Status)
	}
	return nil
}

// after runs fn under the mutex, re-checking the validator (the state may
// have moved while the handler waited for the mutex), then answers the schedule.
func (w *subscription) after(ctx workflow.Context, validate func() error, fn func() error) (Schedule, error) {
	w.pending++
	defer func() { w.pending-- }()
	err := w.locked(ctx, func() error {
		if err := validate(); err != nil {
			return err
		}
		if err := fn(); err != nil || !w.cheap {
			return err
		}
		w.saveSchedule(ctx) // read-your-writes: saved before the caller's answer
		return nil
	})
	w.changed = true
	if err != nil {
		return Schedule{}, err
	}
	return w.schedule()
}

func (w *subscription) validateSuspend(in SuspendInput) error {
	if in.Reason == "" || len(in.Reason) > 500 {
		return invalid("a reason of 1 to 500 characters is required")
	}
	if w.st.Status != billing.SubscriptionActive {
		return conflict("only an active service can be suspended; it is " + w.st.Status)
	}
	return nil
}

func (w *subscription) onSuspend(ctx workflow.Context, in SuspendInput) (Schedule, error) {
	return w.after(ctx, func() error { return w.validateSuspend(in) }, func() error {
		return w.suspend(ctx, in.Reason, suspendedByStaff)
	})
}

func (w *subscription) validateResume(ResumeInput) error {
	if w.st.Status != billing.SubscriptionSuspended {
		return conflict("only a suspended service can be resumed; it is " + w.st.Status)
	}
	return nil
}

// onResume lifts a staff suspension; the clock goes on from now, and an
// overdue renewal is attempted at once. A service suspended for debt or
// expired resumes only if the overdue period can be charged now.
func (w *subscription) onResume(ctx workflow.Context, in ResumeInput) (Schedule, error) {
	return w.after(ctx, func() error { return w.validateResume(in) }, func() error {
		if !w.st.SuspendedByStaff {
			return w.renew(ctx, false)
		}
		w.st.Status, w.st.SuspendReason, w.st.SuspendedByStaff, w.st.SuspendedAt = billing.SubscriptionActive, "", false, time.Time{}
		w.st.PeriodStart = workflow.Now(ctx)
		w.st.Cycle++
		w.publish(ctx, false)
		w.follow(billing.MilestoneResumed, true, w.noticeOf(billing.MilestoneResumed))
		return nil
	})
}

func (w *subscription) validateCancel(in CancelInput) error {
	if err := w.requireLive(); err != nil {
		return err
	}
	if in.AtPeriodEnd && w.st.Status != billing.SubscriptionActive {
		return conflict("only an active service can be cancelled at the end of its period; cancel it now instead")
	}
	return nil
}

// onCancel ends the service now or at the end of its period. A cancel acts
// on the state it was accepted for. A charge made while it waited for the
// mutex (an unpaid order's payment, or the renewal of the next period) was
// not the customer's wish: it is refunded, its notices are dropped if not
// sent yet, and the service is cancelled now (the period the customer meant
// is over).
func (w *subscription) onCancel(ctx workflow.Context, in CancelInput) (Schedule, error) {
	acceptedUnpaid := w.st.Status == billing.SubscriptionUnpaid
	accepted := *w.st // the state the cancel was accepted for
	return w.after(ctx, func() error { return w.validateCancel(in) }, func() error {
		if w.st.Status == billing.SubscriptionAwaitingParameters {
			// Paid, never activated: the customer gets the period back.
			if err := w.refundPeriod(ctx, w.st.Period); err != nil {
				return err
			}
			if w.version(ctx, "parameters-needed-dropped", 1) >= 1 {
				w.dropParametersNeeded() // queued by a charge the cancel crossed
			}
			return w.cancel(ctx)
		}
		chargedMeanwhile := w.st.Status == billing.SubscriptionActive && w.st.Period > accepted.Period &&
			(acceptedUnpaid || w.updatesFirst)
		if chargedMeanwhile && acceptedUnpaid && w.version(ctx, "cancel-order-refunds", 1) == 1 {
			if err := w.refundPeriod(ctx, w.st.Period); err != nil {
				return err
			}
			return w.cancel(ctx)
		}
		if chargedMeanwhile && !acceptedUnpaid {
			// A renewal (scheduled, renew now, a payment) charged while the
			// cancel waited: give it back, go back to the state the cancel
			// was accepted for, and apply the cancel to that.
			if err := w.refundPeriod(ctx, w.st.Period); err != nil {
				return err
			}
			w.rollBack(accepted)
			w.publish(ctx, false)
		}
		w.dropRenewalNotices()
		if in.AtPeriodEnd {
			w.st.CancelAtPeriodEnd = true
			return nil
		}
		return w.cancel(ctx)
	})
}

// rollBack returns the billing state to a, after the charge made since was
// refunded; what actions queued (notices, steps) stays, less the charge's.
func (w *subscription) rollBack(a SubscriptionState) {
	w.st.Period, w.st.PaidUntil, w.st.AnchorDay, w.st.Plan, w.st.Policy = a.Period, a.PaidUntil, a.AnchorDay, a.Plan, a.Policy
	w.st.NextProductID, w.st.NextPlan = a.NextProductID, a.NextPlan
	w.st.Status, w.st.SuspendReason, w.st.SuspendedAt = a.Status, a.SuspendReason, a.SuspendedAt
	w.st.SuspendedByStaff, w.st.Expired, w.st.RenewalFailed = a.SuspendedByStaff, a.Expired, a.RenewalFailed
	w.renewed = false // nothing was renewed after all: the run goes on
}

// dropRenewalNotices drops the queued notices asking the customer to pay for
// a renewal they have just cancelled (non-sufficient funds, declined).
func (w *subscription) dropRenewalNotices() {
	if !w.updatesFirst {
		return
	}
	w.st.Followups = slices.DeleteFunc(w.st.Followups, func(f Followup) bool {
		return f.Milestone == billing.MilestoneNSF || f.Milestone == billing.MilestoneDeclined
	})
}

func (w *subscription) validateRenewNow(in RenewNowInput) error {
	if in.Period != 0 && in.Period != w.st.Period+1 {
		return conflict(fmt.Sprintf("period %d is already charged; the next is %d", in.Period, w.st.Period+1))
	}
	if w.st.Status != billing.SubscriptionActive && w.st.Status != billing.SubscriptionSuspended {
		return conflict("only an active or suspended service can be renewed; it is " + w.st.Status)
	}
	if w.st.SuspendedByStaff {
		return conflict("the service was suspended by staff; resume it first")
	}
	return nil
}

// onRenewNow charges the next period now; without funds it fails and
// changes nothing. Without a period named, it charges the period that was
// next when it was accepted: a double click charges once.
func (w *subscription) onRenewNow(ctx workflow.Context, in RenewNowInput) (Schedule, error) {
	if in.Period == 0 && w.updatesFirst {
		in.Period = w.st.Period + 1
	}
	return w.after(ctx, func() error { return w.validateRenewNow(in) }, func() error {
		return w.renew(ctx, false)
	})
}

func (w *subscription) validateChangeProduct(in ChangeProductInput) error {
	if in.ProductID <= 0 {
		return invalid("product_id is required")
	}
	return w.requireLive()
}

func (w *subscription) onChangeProduct(ctx workflow.Context, in ChangeProductInput) (Schedule, error) {
	return w.after(ctx, func() error { return w.validateChangeProduct(in) }, func() error {
		before := w.st.NextProductID
		w.st.NextProductID = in.ProductID
		if in.ProductID == w.st.Plan.ProductID && w.st.Status != billing.SubscriptionUnpaid {
			w.st.NextProductID = 0
		}
		if w.announces && w.st.NextProductID != before {
			w.st.NextPlan = nil // read again, for the new product, at the next notice or the renewal
		}
		return nil
	})
}

func (w *subscription) validateSetAutoRenew(SetAutoRenewInput) error {
	return w.requireLive()
}

func (w *subscription) onSetAutoRenew(ctx workflow.Context, in SetAutoRenewInput) (Schedule, error) {
	return w.after(ctx, func() error { return w.validateSetAutoRenew(in) }, func() error {
		w.st.AutoRenew = in.Enabled
		w.publish(ctx, false)
		return nil
	})
}

func (w *subscription) validateExtend(in ExtendInput) error {
	if in.Days < 1 || in.Days > 3650 {
		return invalid("days must be 1 to 3650")
	}
	if w.st.Status != billing.SubscriptionActive && w.st.Status != billing.SubscriptionSuspended {
		return conflict("only an active or suspended service can be extended; it is " + w.st.Status)
	}
	return nil
}

// onExtend moves the paid-until date on for free; the new date's day becomes
// the anchor of the periods after it. A service suspended for debt whose new
// date is still ahead becomes active again.
func (w *subscription) onExtend(ctx workflow.Context, in ExtendInput) (Schedule, error) {
	return w.after(ctx, func() error { return w.validateExtend(in) }, func() error {
		now := workflow.Now(ctx)
		w.st.PaidUntil = addDays(w.st.Plan, w.st.PaidUntil, in.Days)
		w.st.AnchorDay = anchorOf(w.st.Plan, w.st.PaidUntil)
		w.st.RenewalFailed = false
		w.st.Done, w.st.PeriodStart = nil, now
		w.st.Cycle++
		if w.st.Status == billing.SubscriptionSuspended && !w.st.SuspendedByStaff && w.st.PaidUntil.After(now) {
			w.st.Status, w.st.SuspendReason, w.st.SuspendedAt, w.st.Expired = billing.SubscriptionActive, "", time.Time{}, false
			w.follow(billing.MilestoneResumed, true, w.noticeOf(billing.MilestoneResumed))
		}
		w.publish(ctx, false)
		return nil
	})
}

func (w *subscription) validateSetUpdatesUntil(in SetUpdatesUntilInput) error {
	if in.At.IsZero() {
		return invalid("updates_until is required")
	}
	return w.requireLive()
}

// onSetUpdatesUntil moves a license's updates-until date: its notices are
// scheduled again before the new date, from now on.
func (w *subscription) onSetUpdatesUntil(ctx workflow.Context, in SetUpdatesUntilInput) (Schedule, error) {
	return w.after(ctx, func() error { return w.validateSetUpdatesUntil(in) }, func() error {
		w.trackUpdates(ctx, in.At)
		return nil
	})
}

func (w *subscription) validateSetParameters(SetParametersInput) error {
	return w.requireLive()
}

// onSetParameters takes the order parameters now given: a paid order that
// waited for them activates once none it needs is missing. Otherwise (not
// charged yet, or active) it changes nothing: the charge reads them.
func (w *subscription) onSetParameters(ctx workflow.Context, in SetParametersInput) (Schedule, error) {
	return w.after(ctx, func() error { return w.validateSetParameters(in) }, func() error {
		if w.st.Status != billing.SubscriptionAwaitingParameters {
			return nil
		}
		missing := func(p billing.OrderParameter) bool { return !slices.Contains(in.Given, p.Name) }
		if in.Checked && w.version(ctx, "parameters-missing-now", 1) >= 1 {
			// Still missing by the product's declaration now, not the charge's.
			missing = func(p billing.OrderParameter) bool { return slices.Contains(in.Missing, p.Name) }
		}
		w.st.AwaitingParameters = slices.DeleteFunc(slices.Clone(w.st.AwaitingParameters), func(p billing.OrderParameter) bool {
			return !missing(p)
		})
		if len(w.st.AwaitingParameters) == 0 {
			if w.version(ctx, "parameters-activation-now", 1) >= 1 {
				// Like a resume: the notices that fell due while it waited
				// (incoming, low money, expiring) are not sent late.
				w.st.PeriodStart = workflow.Now(ctx)
			}
			if w.version(ctx, "parameters-needed-dropped", 1) >= 1 {
				// Given while the order's charge ran: the request for them,
				// queued by the charge and not sent yet, is moot.
				w.dropParametersNeeded()
			}
			w.activate(ctx, false)
		}
		return nil
	})
}

// dropParametersNeeded drops the queued order_parameters_needed notice, if
// not sent yet: the order was activated or cancelled since.
func (w *subscription) dropParametersNeeded() {
	w.st.Followups = slices.DeleteFunc(w.st.Followups, func(f Followup) bool {
		return f.Milestone == billing.MilestoneParametersNeeded
	})
}
