package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/workflows"
)

// SubscriptionView is a subscription's row and, while its workflow runs,
// its live schedule: status, paid-until date and the coming milestones.
type SubscriptionView struct {
	billing.Subscription
	Schedule *workflows.Schedule `json:"schedule"`
}

// createSubscription orders a product and starts the subscription's
// workflow. The same Idempotency-Key returns the same subscription.
func (s *Server) createSubscription(c echo.Context) error {
	var in billing.SubscriptionCreate
	if err := bind(c, &in); err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return err
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	p := principalOf(c)
	if p.IsClient() && in.CustomerID != p.CustomerID {
		return billing.NotFound("customer", in.CustomerID)
	}
	ctx := c.Request().Context()
	if p.IsClient() {
		// A self-registered client orders once their address is confirmed.
		pending, err := s.store.ActivationPending(ctx, p.CustomerID)
		if err != nil {
			return err
		}
		if pending {
			return billing.Errorf(billing.EFORBIDDEN, "confirm your email address first: open the link sent to it, "+
				"or ask for a new one with POST /api/v1/auth/activation/resend")
		}
	}
	settings, err := s.settings(ctx)
	if err != nil {
		return err
	}
	order, err := s.store.CreateSubscription(ctx, in, key, settings.MaxUnpaidOrders)
	if err != nil {
		return err
	}
	sub := order.Subscription
	// Starting a workflow that runs (or ran) is a no-op: a repeated order finds it.
	if _, err := s.workflows.Start(ctx, workflows.SubscriptionInput{SubscriptionID: sub.ID, CustomerID: sub.CustomerID,
		AutoRenew: sub.AutoRenew, Policy: settings.Policy(), UpdatesUntil: deref(sub.UpdatesUntil)}, order.Product); err != nil {
		s.removeUnstarted(context.WithoutCancel(ctx), sub)
		return err
	}
	status := http.StatusCreated
	if !order.Created {
		status = http.StatusOK
	}
	return c.JSON(status, SubscriptionView{Subscription: sub})
}

// removeUnstarted deletes the row of an order whose workflow did not start,
// so that a failed request leaves nothing behind. If the start may have
// reached Temporal after all, the row stays: a retry with the same
// Idempotency-Key then finds it.
func (s *Server) removeUnstarted(ctx context.Context, sub billing.Subscription) {
	started, err := s.workflows.Started(ctx, sub.ID)
	if started || err != nil {
		s.log.Warn("order kept for the reconciler: its workflow may have started", "subscription", sub.ID, "err", err)
		return
	}
	if err := s.store.DeleteUnstartedSubscription(ctx, sub.ID); err != nil {
		s.log.Error("unstarted subscription not removed", "subscription", sub.ID, "err", err)
	}
}

// idempotencyKey reads the request's optional Idempotency-Key header.
func idempotencyKey(c echo.Context) (string, error) {
	key := c.Request().Header.Get("Idempotency-Key")
	var v billing.Validator
	v.OptionalText("Idempotency-Key", key, 200)
	return key, v.Err()
}

// ReconcileAfter is how old an order without a known workflow must be before
// Reconcile looks at it: older than any request that may still be starting it.
const ReconcileAfter = 2 * time.Minute

// Reconcile settles the orders whose workflow start failed or was never
// confirmed (Temporal was unreachable): an order whose workflow runs is
// marked started; one whose workflow never started is removed, as its client
// was told the order failed (503). It stops at the first Temporal error:
// Temporal is still away, and the next run tries again. No order row lives
// without its workflow for longer than Temporal's outage plus a run.
func (s *Server) Reconcile(ctx context.Context, age time.Duration) (started, removed int, err error) {
	subs, err := s.store.UnstartedSubscriptions(ctx, age)
	if err != nil {
		return 0, 0, err
	}
	for _, sub := range subs {
		ok, err := s.workflows.Started(ctx, sub.ID)
		switch {
		case err != nil:
			return started, removed, err
		case ok:
			if err := s.store.MarkWorkflowStarted(ctx, sub.ID); err != nil {
				return started, removed, err
			}
			started++
		default:
			e := billing.NewAuditEntry(billing.Principal{Kind: billing.ActorSystem}, "removeUnstartedOrder", "")
			e.SetObject("subscription", sub.ID, sub.CustomerID)
			if err := s.store.DeleteUnstartedSubscription(ctx, sub.ID); err != nil {
				return started, removed, err
			}
			if err := s.store.Audit(ctx, e); err != nil {
				s.log.Warn("removal of an unstarted order not audited", "subscription", sub.ID, "err", err)
			}
			removed++
		}
	}
	return started, removed, nil
}

