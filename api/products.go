package api

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/webhook"
)

func (s *Server) createProduct(c echo.Context) error {
	var in billing.ProductInput
	if err := bind(c, &in); err != nil {
		return err
	}
	if err := s.validateProduct(c.Request().Context(), &in); err != nil {
		return err
	}
	p, err := s.store.CreateProduct(c.Request().Context(), in.Product())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, p)
}

// listProducts answers staff with whole products and clients with the
// catalogue: active products, as clients see them.
func (s *Server) listProducts(c echo.Context) error {
	q := query{c: c}
	status := q.oneOf("status", billing.ProductActive, billing.ProductArchived)
	client := principalOf(c).IsClient()
	if client {
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
	if client {
		settings, err := s.settings(c.Request().Context())
		if err != nil {
			return err
		}
		out := billing.Page[billing.ProductForClient]{Items: make([]billing.ProductForClient, 0, len(page.Items)),
			Total: page.Total, Limit: page.Limit, Offset: page.Offset}
		for _, p := range page.Items {
			out.Items = append(out.Items, p.ForClient(settings.GraceDays))
		}
		return c.JSON(http.StatusOK, out)
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
	if principalOf(c).IsClient() {
		if p.Status != billing.ProductActive {
			return billing.NotFound("product", id)
		}
		settings, err := s.settings(c.Request().Context())
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, p.ForClient(settings.GraceDays))
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
	if err := s.validateProduct(c.Request().Context(), &in); err != nil {
		return err
	}
	p, err := s.store.UpdateProduct(c.Request().Context(), id, in.Product())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// validateProduct checks in, and that its webhook URL leads to a public
// address unless private ones are allowed: the worker checks again when it
// sends, since a name can resolve elsewhere later.
func (s *Server) validateProduct(ctx context.Context, in *billing.ProductInput) error {
	if err := in.Validate(s.stepNames); err != nil {
		return err
	}
	if in.WebhookURL == "" || s.allowPrivateWebhooks {
		return nil
	}
	if err := webhook.CheckURL(ctx, in.WebhookURL); err != nil {
		var v billing.Validator
		v.Check(false, "webhook_url", "must lead to a public internet address: "+err.Error()+
			"; webhooks to loopback or private networks need WEBHOOK_ALLOW_PRIVATE=true on the API and the worker")
		return v.Err()
	}
	return nil
}
