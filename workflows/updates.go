package workflows

import (
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tempobill/billing"
)

// Error types of rejected updates; the API answers 422 and 409 for them.
const (
	ErrInvalid  = "Invalid"
	ErrConflict = "Conflict"
)

func invalid(msg string) error  { return temporal.NewApplicationError(msg, ErrInvalid) }
func conflict(msg string) error { return temporal.NewApplicationError(msg, ErrConflict) }

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
	err := w.locked(ctx, func() error {
		if err := validate(); err != nil {
			return err
		}
		return fn()
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
		w.follow(MilestoneResumed, true, w.noticeOf(MilestoneResumed))
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

func (w *subscription) onCancel(ctx workflow.Context, in CancelInput) (Schedule, error) {
	return w.after(ctx, func() error { return w.validateCancel(in) }, func() error {
		if in.AtPeriodEnd {
			w.st.CancelAtPeriodEnd = true
			return nil
		}
		return w.cancel(ctx)
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
// changes nothing.
func (w *subscription) onRenewNow(ctx workflow.Context, in RenewNowInput) (Schedule, error) {
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
		w.st.NextProductID = in.ProductID
		if in.ProductID == w.st.Plan.ProductID {
			w.st.NextProductID = 0
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

// onExtend moves the paid-until date on for free. A service suspended for
// debt whose new date is still ahead becomes active again.
func (w *subscription) onExtend(ctx workflow.Context, in ExtendInput) (Schedule, error) {
	return w.after(ctx, func() error { return w.validateExtend(in) }, func() error {
		now := workflow.Now(ctx)
		w.st.PaidUntil = addDays(w.st.Plan, w.st.PaidUntil, in.Days)
		w.st.RenewalFailed = false
		w.st.Done, w.st.PeriodStart = nil, now
		w.st.Cycle++
		if w.st.Status == billing.SubscriptionSuspended && !w.st.SuspendedByStaff && w.st.PaidUntil.After(now) {
			w.st.Status, w.st.SuspendReason, w.st.SuspendedAt, w.st.Expired = billing.SubscriptionActive, "", time.Time{}, false
			w.follow(MilestoneResumed, true, w.noticeOf(MilestoneResumed))
		}
		w.publish(ctx, false)
		return nil
	})
}
