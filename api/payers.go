package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store"
)

func (s *Server) listPayers(c echo.Context) error {
	id, err := pathID(c, "id", "customer")
	if err != nil {
		return err
	}
	payers, err := s.store.Payers(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": payers})
}

func (s *Server) createPayer(c echo.Context) error {
	id, err := pathID(c, "id", "customer")
	if err != nil {
		return err
	}
	var in billing.PayerInput
	if err := bind(c, &in); err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var p billing.Payer
	// A payer whose verification notice can't be queued is not added.
	err = s.store.Tx(ctx, func(st *store.Store) error {
		if p, err = st.CreatePayer(ctx, id, in); err != nil {
			return err
		}
		p, err = s.startPayerVerification(ctx, st, p)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, p)
}

func (s *Server) getPayer(c echo.Context) error {
	id, payerID, err := nestedIDs(c, "payer_id", "payer")
	if err != nil {
		return err
	}
	p, err := s.store.Payer(c.Request().Context(), id, payerID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (s *Server) updatePayer(c echo.Context) error {
	id, payerID, err := nestedIDs(c, "payer_id", "payer")
	if err != nil {
		return err
	}
	var in billing.PayerInput
	if err := bind(c, &in); err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var p billing.Payer
	// New details are not kept if their verification notice can't be queued.
	err = s.store.Tx(ctx, func(st *store.Store) error {
		var unverified bool
		if p, unverified, err = st.UpdatePayer(ctx, id, payerID, in); err != nil || !unverified {
			return err
		}
		// New details: verified again as a new payer would be.
		p, err = s.startPayerVerification(ctx, st, p)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

func (s *Server) deletePayer(c echo.Context) error {
	id, payerID, err := nestedIDs(c, "payer_id", "payer")
	if err != nil {
		return err
	}
	if err := s.store.DeletePayer(c.Request().Context(), id, payerID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
