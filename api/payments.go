package api

import (
	"context"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/notices"
	"github.com/tempobill/billing/store"
	"github.com/tempobill/billing/zoneinfo"
)

func (s *Server) createPayment(c echo.Context) error {
	var in billing.PaymentCreate
	if err := bind(c, &in); err != nil {
		return err
	}
	if p := principalOf(c); p.IsClient() && in.CustomerID != p.CustomerID {
		return billing.NotFound("customer", in.CustomerID)
	}
	if err := in.Validate(); err != nil {
		return err
	}
	p, err := s.store.CreatePayment(c.Request().Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, p)
}

func (s *Server) listPayments(c echo.Context) error {
	q := query{c: c}
	f := billing.PaymentFilter{
		CustomerID:  q.id("customer_id"),
		Status:      q.oneOf("status", billing.PaymentNew, billing.PaymentPaid, billing.PaymentCancelled),
		PageRequest: q.page(),
	}
	if err := q.v.Err(); err != nil {
		return err
	}
	if err := ownCustomerFilter(c, &f.CustomerID); err != nil {
		return err
	}
	page, err := s.store.Payments(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

func (s *Server) getPayment(c echo.Context) error {
	id, err := pathID(c, "id", "payment")
	if err != nil {
		return err
	}
	p, err := s.store.Payment(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if who := principalOf(c); who.IsClient() && p.CustomerID != who.CustomerID {
		return billing.NotFound("payment", id)
	}
	return c.JSON(http.StatusOK, p)
}

func (s *Server) markPaymentPaid(c echo.Context) error {
	id, err := pathID(c, "id", "payment")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var p billing.Payment
	// The credit and its notices land together or not at all.
	err = s.store.Tx(ctx, func(st *store.Store) error {
		before, err := st.Payment(ctx, id)
		if err != nil {
			return err
		}
		if p, err = st.MarkPaymentPaid(ctx, id); err != nil || before.Status == billing.PaymentPaid {
			return err
		}
		return s.paymentNotices(ctx, st, p)
	})
	if err != nil {
		return err
	}
	s.paymentReceived(ctx, p.CustomerID, p.ID)
	// The credit is committed: a verification notice that can't be queued
	// is logged, and the next payment marked paid tries again.
	if err := s.afterFirstPayment(context.WithoutCancel(ctx), p.CustomerID); err != nil {
		s.log.Error("account verification not queued", "customer", p.CustomerID, "err", err)
	}
	return c.JSON(http.StatusOK, p)
}

// paymentNotices queues, in st (the transaction that marked p paid), the
// payment_received notice and, when the customer has orders waiting for
// their first charge, funds_for_order; both keyed by the payment, so once
// per payment. The orders are listed as they are before the subscriptions
// hear of the payment (after the commit): those the balance covers are
// charged right after, which is what the notice says.
func (s *Server) paymentNotices(ctx context.Context, st *store.Store, p billing.Payment) error {
	cust, err := st.Customer(ctx, p.CustomerID)
	if err != nil {
		return err
	}
	bal, err := st.Balance(ctx, p.CustomerID)
	if err != nil {
		return err
	}
	balance := billing.Money{Amount: bal.Of(p.Currency), Currency: p.Currency}.String()
	key := strconv.FormatInt(p.ID, 10)
	method := map[string]string{billing.MethodWireTransfer: "wire transfer", billing.MethodElectronic: "electronic payment"}[p.Method]
	paid := time.Now()
	if p.PaidAt != nil {
		paid = *p.PaidAt
	}
	if err := s.queue(ctx, st, activities.SendEventInput{Event: notices.EventPaymentReceived, CustomerID: p.CustomerID,
		ObjectType: notices.ObjectPayment, ObjectID: key, Vars: map[string]string{
			"[AMOUNT]": billing.Money{Amount: p.Amount, Currency: p.Currency}.String(), "[CURRENCY]": p.Currency,
			"[METHOD]": method, "[DATE]": paid.In(zoneinfo.Load(cust.TimeZone)).Format("2006-01-02 15:04 MST"),
			"[BALANCE]": balance}}); err != nil {
		return err
	}
	orders, err := st.UnpaidOrders(ctx, p.CustomerID)
	if err != nil || len(orders) == 0 {
		return err
	}
	var lines []string
	totals, over := map[string]int64{}, map[string]bool{}
	for _, o := range orders {
		lines = append(lines, fmt.Sprintf("- %s (#%d): %s", o.ProductName, o.SubscriptionID, o.Price))
		if cur := o.Price.Currency; totals[cur] > math.MaxInt64-o.Price.Amount {
			over[cur] = true // ten orders at the highest price; the total says "more than"
		} else {
			totals[cur] += o.Price.Amount
		}
	}
	var total, balances []string
	for _, cur := range slices.Sorted(maps.Keys(totals)) {
		t := billing.Money{Amount: totals[cur], Currency: cur}.String()
		if over[cur] {
			t = "more than " + t
		}
		total = append(total, t)
		balances = append(balances, billing.Money{Amount: bal.Of(cur), Currency: cur}.String())
	}
	return s.queue(ctx, st, activities.SendEventInput{Event: notices.EventFundsForOrder, CustomerID: p.CustomerID,
		ObjectType: notices.ObjectPayment, ObjectID: key, Vars: map[string]string{
			"[AMOUNT]": billing.Money{Amount: p.Amount, Currency: p.Currency}.String(), "[ORDERS]": strings.Join(lines, "\n"),
			"[ORDERS_TOTAL]": strings.Join(total, ", "), "[BALANCE]": strings.Join(balances, ", ")}})
}

func (s *Server) cancelPayment(c echo.Context) error {
	id, err := pathID(c, "id", "payment")
	if err != nil {
		return err
	}
	p, err := s.store.CancelPayment(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}
