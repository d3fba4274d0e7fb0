package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/store"
)

// reportUsage counts a batch of a subscription's usage events (staff with
// subscriptions.write, or an API key with it: a switch, a hypervisor) in one
// transaction, with the threshold notices it makes due.
func (s *Server) reportUsage(c echo.Context) error {
	sub, err := s.subscriptionOf(c)
	if err != nil {
		return err
	}
	var in billing.UsageInput
	if err := bind(c, &in); err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	settings, err := s.settings(ctx)
	if err != nil {
		return err
	}
	var res store.Ingested
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		if res, err = tx.IngestUsage(ctx, sub.ID, in.Events, time.Now(), settings.ResourceNotifyPercent); err != nil || len(res.Crossings) == 0 {
			return err
		}
		cust, err := tx.Customer(ctx, sub.CustomerID)
		if err != nil {
			return err
		}
		for _, cr := range res.Crossings {
			if err := s.queue(ctx, tx, activities.ThresholdNotice(cust, sub.ID, cr)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, res.UsageResult)
}

// getUsage shows a subscription's usage per resource in its current period,
// or in ?period=n.
func (s *Server) getUsage(c echo.Context) error {
	sub, err := s.subscriptionOf(c)
	if err != nil {
		return err
	}
	q := query{c: c}
	period := q.int("period", 1, 1<<30)
	if err := q.v.Err(); err != nil {
		return err
	}
	u, err := s.store.Usage(c.Request().Context(), sub.ID, period)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}
