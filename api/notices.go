package api

import (
	"net/http"
	"slices"
	"sort"

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
	var out []billing.NoticeTemplate
	for milestone, t := range notices.Defaults {
		if o, ok := overrides[milestone]; ok {
			t = o
		}
		t.Milestone = milestone
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Milestone < out[j].Milestone })
	return c.JSON(http.StatusOK, map[string]any{"items": out, "variables": notices.Variables})
}

func milestoneOf(c echo.Context) (string, error) {
	m := c.Param("milestone")
	if _, ok := notices.Defaults[m]; !ok {
		keys := make([]string, 0, len(notices.Defaults))
		for k := range notices.Defaults {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		return "", billing.Errorf(billing.ENOTFOUND, "no service notice %q; the notices are %v", m, keys)
	}
	return m, nil
}

func (s *Server) setNoticeTemplate(c echo.Context) error {
	m, err := milestoneOf(c)
	if err != nil {
		return err
	}
	var in billing.NoticeTemplate
	if err := bind(c, &in); err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return err
	}
	in.Milestone, in.Custom = m, true
	if err := s.store.SetNoticeTemplate(c.Request().Context(), in); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, in)
}

func (s *Server) resetNoticeTemplate(c echo.Context) error {
	m, err := milestoneOf(c)
	if err != nil {
		return err
	}
	if err := s.store.ResetNoticeTemplate(c.Request().Context(), m); err != nil {
		return err
	}
	t := notices.Defaults[m]
	t.Milestone = m
	return c.JSON(http.StatusOK, t)
}
