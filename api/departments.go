package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
)

// listDepartments answers staff with every department (its mailbox and
// members too) and a client with the departments of the support center,
// which they can open tickets in: only their names and whether a ticket
// takes a support incident.
func (s *Server) listDepartments(c echo.Context) error {
	list, err := s.store.Departments(c.Request().Context())
	if err != nil {
		return err
	}
	if principalOf(c).IsStaff() {
		return c.JSON(http.StatusOK, map[string]any{"items": list})
	}
	public := []billing.PublicDepartment{}
	for _, d := range list {
		if d.ShowInSupport {
			public = append(public, billing.PublicDepartment{ID: d.ID, Name: d.Name, RequiresIncidents: d.RequiresIncidents})
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"items": public})
}

func (s *Server) createDepartment(c echo.Context) error {
	var in billing.DepartmentInput
	if err := bind(c, &in); err != nil {
		return err
	}
	d, err := s.store.CreateDepartment(c.Request().Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, d)
}

func (s *Server) getDepartment(c echo.Context) error {
	id, err := pathID(c, "id", "department")
	if err != nil {
		return err
	}
	d, err := s.store.Department(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

func (s *Server) updateDepartment(c echo.Context) error {
	id, err := pathID(c, "id", "department")
	if err != nil {
		return err
	}
	var in billing.DepartmentInput
	if err := bind(c, &in); err != nil {
		return err
	}
	d, err := s.store.UpdateDepartment(c.Request().Context(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, d)
}

func (s *Server) deleteDepartment(c echo.Context) error {
	id, err := pathID(c, "id", "department")
	if err != nil {
		return err
	}
	if err := s.store.DeleteDepartment(c.Request().Context(), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
