package api

import (
	"context"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
)

// settings are the global settings now: the stored ones, else the defaults
// the API was started with.
func (s *Server) settings(ctx context.Context) (billing.Settings, error) {
	return s.store.Settings(ctx, s.defaults)
}

func (s *Server) getSettings(c echo.Context) error {
	settings, err := s.settings(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, settings)
}

// updateSettings changes the settings given. The first change stores every
// setting, the others from the defaults; running subscriptions take the
// new ones at their next charge (see workflows' takePolicy).
func (s *Server) updateSettings(c echo.Context) error {
	var in billing.SettingsUpdate
	if err := bind(c, &in); err != nil {
		return err
	}
	settings, err := s.store.UpdateSettings(c.Request().Context(), s.defaults, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, settings)
}
