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
	// pending counts the updates accepted and not yet applied. With
	// updatesFirst, the main loop lets them go first at each step, so an
	// action applies to the state it was accepted for (a cancel of an unpaid
	// order is not overtaken by the order's charge and its notices).
	pending      int
	updatesFirst bool
	// announces: the plan of the next period is read once, at its first
	// notice, and the renewal charges what was announced (see nextPlan).
	announces bool
	// chargeFromNow: a late renewal whose period would already be over is
	// charged from now instead of from the old paid-until date (see renew).
	chargeFromNow bool
	// ordersExpire: an unpaid order expires after Policy.UnpaidOrderDays.
	ordersExpire bool
	// overage: a period's resource overage is charged when it ends (see chargeOverage).
	overage bool
	// cheap: the cycle-cost change (see run): short activities run as local
	// ones, notices due at one instant go out together, the live schedule is
	// published, and the changes before it are implied at their latest version.
	cheap bool
	// saveFirst (cycle-cost version 2): the live schedule is saved as soon
	// as a step changed it, before the follow-ups it queued run, not only
	// when the workflow next sleeps (see run).
	saveFirst bool
	// batched (cycle-cost version 3): the reminders N > 0 days before the
	// paid-until date (insufficient_funds, expiring) are published with the
	// live schedule and sent by the reminders schedule for every
	// subscription at once (RemindersWorkflow); the workflow doesn't wake up
	// for them. The next period's plan is announced in the database, where
	// both read it (see nextPlan).
	batched bool
	// carries (cycle-cost version 4): the run hands its cycle-cost version
	// to the next one in its input (SubscriptionInput.CycleCost), which
	// takes it without asking (see cycleCost).
	carries bool
	// cost is the run's cycle-cost version.
	cost workflow.Version
	// now is the workflow's clock, for the query handler.
	now func() time.Time
	// carried is a save of the schedule that the next SendNotices makes
	// before it sends, or runFollowups before anything else runs (batched).
	carried *activities.SaveScheduleInput
	// renewedAt is when this run charged its renewal (renewed set): with
	// saveFirst, the schedule shows the next run's view from then (see schedule).
	renewedAt time.Time
	// renewalDue is when the renewal this run charged at its milestone was
	// due: the next run's notices start from it (see continueAsNew).
	renewalDue time.Time
}

