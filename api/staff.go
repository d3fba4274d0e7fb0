package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/password"
)

// StaffResult is a new staff member and, if generated, their password (shown once).
type StaffResult struct {
	billing.Staff
	GeneratedPassword string `json:"generated_password,omitempty"`
}

func (s *Server) listStaff(c echo.Context) error {
	list, err := s.store.StaffList(c.Request().Context())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": list})
}

func (s *Server) createStaff(c echo.Context) error {
	var in billing.StaffCreate
	if err := bind(c, &in); err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return err
	}
	if err := principalOf(c).MayCreateStaff(in); err != nil {
		return err
	}
	var res StaffResult
	hash, generated, err := password.HashOrGenerate(in.Password)
	if err != nil {
		return err
	}
	res.GeneratedPassword = generated
	if res.Staff, err = s.store.CreateStaff(c.Request().Context(), in, hash); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, res)
}

func (s *Server) getStaff(c echo.Context) error {
	id, err := pathID(c, "id", "staff member")
	if err != nil {
		return err
	}
	st, err := s.store.StaffMember(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}

func (s *Server) updateStaff(c echo.Context) error {
	id, err := pathID(c, "id", "staff member")
	if err != nil {
		return err
	}
	var up billing.StaffUpdate
	if err := bind(c, &up); err != nil {
		return err
	}
	p := principalOf(c)
	if id == p.StaffID && ((up.Status != nil && *up.Status != billing.StaffActive) || (up.Role != nil && *up.Role != billing.RoleAdmin && p.Role == billing.RoleAdmin)) {
		return billing.Errorf(billing.ECONFLICT, "you can't disable yourself or take away your own admin role; ask another admin")
	}
	if id != p.StaffID {
		if err := requireStaff(p, billing.PermStaffManage); err != nil {
			return err
		}
	}
	hash := ""
	if up.Password != nil && len(*up.Password) >= billing.MinPasswordLength && len(*up.Password) <= 4*billing.MaxPasswordLength {
		if hash, err = password.Hash(*up.Password); err != nil {
			return err
		}
	}
	// Who may change what is checked by the store under the row lock, so a
	// concurrent promotion of the target can't slip between check and write.
	st, err := s.store.UpdateStaff(c.Request().Context(), p, id, up, hash)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, st)
}