// RunReconciler runs Reconcile every interval until ctx ends.
func (s *Server) RunReconciler(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.syncGatewaySchedules(ctx)
		started, removed, err := s.Reconcile(ctx, ReconcileAfter)
		if err != nil && ctx.Err() == nil {
			s.log.Warn("orders not reconciled yet", "err", err)
		}
		if started+removed > 0 {
			s.log.Info("orders reconciled", "started", started, "removed", removed)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (s *Server) listSubscriptions(c echo.Context) error {
	q := query{c: c}
	f := billing.SubscriptionFilter{
		CustomerID: q.id("customer_id"),
		ProductID:  q.id("product_id"),
		Status: q.oneOf("status", billing.SubscriptionUnpaid, billing.SubscriptionActive, billing.SubscriptionSuspended,
			billing.SubscriptionCancelled, billing.SubscriptionDeleted, billing.SubscriptionAwaitingParameters),
		PageRequest: q.page(),
	}
	if err := q.v.Err(); err != nil {
		return err
	}
	if err := ownCustomerFilter(c, &f.CustomerID); err != nil {
		return err
	}
	page, err := s.store.Subscriptions(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

// subscriptionOf loads the :id subscription; a client's view of another
// customer's subscription is not found.
func (s *Server) subscriptionOf(c echo.Context) (billing.Subscription, error) {
	id, err := pathID(c, "id", "subscription")
	if err != nil {
		return billing.Subscription{}, err
	}
	sub, err := s.store.Subscription(c.Request().Context(), id)
	if err != nil {
		return sub, err
	}
	return sub, visible(c, sub)
}

// visible says not found when sub is not the caller's to see (a client's
// view of another customer's), and names it in the request's audit entry.
func visible(c echo.Context, sub billing.Subscription) error {
	if p := principalOf(c); p.IsClient() && sub.CustomerID != p.CustomerID {
		return billing.NotFound("subscription", sub.ID)
	}
	if e := billing.AuditFrom(c.Request().Context()); e != nil {
		e.SetObject("subscription", sub.ID, sub.CustomerID)
	}
	return nil
}

// getSubscription answers the row and the live schedule: the one the
// workflow published to the database, read with the row in one query. A
// workflow that has published none yet (started before they were
// published) is asked with a query, which costs a worker round trip and,
// on Temporal Cloud, an action.
func (s *Server) getSubscription(c echo.Context) error {
	id, err := pathID(c, "id", "subscription")
	if err != nil {
		return err
	}
	snap, err := s.store.SubscriptionWithSchedule(c.Request().Context(), id)
	if err != nil {
		return err
	}
	sub := snap.Subscription
	if err := visible(c, sub); err != nil {
		return err
	}
	view := SubscriptionView{Subscription: sub}
	if sub.Status == billing.SubscriptionCancelled || sub.Status == billing.SubscriptionDeleted {
		return c.JSON(http.StatusOK, view)
	}
	sched, ok := s.storedSchedule(sub.ID, snap.Schedule)
	if ok {
		if !sched.PriceAnnounced && snap.NextPrice.Currency != "" {
			// The reminders schedule may have announced it since the workflow saved.
			sched.Price, sched.Currency, sched.PriceAnnounced = snap.NextPrice.Amount, snap.NextPrice.Currency, snap.NextAnnounced
		}
		// Reminders are sent by the reminders schedule, between the
		// workflow's saves: those whose time has passed are not coming.
		now := time.Now()
		sched.Next = slices.DeleteFunc(sched.Next, func(st workflows.ScheduledStep) bool {
			return st.SentBy != "" && !st.At.After(now)
		})
	} else {
		if sched, err = s.workflows.Schedule(c.Request().Context(), sub.ID); err != nil {
			s.log.Warn("schedule query failed", "subscription", sub.ID, "err", err)
			return c.JSON(http.StatusOK, view)
		}
		if err := s.nextPrice(c, sub, &sched); err != nil {
			return err
		}
	}
	view.Schedule = &sched
	return c.JSON(http.StatusOK, view)
}

// storedSchedule decodes the schedule a workflow published; false if there
// is none or it can't be read (then the workflow is asked).
func (s *Server) storedSchedule(id int64, stored []byte) (workflows.Schedule, bool) {
	var sched workflows.Schedule
	if stored == nil {
		return sched, false
	}
	if err := json.Unmarshal(stored, &sched); err != nil {
		s.log.Warn("stored schedule unreadable; asking the workflow", "subscription", id, "err", err)
		return sched, false
	}
	return sched, true
}

// nextPrice shows, until the next period is announced, the price it will be
// charged at: its product's price now (the workflow reads it only at the
// period's first notice).
func (s *Server) nextPrice(c echo.Context, sub billing.Subscription, sched *workflows.Schedule) error {
	if sched.PriceAnnounced {
		return nil
	}
	id := sub.ProductID
	if sched.NextProductID != 0 {
		id = sched.NextProductID
	}
	p, err := s.store.Product(c.Request().Context(), id)
	if err != nil {
		return err
	}
	sched.Price, sched.Currency = p.Price, p.Currency
	return nil
}

func (s *Server) listNotices(c echo.Context) error {
	sub, err := s.subscriptionOf(c)
	if err != nil {
		return err
	}
	notices, err := s.store.Notices(c.Request().Context(), sub.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": notices})
}

// SuspendRequest, CancelRequest and the others are the bodies of the staff
// actions on a subscription.
type (
	SuspendRequest struct {
		Reason string `json:"reason"`
	}
	CancelRequest struct {
		AtPeriodEnd bool `json:"at_period_end"`
	}
	ChangeProductRequest struct {
		ProductID int64 `json:"product_id"`
	}
	AutoRenewRequest struct {
		Enabled *bool `json:"enabled"`
	}
	ExtendRequest struct {
		Days int `json:"days"`
	}
	UpdatesUntilRequest struct {
		UpdatesUntil *time.Time `json:"updates_until"`
	}
	ParametersRequest struct {
		Parameters map[string]string `json:"parameters"`
	}
)

func (s *Server) suspendSubscription(c echo.Context) error {
	var in SuspendRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	var v billing.Validator
	v.Text("reason", in.Reason, 500)
	if err := v.Err(); err != nil {
		return err
	}
	return s.act(c, workflows.SuspendInput{Reason: in.Reason})
}

func (s *Server) resumeSubscription(c echo.Context) error {
	return s.act(c, workflows.ResumeInput{})
}

func (s *Server) cancelSubscription(c echo.Context) error {
	var in CancelRequest // the body is optional: none cancels now
	if err := bind(c, &in); err != nil {
		return err
	}
	return s.act(c, workflows.CancelInput{AtPeriodEnd: in.AtPeriodEnd})
}

// renewSubscription charges the next period now. It names the period, so a
// repeated click can't charge two.
func (s *Server) renewSubscription(c echo.Context) error {
	sub, err := s.subscriptionOf(c)
	if err != nil {
		return err
	}
	sched, err := s.workflows.Schedule(c.Request().Context(), sub.ID)
	if err != nil {
		return err
	}
	return s.act(c, workflows.RenewNowInput{Period: sched.Period + 1})
}

func (s *Server) changeProduct(c echo.Context) error {
	var in ChangeProductRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	var v billing.Validator
	v.Check(in.ProductID > 0, "product_id", "is required")
	if err := v.Err(); err != nil {
		return err
	}
	p, err := s.store.Product(c.Request().Context(), in.ProductID)
	if err != nil {
		return err
	}
	if p.Status != billing.ProductActive {
		return billing.Errorf(billing.ECONFLICT, "product %d is archived", p.ID)
	}
	return s.act(c, workflows.ChangeProductInput{ProductID: in.ProductID})
}

func (s *Server) setAutoRenew(c echo.Context) error {
	var in AutoRenewRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	var v billing.Validator
	v.Check(in.Enabled != nil, "enabled", "is required: true or false")
	if err := v.Err(); err != nil {
		return err
	}
	return s.act(c, workflows.SetAutoRenewInput{Enabled: *in.Enabled})
}

func (s *Server) extendSubscription(c echo.Context) error {
	var in ExtendRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	var v billing.Validator
	v.Check(in.Days >= 1 && in.Days <= 3650, "days", "must be 1 to 3650")
	if err := v.Err(); err != nil {
		return err
	}
	return s.act(c, workflows.ExtendInput{Days: in.Days})
}

// setUpdatesUntil moves a license's updates-until date (staff): the
// workflow schedules its notices before the new date, then the row shows it.
func (s *Server) setUpdatesUntil(c echo.Context) error {
	var in UpdatesUntilRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	var v billing.Validator
	v.Check(in.UpdatesUntil != nil, "updates_until", "is required: a date and time (RFC 3339)")
	if err := v.Err(); err != nil {
		return err
	}
	sub, err := s.subscriptionOf(c)
	if err != nil {
		return err
	}
	p, err := s.store.Product(c.Request().Context(), sub.ProductID)
	if err != nil {
		return err
	}
	if p.Kind != billing.KindLicense {
		return billing.Errorf(billing.ECONFLICT, "only a license has an updates-until date; product %d is of kind %q", p.ID, p.Kind)
	}
	at := in.UpdatesUntil.UTC()
	return s.actThen(c, sub, workflows.SetUpdatesUntilInput{At: at}, func(ctx context.Context) error {
		return s.store.SetUpdatesUntil(ctx, sub.ID, at)
	})
}

// setParameters stores order parameters (the client's own, or staff) and
// tells the workflow: a paid order waiting for them activates once none it
// needs is missing. Stored first, so a charge running meanwhile reads them,
// or the update that follows it activates the service.
func (s *Server) setParameters(c echo.Context) error {
	var in ParametersRequest
	if err := bind(c, &in); err != nil {
		return err
	}
	var v billing.Validator
	v.Check(len(in.Parameters) > 0, "parameters", "is required: the order parameters to set, by name")
	if err := v.Err(); err != nil {
		return err
	}
	sub, err := s.subscriptionOf(c)
	if err != nil {
		return err
	}
	given, missing, err := s.store.SetParameters(c.Request().Context(), sub.ID, in.Parameters)
	if err != nil {
		return err
	}
	return s.actThen(c, sub, workflows.SetParametersInput{Given: given, Missing: missing, Checked: true}, nil)
}

func deref(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// act sends a staff or client action to the subscription's workflow and
// answers with the new schedule. A rejected action leaves no trace.
func (s *Server) act(c echo.Context, action workflows.Action) error {
	sub, err := s.subscriptionOf(c)
	if err != nil {
		return err
	}
	return s.actThen(c, sub, action, nil)
}

// actThen is act for sub, with then (if not nil) run once the workflow
// accepted the action, before it is audited and answered.
func (s *Server) actThen(c echo.Context, sub billing.Subscription, action workflows.Action, then func(context.Context) error) error {
	// The same Idempotency-Key is the same action: Temporal runs it once.
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	sched, err := s.workflows.Act(c.Request().Context(), sub.ID, action, key)
	if errors.Is(err, workflows.ErrActionRunning) {
		// Accepted and still running: say so instead of inviting a retry.
		return c.JSON(http.StatusAccepted, map[string]string{"status": "accepted",
			"message": "the action was accepted and is still running; see GET /api/v1/subscriptions/" + fmt.Sprint(sub.ID)})
	}
	if err != nil {
		return err
	}
	if then != nil {
		if err := then(c.Request().Context()); err != nil {
			return err
		}
	}
	if e := billing.AuditFrom(c.Request().Context()); e != nil {
		e.Details["update"] = action.UpdateName()
		if err := s.store.Audit(c.Request().Context(), e); err != nil {
			return err
		}
	}
	sub, err = s.store.Subscription(c.Request().Context(), sub.ID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, SubscriptionView{Subscription: sub, Schedule: &sched})
}

// paymentReceived tells every live subscription of the customer that money
// arrived, so that those waiting for it charge now. The credit is already
// committed; a signal that fails is logged, and the subscription charges at
// its next milestone.
func (s *Server) paymentReceived(ctx context.Context, customerID, paymentID int64) {
	ctx = context.WithoutCancel(ctx) // the credit is committed: tell them even if the client left
	ids, err := s.store.LiveSubscriptionIDs(ctx, customerID)
	if err != nil {
		s.log.Error("payment not signalled", "customer", customerID, "err", err)
		return
	}
	for _, id := range ids {
		if err := s.workflows.PaymentReceived(ctx, id, paymentID); err != nil {
			s.log.Warn("payment not signalled to subscription", "subscription", id, "err", err)
		}
	}
}
