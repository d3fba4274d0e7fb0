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

// a is only for method values: workflows name activities as a.ChargePeriod.
var a *activities.Activities

// SubscriptionWorkflow owns one service's life: it charges the first period,
// then sleeps from milestone to milestone (incoming, renewal, suspension,
// deletion), charging each period exactly once and sending the notices. It
// continues as new at every period boundary, carrying its state.
func SubscriptionWorkflow(ctx workflow.Context, in SubscriptionInput) (SubscriptionResult, error) {
	w, err := newSubscription(ctx, in)
	if err != nil {
		return SubscriptionResult{}, err
	}
	return w.run(ctx)
}

// subscription is the workflow's state and its handlers.
type subscription struct {
	in       SubscriptionInput
	st       *SubscriptionState
	payments workflow.ReceiveChannel
	mu       workflow.Mutex
	// changed is set by updates so the main loop recomputes its next milestone.
	changed bool
	// renewed is set when a period was charged in this run: time to continue as new.
	renewed bool
}

// newSubscription validates the input and registers the query and updates
// before anything can block.
func newSubscription(ctx workflow.Context, in SubscriptionInput) (*subscription, error) {
	if in.SubscriptionID <= 0 || in.CustomerID <= 0 {
		return nil, temporal.NewNonRetryableApplicationError("subscription and customer IDs are required", "InvalidInput", nil)
	}
	w := &subscription{in: in, st: in.State, payments: workflow.GetSignalChannel(ctx, SignalPaymentReceived), mu: workflow.NewMutex(ctx)}
	if w.st == nil {
		w.st = &SubscriptionState{Status: billing.SubscriptionUnpaid, AutoRenew: in.AutoRenew}
	}
	if err := workflow.SetQueryHandler(ctx, QuerySchedule, w.schedule); err != nil {
		return nil, err
	}
	if err := w.registerUpdates(ctx); err != nil {
		return nil, err
	}
	return w, nil
}

func (w *subscription) run(ctx workflow.Context) (SubscriptionResult, error) {
	for {
		// Notices and custom steps queued by the last action, also by an update.
		if err := w.locked(ctx, func() error { return w.runFollowups(ctx) }); err != nil {
			return SubscriptionResult{}, err
		}
		w.takePayments()
		if w.final() {
			return w.finish(ctx)
		}
		if w.renewed {
			return SubscriptionResult{}, w.continueAsNew(ctx)
		}
		if w.st.PaymentPending {
			if err := w.onPayment(ctx); err != nil {
				return SubscriptionResult{}, err
			}
			continue
		}
		if w.st.Status == billing.SubscriptionUnpaid && !slices.Contains(w.st.Done, keyOrder) {
			if err := w.locked(ctx, func() error {
				w.st.Done = append(w.st.Done, keyOrder)
				return w.order(ctx)
			}); err != nil {
				return SubscriptionResult{}, err
			}
			continue
		}
		events := w.st.events(w.in.Policy)
		now := workflow.Now(ctx)
		if len(events) == 0 || events[0].At.After(now) {
			if err := w.sleep(ctx, events, now); err != nil {
				return SubscriptionResult{}, err
			}
			continue
		}
		// An update may have changed the state while we waited for the
		// mutex: decide again under it.
		if err := w.locked(ctx, func() error {
			if w.renewed || w.final() {
				return nil
			}
			events := w.st.events(w.in.Policy)
			if len(events) == 0 || events[0].At.After(workflow.Now(ctx)) {
				return nil
			}
			return w.handle(ctx, events[0])
		}); err != nil {
			return SubscriptionResult{}, err
		}
	}
}

// sleep waits until the next milestone, a payment or an update.
func (w *subscription) sleep(ctx workflow.Context, events []event, now time.Time) error {
	wake := func() bool { return w.changed || w.payments.Len() > 0 }
	if len(events) == 0 {
		w.setDetails(ctx, "waiting for a payment or a staff action")
		if err := workflow.Await(ctx, wake); err != nil {
			return err
		}
	} else {
		next := events[0]
		w.setDetails(ctx, fmt.Sprintf("next: %s at %s", next.Milestone, next.At.Format(time.RFC3339)))
		_, err := workflow.AwaitWithOptions(ctx, workflow.AwaitOptions{Timeout: next.At.Sub(now),
			TimerOptions: workflow.TimerOptions{Summary: "until " + next.Key}}, wake)
		if err != nil {
			return err
		}
	}
	w.changed = false
	return nil
}

// takePayments moves payment signals into the state.
func (w *subscription) takePayments() {
	for w.payments.ReceiveAsync(nil) {
		w.st.PaymentPending = true
	}
}

// locked runs fn under the workflow's mutex: the main loop and the update
// handlers never change the state at once.
func (w *subscription) locked(ctx workflow.Context, fn func() error) error {
	if err := w.mu.Lock(ctx); err != nil {
		return err
	}
	defer w.mu.Unlock()
	return fn()
}

