package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/password"
)

// UserResult is a new user and, if the password was generated, that password
// (shown this once).
type UserResult struct {
	billing.User
	GeneratedPassword string `json:"generated_password,omitempty"`
}

func (s *Server) listUsers(c echo.Context) error {
	id, err := pathID(c, "id", "customer")
	if err != nil {
		return err
	}
	users, err := s.store.Users(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": users})
}

func (s *Server) createUser(c echo.Context) error {
	id, err := pathID(c, "id", "customer")
	if err != nil {
		return err
	}
	var in billing.UserCreate
	if err := bind(c, &in); err != nil {
		return err
	}
	if err := staffFields(principalOf(c), map[string]bool{"email_verified": in.EmailVerified}); err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return err
	}
	var res UserResult
	hash, generated, err := password.HashOrGenerate(in.Password)
	if err != nil {
		return err
	}
	res.GeneratedPassword = generated
	if res.User, err = s.store.CreateUser(c.Request().Context(), id, in, hash); err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, res)
}

func (s *Server) getUser(c echo.Context) error {
	id, userID, err := nestedIDs(c, "user_id", "user")
	if err != nil {
		return err
	}
	u, err := s.store.User(c.Request().Context(), id, userID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

func (s *Server) updateUser(c echo.Context) error {
	id, userID, err := nestedIDs(c, "user_id", "user")
	if err != nil {
		return err
	}
	var up billing.UserUpdate
	if err := bind(c, &up); err != nil {
		return err
	}
	p := principalOf(c)
	if err := staffFields(p, map[string]bool{"email_verified": up.EmailVerified != nil, "main": up.Main != nil}); err != nil {
		return err
	}
	// A client changes the password and email of their own user only: one
	// user of a customer can't take over another's sign-in.
	if p.IsClient() && p.UserID != userID && (up.Password != nil || up.Email != nil) {
		return &billing.Error{Code: billing.EFORBIDDEN, Message: "you can change the password and email of your own user only",
			Fields: map[string]string{"password": "not yours to change", "email": "not yours to change"}}
	}
	hash := ""
	if up.Password != nil && len(*up.Password) >= billing.MinPasswordLength && len(*up.Password) <= 4*billing.MaxPasswordLength {
		if hash, err = password.Hash(*up.Password); err != nil {
			return err
		}
	}
	u, err := s.store.UpdateUser(c.Request().Context(), id, userID, up, hash, p.SessionID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, u)
}

func (s *Server) deleteUser(c echo.Context) error {
	id, userID, err := nestedIDs(c, "user_id", "user")
	if err != nil {
		return err
	}
	if err := s.store.DeleteUser(c.Request().Context(), id, userID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
