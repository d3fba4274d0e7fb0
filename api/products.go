package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
)

func (s *Server) createProduct(c echo.Context) error {
	var in billing.ProductInput
	if err := bind(c, &in); err != nil {
		return err
	}
	if err := in.Validate(s.stepNames); err != nil {
		return err
	}
	p, err := s.store.CreateProduct(c.Request().Context(), in.Product())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, p)
}

func (s *Server) listProducts(c echo.Context) error {
	q := query{c: c}
	status := q.oneOf("status", billing.ProductActive, billing.ProductArchived)
	if principalOf(c).IsClient() {
		status = billing.ProductActive // clients see the catalogue, not retired products
	}
	pr := q.page()
	if err := q.v.Err(); err != nil {
		return err
	}
	page, err := s.store.Products(c.Request().Context(), status, pr.Limit, pr.Offset)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

func (s *Server) getProduct(c echo.Context) error {
	id, err := pathID(c, "id", "product")
	if err != nil {
		return err
	}
	p, err := s.store.Product(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if principalOf(c).IsClient() && p.Status != billing.ProductActive {
		return billing.NotFound("product", id)
	}
	return c.JSON(http.StatusOK, p)
}

func (s *Server) updateProduct(c echo.Context) error {
	id, err := pathID(c, "id", "product")
	if err != nil {
		return err
	}
	var in billing.ProductInput
	if err := bind(c, &in); err != nil {
		return err
	}
	if err := in.Validate(s.stepNames); err != nil {
		return err
	}
	p, err := s.store.UpdateProduct(c.Request().Context(), id, in.Product())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}