// newSubscription validates the input and registers the query and updates
// before anything can block.
func newSubscription(ctx workflow.Context, in SubscriptionInput) (*subscription, error) {
	if in.SubscriptionID <= 0 || in.CustomerID <= 0 {
		return nil, temporal.NewNonRetryableApplicationError("subscription and customer IDs are required", billing.EINVALID, nil)
	}
	w := &subscription{in: in, st: in.State, payments: workflow.GetSignalChannel(ctx, SignalPaymentReceived), mu: workflow.NewMutex(ctx),
		now: func() time.Time { return workflow.Now(ctx) }}
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
	// cycle-cost is the first change ID asked in every run: a run that has
	// it records this one version marker and takes every change before it
	// at its latest version (see version). Runs recorded before it find no
	// marker, get DefaultVersion and ask for the older change IDs as they
	// did, so their histories replay.
	cost := w.cycleCost(ctx)
	w.cheap, w.saveFirst, w.batched, w.carries = cost >= 1, cost >= 2, cost >= 3, cost >= 4
	// One change ID for this round of lifecycle changes: runs recorded before
	// it replay with the old behaviour (DefaultVersion).
	lifecycle := w.version(ctx, "lifecycle-2", 1)
	w.updatesFirst, w.announces, w.chargeFromNow, w.ordersExpire = lifecycle >= 1, lifecycle >= 1, lifecycle >= 1, lifecycle >= 1
	usage := w.version(ctx, "usage-overage", 2)
	w.overage = usage >= 1
	if usage >= 2 && !w.st.UsageTracked {
		// A run before this (one recorded before usage-overage) may have
		// charged metered periods without tracking them: look once.
		w.st.OpenUsage = w.st.OpenUsage || w.st.Period > 0
		w.st.UsageTracked = true
	}
	if !w.in.UpdatesUntil.IsZero() && !w.st.LicenseUpdates && w.st.UpdatesSetAt.IsZero() {
		w.trackUpdates(ctx, w.in.UpdatesUntil) // a license ordered with an updates-until date
	}
	for {
		// Notices and custom steps queued by the last action, also by an update.
		if err := w.step(ctx, func() error {
			if w.saveFirst && len(w.st.Followups) > 0 {
				// The row gets what the last step changed (a late payment's
				// activation, a renewal) before the notices and custom steps
				// it queued, which may take minutes: else GET
				// /subscriptions/{id} shows the old schedule beside the row's
				// new status meanwhile. Unchanged, it costs nothing (see
				// saveSchedule); sleep's save then finds nothing new.
				if w.batched {
					// Saved by the first SendNotices before it sends (one
					// local activity, one marker, instead of two).
					w.carried = w.scheduleToSave(ctx)
				} else {
					w.saveSchedule(ctx)
				}
			}
			return w.runFollowups(ctx)
		}); err != nil {
			return SubscriptionResult{}, err
		}
		w.takePayments()
		if w.final() {
			return w.finish(ctx)
		}
		if w.renewed {
			return w.continueAsNew(ctx)
		}
		if w.st.PaymentPending {
			if err := w.onPayment(ctx); err != nil {
				return SubscriptionResult{}, err
			}
			continue
		}
		if w.st.Status == billing.SubscriptionUnpaid && !slices.Contains(w.st.Done, keyOrder) {
			if err := w.step(ctx, func() error {
				w.st.Done = append(w.st.Done, keyOrder)
				return w.order(ctx)
			}); err != nil {
				return SubscriptionResult{}, err
			}
			continue
		}
		events := w.events()
		now := workflow.Now(ctx)
		if len(events) == 0 || events[0].At.After(now) {
			if err := w.sleep(ctx, events, now); err != nil {
				return SubscriptionResult{}, err
			}
			continue
		}
		// An update may have changed the state while we waited for the
		// mutex: decide again under it.
		if err := w.step(ctx, func() error {
			if w.renewed || w.final() {
				return nil
			}
			events := w.events()
			if len(events) == 0 || events[0].At.After(workflow.Now(ctx)) {
				return nil
			}
			if err := w.handle(ctx, events[0]); err != nil || !w.cheap || !events[0].notice {
				return err
			}
			// The other notices due now go out with it (one SendNotices).
			for _, e := range w.events() {
				if !e.notice || e.At.After(workflow.Now(ctx)) {
					break
				}
				if err := w.handle(ctx, e); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return SubscriptionResult{}, err
		}
	}
}

// sleep waits until the next milestone, a payment or an update.
func (w *subscription) sleep(ctx workflow.Context, events []event, now time.Time) error {
	wake := func() bool { return w.changed || w.payments.Len() > 0 }
	if w.cheap {
		// Before sleeping, the row gets the schedule the query would answer.
		w.saveSchedule(ctx)
		if wake() {
			// AwaitWithOptions would start a timer even so, left to fire
			// for nothing: two timers per wake-up in runs before cycle-cost.
			w.changed = false
			return nil
		}
	}
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

// step runs one step of the main loop under the mutex, after the updates
// already accepted: an action a caller sent before a milestone applies
// before it (a cancel at period end sent while the last notices go out
// comes before the renewal).
func (w *subscription) step(ctx workflow.Context, fn func() error) error {
	if w.updatesFirst {
		if err := workflow.Await(ctx, func() bool { return w.pending == 0 }); err != nil {
			return err
		}
	}
	return w.locked(ctx, fn)
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
		if err := w.chargeOverage(ctx, false); err != nil {
			return err
		}
		err := w.renew(ctx, true)
		if w.renewed {
			w.renewalDue = e.At
		}
		return err
	case keySuspend:
		// A last try before suspending: a payment signal may have been lost.
		if renewed, err := w.tryRenew(ctx); renewed || err != nil {
			return err
		}
		return w.suspend(ctx, reasonUnpaid, suspendedForDebt)
	case keyExpire:
		if err := w.chargeOverage(ctx, false); err != nil {
			return err
		}
		return w.suspend(ctx, reasonExpired, suspendedExpired)
	case keyCancel:
		return w.cancel(ctx)
	case keyExpireOrder:
		// A last try first: a payment signal may have been lost.
		if err := w.order(ctx); err != nil || w.st.Status != billing.SubscriptionUnpaid {
			return err
		}
		return w.expireOrder(ctx, "not paid in time")
	case keyDelete:
		if !w.st.Expired {
			if renewed, err := w.tryRenew(ctx); renewed || err != nil {
				return err
			}
		}
		return w.delete(ctx)
	}
	req := activities.NoticeRequest{Milestone: e.Milestone, Key: w.cycleKey(e.Key), Days: e.Days}
	if e.Milestone == billing.MilestoneLicenseUpdates {
		req.UpdatesUntil = w.st.UpdatesUntil // about the license, not the next period: no plan to read
		w.st.UpdatesNoticed = e.At
		w.follow(e.Milestone, false, req)
		return nil
	}
	if e.Milestone == billing.MilestoneIncoming {
		req.ProductState = true
	}
	plan, err := w.nextPlan(ctx)
	if err != nil {
		return err
	}
	if e.Milestone == billing.MilestoneLowMoney {
		req.OnlyIfBalanceBelow = plan.Price
	}
	w.followAt(e.Milestone, plan, req)
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
	if w.ordersExpire && w.st.OrderedAt.IsZero() {
		w.st.OrderedAt = start
	}
	productID := int64(0)
	if w.announces {
		productID = w.st.NextProductID // changed while the order waited for a payment
	}
	res, refused, err := w.charge(ctx, productID, 1, start, 0)
	if err != nil {
		return err
	}
	if refused != nil && refused.Type() == activities.ErrTooManyUnpaid {
		return w.expireOrder(ctx, "too many orders waiting for a payment")
	}
	if refused != nil {
		w.setDetails(ctx, "ordered, waiting for a payment: "+refused.Message())
		return nil
	}
	w.st.Plan = res.Plan
	w.takePolicy(ctx, res.Policy)
	w.st.Period, w.st.PaidUntil, w.st.PeriodStart, w.st.AnchorDay = 1, res.PaidUntil, start, res.AnchorDay
	w.st.Done = nil
	if w.announces {
		w.st.NextProductID, w.st.NextPlan = 0, nil
	}
	if len(res.MissingParameters) > 0 && w.version(ctx, "order-parameters", 1) >= 1 {
		// Paid, but the service can't be set up without them: wait, and say
		// what is missing. The paid period runs from the charge.
		w.st.Status, w.st.AwaitingParameters = billing.SubscriptionAwaitingParameters, res.MissingParameters
		w.publish(ctx, false)
		req := w.noticeOf(billing.MilestoneParametersNeeded)
		for _, p := range res.MissingParameters {
			req.Parameters += fmt.Sprintf("- %s (%s)\n", p.Title, p.Name)
		}
		w.follow(billing.MilestoneParametersNeeded, false, req)
		w.setDetails(ctx, "paid, waiting for its order parameters")
		return nil
	}
	w.activate(ctx, true)
	return nil
}

// activate makes a paid order active, with the "activated" notice and the
// custom steps; rowWritten: the charge has just written the row.
func (w *subscription) activate(ctx workflow.Context, rowWritten bool) {
	w.st.Status, w.st.AwaitingParameters = billing.SubscriptionActive, nil
	w.publish(ctx, rowWritten)
	w.follow(billing.MilestoneActivated, w.stepsAfterCharge(ctx, w.st.Plan), w.noticeOf(billing.MilestoneActivated))
}

// renew charges the next period from the paid-until date, at the price of
// the product the next period is for. scheduled is true at the renewal
// milestone, where a refusal sends the NSF or declined notice and the
// service waits for a payment until suspension; otherwise a refusal changes
// nothing and is returned.
func (w *subscription) renew(ctx workflow.Context, scheduled bool) error {
	period := w.st.Period + 1
	from, anchor := w.st.PaidUntil, w.st.AnchorDay
	if w.chargeFromNow {
		// Paid late (in grace, say): renew from the old date only if that
		// period still ends in the future; else from now, and the days the
		// service was suspended are not billed.
		p := w.st.Plan
		if w.st.NextProductID != 0 || w.st.NextPlan != nil {
			var err error // judge by the product the period will be charged for
			if p, err = w.nextPlan(ctx); err != nil {
				return err
			}
		}
		if now := workflow.Now(ctx); !periodEnd(p, from, anchor).After(now) {
			from, anchor = now, anchorOf(p, now)
		}
	}
	res, refused, err := w.charge(ctx, w.st.NextProductID, period, from, anchor)
	if err != nil {
		return err
	}
	if refused != nil {
		if !scheduled {
			return refused
		}
		w.st.RenewalFailed = true
		state := billing.MilestoneNSF
		if activities.IsDeclined(refused.Type()) {
			state = billing.MilestoneDeclined
		}
		w.setDetails(ctx, "renewal failed, waiting for a payment: "+refused.Message())
		req := activities.NoticeRequest{Milestone: state, Key: w.cycleKey(state), ProductState: true}
		var tried activities.Plan
		if w.announces && refused.HasDetails() && refused.Details(&tried) == nil && tried.ProductID != 0 {
			w.followAt(state, tried, req) // the plan the charge was refused at
		} else {
			w.follow(state, false, req)
		}
		return nil
	}
	wasSuspended := w.st.Status == billing.SubscriptionSuspended
	w.st.Plan = res.Plan
	w.takePolicy(ctx, res.Policy)
	w.st.Period, w.st.PaidUntil, w.st.AnchorDay = period, res.PaidUntil, res.AnchorDay
	w.st.Status, w.st.SuspendReason, w.st.SuspendedAt, w.st.RenewalFailed = billing.SubscriptionActive, "", time.Time{}, false
	w.st.SuspendedByStaff, w.st.Expired = false, false
	w.st.NextProductID, w.st.NextPlan = 0, nil
	w.publish(ctx, true)
	steps := w.stepsAfterCharge(ctx, res.Plan)
	w.follow(billing.MilestoneRenewed, steps, activities.NoticeRequest{Milestone: billing.MilestoneApproved, Key: billing.MilestoneApproved, ProductState: true},
		w.noticeOf(billing.MilestoneRenewed))
	if wasSuspended {
		w.follow(billing.MilestoneResumed, steps)
	}
	w.renewed, w.renewedAt = true, workflow.Now(ctx)
	return nil
}

// events are the milestones the workflow wakes up for: all of them but the
// reminders, in runs where the reminders schedule sends those (batched).
func (w *subscription) events() []event {
	events := w.st.events(w.policy())
	if w.batched {
		events = slices.DeleteFunc(events, func(e event) bool { return e.reminder })
	}
	return events
}

// reminders are the period's reminders, as the reminders schedule sends
// them, in runs where it does (batched); nil otherwise.
func (w *subscription) reminders() []activities.Reminder {
	if !w.batched {
		return nil
	}
	st := w.shown()
	shown := &subscription{st: st, in: SubscriptionInput{Policy: w.in.Policy}}
	out := []activities.Reminder{}
	for _, e := range st.events(shown.policy()) {
		if e.reminder {
			out = append(out, activities.Reminder{At: e.At, Milestone: e.Milestone, Key: shown.cycleKey(e.Key), Days: e.Days,
				Period: st.Period, PaidUntil: st.PaidUntil, ProductID: st.NextProductID,
				BelowPrice: e.Milestone == billing.MilestoneLowMoney})
		}
	}
	return out
}

// policy is what the milestones fall by: the settings read with the last
// charge, else those the subscription was ordered with.
func (w *subscription) policy() Policy {
	if w.st.Policy != nil {
		return *w.st.Policy
	}
	return w.in.Policy
}

// takePolicy makes the settings a charge read (nil: none stored) the ones the
// milestones fall by from now on. The period the charge begins is scheduled
// with them from its start (a renewal continues as new; an order's period
// starts now), so no milestone of it moves once scheduled. Runs recorded
// before the live-settings change keep their input's policy for ever.
func (w *subscription) takePolicy(ctx workflow.Context, p *Policy) {
	if p != nil && w.version(ctx, "live-settings", 1) >= 1 {
		w.st.Policy = p
	}
}

// stepsAfterCharge says whether to look for custom steps after a charge.
// Version 1 skips the lookup when the product, read by the charge this very
// moment, has no steps and no webhook: one activity less per renewal.
// Histories recorded before it replay with version 0.
func (w *subscription) stepsAfterCharge(ctx workflow.Context, plan activities.Plan) bool {
	if w.version(ctx, "skip-steps-lookup", 1) == workflow.DefaultVersion {
		return true
	}
	return plan.HasSteps
}

// trackUpdates schedules the license_updates_expiring notices before
// until, those due from now on. Histories from before the "license-updates"
// change never had a date; the version keeps a rollback from replaying it.
func (w *subscription) trackUpdates(ctx workflow.Context, until time.Time) {
	if !w.st.LicenseUpdates && w.version(ctx, "license-updates", 1) == workflow.DefaultVersion {
		w.st.UpdatesSetAt = workflow.Now(ctx) // not tracked: never asked again
		return
	}
	w.st.LicenseUpdates, w.st.UpdatesUntil, w.st.UpdatesSetAt = true, until, workflow.Now(ctx)
	w.changed = true
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
	return w.step(ctx, func() error {
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

// expireOrder cancels an unpaid order, for reason, with the "order expired"
// notice: it was never charged.
func (w *subscription) expireOrder(ctx workflow.Context, reason string) error {
	w.st.Status, w.st.SuspendReason = billing.SubscriptionCancelled, reason
	w.publish(ctx, false)
	w.follow(billing.MilestoneOrderExpired, false, w.noticeOf(billing.MilestoneOrderExpired))
	return nil
}

func (w *subscription) suspend(ctx workflow.Context, reason string, kind int) error {
	w.st.Status, w.st.SuspendReason = billing.SubscriptionSuspended, reason
	w.st.SuspendedByStaff, w.st.Expired = kind == suspendedByStaff, kind == suspendedExpired
	w.st.SuspendedAt = workflow.Now(ctx)
	w.st.Cycle++
	w.st.Done = slices.DeleteFunc(w.st.Done, func(k string) bool { return k == keyDelete })
	w.publish(ctx, false)
	w.follow(billing.MilestoneSuspended, true, w.noticeOf(billing.MilestoneSuspended))
	return nil
}

func (w *subscription) cancel(ctx workflow.Context) error {
	if err := w.chargeOverage(ctx, true); err != nil {
		return err
	}
	w.st.Status = billing.SubscriptionCancelled
	w.publish(ctx, false)
	w.follow(billing.MilestoneCancelled, true, w.noticeOf(billing.MilestoneCancelled))
	return nil
}

func (w *subscription) delete(ctx workflow.Context) error {
	if err := w.chargeOverage(ctx, true); err != nil {
		return err
	}
	w.st.Status = billing.SubscriptionDeleted
	w.publish(ctx, false)
	w.follow(billing.MilestoneDeleted, true, w.noticeOf(billing.MilestoneDeleted))
	return nil
}

func (w *subscription) final() bool {
	return w.st.Status == billing.SubscriptionCancelled || w.st.Status == billing.SubscriptionDeleted
}

// drain lets running update handlers end and runs the follow-ups they and
// the main loop queued, again and again until, under the mutex, no handler
// runs and nothing is queued. An update accepted while a follow-up runs (a
// cancel while the renewal's notices go out) is thus completed, answered,
// notified and written before the run ends. Nothing can be accepted between
// the last check and the end of the run: the workflow doesn't yield there.
func (w *subscription) drain(ctx workflow.Context) error {
	if !w.updatesFirst { // runs recorded before the lifecycle-2 change
		if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
			return err
		}
		return w.runFollowups(ctx)
	}
	for {
		if err := workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) }); err != nil {
			return err
		}
		empty := false
		if err := w.locked(ctx, func() error {
			if err := w.runFollowups(ctx); err != nil {
				return err
			}
			empty = workflow.AllHandlersFinished(ctx) && len(w.st.Followups) == 0
			return nil
		}); err != nil {
			return err
		}
		if empty && workflow.AllHandlersFinished(ctx) && len(w.st.Followups) == 0 {
			return nil
		}
	}
}

// finish lets running handlers end, sends the last notices and completes the workflow.
func (w *subscription) finish(ctx workflow.Context) (SubscriptionResult, error) {
	if err := w.drain(ctx); err != nil {
		return SubscriptionResult{}, err
	}
	if w.cheap {
		w.saveSchedule(ctx)
	}
	w.setDetails(ctx, "finished: "+w.st.Status)
	return SubscriptionResult{Status: w.st.Status, Periods: w.st.Period}, nil
}

// continueAsNew starts the next period with a fresh history, after draining
// handlers and follow-ups and taking in payments signalled meanwhile, so
// nothing that arrives at the boundary is lost. An update drained here may
// have ended the service (a cancel): then the workflow finishes instead.
func (w *subscription) continueAsNew(ctx workflow.Context) (SubscriptionResult, error) {
	if err := w.drain(ctx); err != nil {
		return SubscriptionResult{}, err
	}
	if w.updatesFirst && w.final() {
		return w.finish(ctx)
	}
	w.takePayments()
	next := w.in
	if w.carries {
		next.CycleCost = int(w.cost)
	}
	st := w.nextRun(workflow.Now(ctx), func() bool { return w.version(ctx, "license-notices-at-renewal", 1) >= 1 })
	next.State = &st
	return SubscriptionResult{}, workflow.NewContinueAsNewError(ctx, SubscriptionWorkflow, next)
}

// nextRun is the state the next run starts from, continuing as new at now;
// atRenewal says whether the license-notices-at-renewal change applies
// (asked only when it matters).
func (w *subscription) nextRun(now time.Time, atRenewal func() bool) SubscriptionState {
	st := *w.st
	st.Done, st.PeriodStart, st.Cycle = nil, now, 0
	if w.st.LicenseUpdates && !w.renewalDue.IsZero() && atRenewal() {
		// A license notice that fell while the renewal ran (a retried
		// charge, a slow custom step) is sent in the next run, not lost.
		st.PeriodStart = w.renewalDue
	}
	return st
}

// schedule answers QuerySchedule: the live state and the coming milestones.
// Between a renewal and the continue-as-new that follows it (while the
// renewal's notices and custom steps run), runs of cycle-cost version 2
// answer the next run's schedule: this run's has the period's milestones
// all done (no next renewal at all).
func (w *subscription) schedule() (Schedule, error) {
	s := scheduleOf(w.shown(), w.in.Policy, w.batched)
	if w.batched {
		// The reminders whose time has passed are the schedule's (sent, or
		// being sent): not coming.
		now := w.now()
		s.Next = slices.DeleteFunc(s.Next, func(st ScheduledStep) bool { return st.SentBy != "" && !st.At.After(now) })
	}
	return s, nil
}

// shown is the state the schedule shows: the next run's from the renewal
// on, in runs of cycle-cost version 2 (see schedule).
func (w *subscription) shown() *SubscriptionState {
	if w.renewed && w.saveFirst {
		next := w.nextRun(w.renewedAt, func() bool { return true }) // cycle-cost implies the change
		return &next
	}
	return w.st
}

// scheduleOf is the schedule of state st; policy is the input's; batched:
// the reminders are the reminders schedule's.
func scheduleOf(st *SubscriptionState, policy Policy, batched bool) Schedule {
	w := &subscription{st: st, in: SubscriptionInput{Policy: policy}}
	s := Schedule{Status: w.st.Status, Period: w.st.Period, AutoRenew: w.st.AutoRenew, AnchorDay: w.st.AnchorDay,
		CancelAtPeriodEnd: w.st.CancelAtPeriodEnd, SuspendReason: w.st.SuspendReason,
		WaitingForPayment: w.st.Status == billing.SubscriptionUnpaid || w.st.RenewalFailed ||
			(w.st.Status == billing.SubscriptionSuspended && !w.st.SuspendedByStaff && !w.st.Expired),
		NextProductID: w.st.NextProductID, Price: w.st.Plan.Price, Currency: w.st.Plan.Currency, Next: []ScheduledStep{},
		AwaitingParameters: slices.Clone(w.st.AwaitingParameters)}
	if w.st.NextPlan != nil {
		s.Price, s.Currency, s.PriceAnnounced = w.st.NextPlan.Price, w.st.NextPlan.Currency, true
	}
	if !w.st.PaidUntil.IsZero() {
		d := w.st.PaidUntil
		s.PaidUntil = &d
	}
	for _, e := range w.st.events(w.policy()) {
		step := ScheduledStep{Milestone: e.Milestone, At: e.At}
		if e.notice {
			step.Detail = fmt.Sprintf("notice, %d days before", e.Days)
		}
		if e.reminder && batched {
			step.SentBy = SentByReminders
		}
		s.Next = append(s.Next, step)
	}
	return s
}

// LatestCycleCost is the newest cycle-cost version this code runs (a
// variable only so that a test can play a later build).
var LatestCycleCost workflow.Version = 4

// cycleCost is the run's cycle-cost version. A run of version 4 or later
// hands its version to the next run (continueAsNew), which takes it
// without asking when it is the newest this code knows: each period's run
// then records no version marker and no TemporalChangeVersion search
// attribute (the continue-as-new copies the last one upserted). Replaying,
// it asks all the same (a replay records nothing): a marker that another
// build recorded in this run wins, and without one it takes the carried
// version, as the run did. A later build (a newer version) asks too, and
// running, records the newer version, which the next run carries. A
// version newer than this code knows fails the task, as GetVersion does,
// until a worker of a build that knows it takes it.
func (w *subscription) cycleCost(ctx workflow.Context) workflow.Version {
	carried := workflow.Version(w.in.CycleCost)
	if carried > LatestCycleCost {
		panic(fmt.Sprintf("workflow code is too old for cycle-cost version %d (the newest it knows is %d)", carried, LatestCycleCost))
	}
	w.cost = carried
	if carried < 4 || carried != LatestCycleCost || workflow.IsReplaying(ctx) {
		if v := workflow.GetVersion(ctx, "cycle-cost", workflow.DefaultVersion, LatestCycleCost); v != workflow.DefaultVersion || carried < 4 {
			w.cost = v
		}
	}
	return w.cost
}

// beforeCycleCost are the changes made before cycle-cost, at the version
// each had then: runs of cycle-cost take them at that version without a
// marker of their own. The list is frozen: a later change gets a change ID
// of its own (version records its marker), never a higher version here, or
// the runs recorded before it would replay another way.
var beforeCycleCost = map[string]workflow.Version{
	"lifecycle-2": 1, "usage-overage": 2, "order-parameters": 1, "live-settings": 1, "skip-steps-lookup": 1,
	"license-updates": 1, "license-notices-at-renewal": 1, "parameters-needed-dropped": 1, "cancel-order-refunds": 1,
	"parameters-missing-now": 1, "parameters-activation-now": 1,
}

// version is workflow.GetVersion, but runs of cycle-cost take a change made
// before it (beforeCycleCost) at its version then, without a marker.
func (w *subscription) version(ctx workflow.Context, changeID string, maxSupported workflow.Version) workflow.Version {
	if v, ok := beforeCycleCost[changeID]; ok && w.cheap {
		return v
	}
	return workflow.GetVersion(ctx, changeID, workflow.DefaultVersion, maxSupported)
}
