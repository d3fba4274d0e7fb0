package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
)

// listIncidents answers a customer's support incident balance and its
// history, newest first. A client doesn't see who granted or why.
func (s *Server) listIncidents(c echo.Context) error {
	id, err := pathID(c, "id", "customer")
	if err != nil {
		return err
	}
	q := query{c: c}
	pr := q.page()
	if err := q.v.Err(); err != nil {
		return err
	}
	out, err := s.store.Incidents(c.Request().Context(), id, pr.Limit, pr.Offset)
	if err != nil {
		return err
	}
	if principalOf(c).IsClient() {
		for i, e := range out.Items {
			out.Items[i] = e.ForClient()
		}
	}
	return c.JSON(http.StatusOK, out)
}

// grantIncidents grants a customer support incidents (a positive count) or
// takes some back (a negative one, never below 0). The same
// Idempotency-Key returns the same entry (200); without one, each request
// grants.
func (s *Server) grantIncidents(c echo.Context) error {
	id, err := pathID(c, "id", "customer")
	if err != nil {
		return err
	}
	var in billing.IncidentGrantInput
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
	e, created, err := s.store.GrantIncidents(c.Request().Context(), id, principalOf(c).StaffID, in, key)
	if err != nil {
		return err
	}
	if !created {
		return c.JSON(http.StatusOK, e)
	}
	return c.JSON(http.StatusCreated, e)
}
