package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/notices"
)

// listNoticeTemplates lists the texts of the service notices: staff's
// replacement where there is one, else the built-in default.
func (s *Server) listNoticeTemplates(c echo.Context) error {
	overrides, err := s.store.NoticeTemplateOverrides(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": notices.List(overrides), "variables": notices.Variables})
}

func (s *Server) setNoticeTemplate(c echo.Context) error {
	m := c.Param("milestone")
	// An unknown milestone is a 404 whatever the body.
	if _, err := notices.Default(m); err != nil {
		return err
	}
	var in billing.NoticeTemplate
	if err := bind(c, &in); err != nil {
		return err
	}
	t, err := notices.Override(m, in)
	if err != nil {
		return err
	}
	if err := s.store.SetNoticeTemplate(c.Request().Context(), t); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

func (s *Server) resetNoticeTemplate(c echo.Context) error {
	t, err := notices.Default(c.Param("milestone"))
	if err != nil {
		return err
	}
	if err := s.store.ResetNoticeTemplate(c.Request().Context(), t.Milestone); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}
