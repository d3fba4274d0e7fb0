package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
)

func (s *Server) getBalance(c echo.Context) error {
	id, err := pathID(c, "id", "customer")
	if err != nil {
		return err
	}
	b, err := s.store.Balance(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, b)
}

func (s *Server) listLedger(c echo.Context) error {
	id, err := pathID(c, "id", "customer")
	if err != nil {
		return err
	}
	q := query{c: c}
	pr := q.page()
	if err := q.v.Err(); err != nil {
		return err
	}
	page, err := s.store.Ledger(c.Request().Context(), id, pr.Limit, pr.Offset)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

func (s *Server) createAdjustment(c echo.Context) error {
	id, err := pathID(c, "id", "customer")
	if err != nil {
		return err
	}
	var in billing.Adjustment
	if err := bind(c, &in); err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return err
	}
	e, err := s.store.Adjust(c.Request().Context(), id, in)
	if err != nil {
		return err
	}
	if e.Kind == billing.Credit {
		s.paymentReceived(c.Request().Context(), id, 0)
	}
	return c.JSON(http.StatusCreated, e)
}