// handle does what a due milestone asks.
func (w *subscription) handle(ctx workflow.Context, e event) error {
	w.st.Done = append(w.st.Done, e.Key)
	switch e.Key {
	case keyRenewal:
		return w.renew(ctx, true)
	case keySuspend:
		// A last try before suspending: a payment signal may have been lost.
		if renewed, err := w.tryRenew(ctx); renewed || err != nil {
			return err
		}
		return w.suspend(ctx, reasonUnpaid, suspendedForDebt)
	case keyExpire:
		return w.suspend(ctx, reasonExpired, suspendedExpired)
	case keyCancel:
		return w.cancel(ctx)
	case keyDelete:
		if !w.st.Expired {
			if renewed, err := w.tryRenew(ctx); renewed || err != nil {
				return err
			}
		}
		return w.delete(ctx)
	}
	req := activities.NoticeRequest{Milestone: e.Milestone, Key: w.cycleKey(e.Key), Days: e.Days}
	if e.Milestone == MilestoneIncoming {
		req.ProductState = true
	}
	if e.Milestone == MilestoneLowMoney {
		req.OnlyIfBalanceBelow = w.st.Plan.Price
	}
	w.follow(e.Milestone, false, req)
	return nil
}

// Suspension reasons and kinds.
const (
	reasonUnpaid  = "unpaid"
	reasonExpired = "expired: no automatic renewal"

	suspendedForDebt = iota
	suspendedExpired
	suspendedByStaff
)

// order charges the first period; without funds the order waits for a payment.
func (w *subscription) order(ctx workflow.Context) error {
	if w.st.Status != billing.SubscriptionUnpaid {
		return nil // cancelled meanwhile
	}
	start := workflow.Now(ctx)
	res, refused, err := w.charge(ctx, 0, 1, start)
	if err != nil {
		return err
	}
	if refused != nil {
		w.setDetails(ctx, "ordered, waiting for a payment: "+refused.Message())
		return nil
	}
	w.st.Plan = res.Plan
	w.st.Period, w.st.PaidUntil, w.st.PeriodStart = 1, res.PaidUntil, start
	w.st.Status = billing.SubscriptionActive
	w.st.Done = nil
	w.publish(ctx, true)
	w.follow(MilestoneActivated, w.stepsAfterCharge(ctx, res.Plan), w.noticeOf(MilestoneActivated))
	return nil
}

// renew charges the next period from the paid-until date, at the price of
// the product the next period is for. scheduled is true at the renewal
// milestone, where a refusal sends the NSF or declined notice and the
// service waits for a payment until suspension; otherwise a refusal changes
// nothing and is returned.
func (w *subscription) renew(ctx workflow.Context, scheduled bool) error {
	period := w.st.Period + 1
	res, refused, err := w.charge(ctx, w.st.NextProductID, period, w.st.PaidUntil)
	if err != nil {
		return err
	}
	if refused != nil {
		if !scheduled {
			return refused
		}
		w.st.RenewalFailed = true
		state := MilestoneNSF
		if refused.Type() == activities.ErrChargeDeclined {
			state = MilestoneDeclined
		}
		w.setDetails(ctx, "renewal failed, waiting for a payment: "+refused.Message())
		w.follow(state, false, activities.NoticeRequest{Milestone: state, Key: w.cycleKey(state), ProductState: true})
		return nil
	}
	wasSuspended := w.st.Status == billing.SubscriptionSuspended
	w.st.Plan = res.Plan
	w.st.Period, w.st.PaidUntil = period, res.PaidUntil
	w.st.Status, w.st.SuspendReason, w.st.SuspendedAt, w.st.RenewalFailed = billing.SubscriptionActive, "", time.Time{}, false
	w.st.SuspendedByStaff, w.st.Expired = false, false
	w.st.NextProductID = 0
	w.publish(ctx, true)
	steps := w.stepsAfterCharge(ctx, res.Plan)
	w.follow(MilestoneRenewed, steps, activities.NoticeRequest{Milestone: MilestoneApproved, Key: MilestoneApproved, ProductState: true},
		w.noticeOf(MilestoneRenewed))
	if wasSuspended {
		w.follow(MilestoneResumed, steps)
	}
	w.renewed = true
	return nil
}

// stepsAfterCharge says whether to look for custom steps after a charge.
// Version 1 skips the lookup when the product, read by the charge this very
// moment, has no steps and no webhook: one activity less per renewal.
// Histories recorded before it replay with version 0.
func (w *subscription) stepsAfterCharge(ctx workflow.Context, plan activities.Plan) bool {
	if workflow.GetVersion(ctx, "skip-steps-lookup", workflow.DefaultVersion, 1) == workflow.DefaultVersion {
		return true
	}
	return plan.HasSteps
}

