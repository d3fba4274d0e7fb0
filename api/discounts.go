package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
)

func (s *Server) listDiscounts(c echo.Context) error {
	id, err := pathID(c, "id", "customer")
	if err != nil {
		return err
	}
	ds, err := s.store.Discounts(c.Request().Context(), id)
	if err != nil {
		return err
	}
	for i := range ds {
		ds[i] = forViewer(c, ds[i])
	}
	return c.JSON(http.StatusOK, map[string]any{"items": ds})
}

func (s *Server) createDiscount(c echo.Context) error {
	id, err := pathID(c, "id", "customer")
	if err != nil {
		return err
	}
	var in billing.DiscountInput
	if err := bind(c, &in); err != nil {
		return err
	}
	d, err := s.store.CreateDiscount(c.Request().Context(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, d)
}

func (s *Server) getDiscount(c echo.Context) error {
	id, discountID, err := nestedIDs(c, "discount_id", "discount")
	if err != nil {
		return err
	}
	d, err := s.store.Discount(c.Request().Context(), id, discountID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, forViewer(c, d))
}

// forViewer is d as the caller may see it: a client doesn't see staff's note.
func forViewer(c echo.Context, d billing.Discount) billing.Discount {
	if principalOf(c).IsClient() {
		d.Note = ""
	}
	return d
}

func (s *Server) updateDiscount(c echo.Context) error {
	id, discountID, err := nestedIDs(c, "discount_id", "discount")
	if err != nil {
		return err
	}
	var in billing.DiscountInput
	if err := bind(c, &in); err != nil {
		return err
	}
	d, err := s.store.UpdateDiscount(c.Request().Context(), id, discountID, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

// endDiscount ends a discount now rather than erasing it: charges name it.
func (s *Server) endDiscount(c echo.Context) error {
	id, discountID, err := nestedIDs(c, "discount_id", "discount")
	if err != nil {
		return err
	}
	d, err := s.store.EndDiscount(c.Request().Context(), id, discountID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}
