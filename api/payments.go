package api

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
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
	p, err := s.store.MarkPaymentPaid(c.Request().Context(), id)
	if err != nil {
		return err
	}
	s.paymentReceived(c.Request().Context(), p.CustomerID, p.ID)
	// The credit is committed: a verification notice that can't be queued
	// is logged, and the next payment marked paid tries again.
	if err := s.afterFirstPayment(context.WithoutCancel(c.Request().Context()), p.CustomerID); err != nil {
		s.log.Error("account verification not queued", "customer", p.CustomerID, "err", err)
	}
	return c.JSON(http.StatusOK, p)
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