// tryRenew attempts the renewal outside its milestone; false without error
// when the money is still not there.
func (w *subscription) tryRenew(ctx workflow.Context) (bool, error) {
	err := w.renew(ctx, false)
	var refused *temporal.ApplicationError
	if errors.As(err, &refused) {
		return false, nil
	}
	return err == nil, err
}

// onPayment retries the charge a payment may now cover: the first period of
// an unpaid order, or the renewal of an auto-renewing service waiting for
// money (also during suspension for debt and grace, renewing from the old
// paid-until date). An expired service without automatic renewal is renewed
// by the client's "renew now", not by any payment.
func (w *subscription) onPayment(ctx workflow.Context) error {
	w.st.PaymentPending = false
	return w.locked(ctx, func() error {
		switch {
		case w.st.Status == billing.SubscriptionUnpaid:
			return w.order(ctx)
		case w.st.Status == billing.SubscriptionActive && w.st.RenewalFailed && w.st.renewsAutomatically(),
			w.st.Status == billing.SubscriptionSuspended && !w.st.SuspendedByStaff && !w.st.Expired:
			_, err := w.tryRenew(ctx)
			return err
		}
		return nil
	})
}

func (w *subscription) suspend(ctx workflow.Context, reason string, kind int) error {
	w.st.Status, w.st.SuspendReason = billing.SubscriptionSuspended, reason
	w.st.SuspendedByStaff, w.st.Expired = kind == suspendedByStaff, kind == suspendedExpired
	w.st.SuspendedAt = workflow.Now(ctx)
	w.st.Cycle++
	w.st.Done = slices.DeleteFunc(w.st.Done, func(k string) bool { return k == keyDelete })
	w.publish(ctx, false)
	w.follow(MilestoneSuspended, true, w.noticeOf(MilestoneSuspended))
	return nil
}

func (w *subscription) cancel(ctx workflow.Context) error {
	w.st.Status = billing.SubscriptionCancelled
	w.publish(ctx, false)
	w.follow(MilestoneCancelled, true, w.noticeOf(MilestoneCancelled))
	return nil
}

func (w *subscription) delete(ctx workflow.Context) error {
	w.st.Status = billing.SubscriptionDeleted
	w.publish(ctx, false)
	w.follow(MilestoneDeleted, true, w.noticeOf(MilestoneDeleted))
	return nil
}

func (w *subscription) final() bool {
	return w.st.Status == billing.SubscriptionCancelled || w.st.Status == billing.SubscriptionDeleted
}

// finish lets running handlers end, sends the last notices and completes the workflow.
func (w *subscription) finish(ctx workflow.Context) (SubscriptionResult, error) {
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return SubscriptionResult{}, err
	}
	if err := w.runFollowups(ctx); err != nil {
		return SubscriptionResult{}, err
	}
	w.setDetails(ctx, "finished: "+w.st.Status)
	return SubscriptionResult{Status: w.st.Status, Periods: w.st.Period}, nil
}

// continueAsNew starts the next period with a fresh history, after letting
// running handlers finish and taking in payments signalled meanwhile, so
// nothing that arrives at the boundary is lost.
func (w *subscription) continueAsNew(ctx workflow.Context) error {
	if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
		return err
	}
	if err := w.runFollowups(ctx); err != nil {
		return err
	}
	w.takePayments()
	next := w.in
	st := *w.st
	st.Done, st.PeriodStart, st.Cycle = nil, workflow.Now(ctx), 0
	next.State = &st
	return workflow.NewContinueAsNewError(ctx, SubscriptionWorkflow, next)
}

// schedule answers QuerySchedule: the live state and the coming milestones.
func (w *subscription) schedule() (Schedule, error) {
	s := Schedule{Status: w.st.Status, Period: w.st.Period, AutoRenew: w.st.AutoRenew,
		CancelAtPeriodEnd: w.st.CancelAtPeriodEnd, SuspendReason: w.st.SuspendReason,
		WaitingForPayment: w.st.Status == billing.SubscriptionUnpaid || w.st.RenewalFailed ||
			(w.st.Status == billing.SubscriptionSuspended && !w.st.SuspendedByStaff && !w.st.Expired),
		NextProductID: w.st.NextProductID, Price: w.st.Plan.Price, Currency: w.st.Plan.Currency, Next: []ScheduledStep{}}
	if !w.st.PaidUntil.IsZero() {
		d := w.st.PaidUntil
		s.PaidUntil = &d
	}
	for _, e := range w.st.events(w.in.Policy) {
		step := ScheduledStep{Milestone: e.Milestone, At: e.At}
		if e.notice {
			step.Detail = fmt.Sprintf("notice, %d days before", e.Days)
		}
		s.Next = append(s.Next, step)
	}
	return s, nil
}
