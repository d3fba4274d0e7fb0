package api

import (
	"crypto/rand"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
)

// APIKeyResult is a new API key; Key is shown this once.
type APIKeyResult struct {
	billing.APIKey
	Key string `json:"key"`
}

// APIKeyCreate names a new API key.
type APIKeyCreate struct {
	Name string `json:"name"`
}

func (s *Server) createAPIKey(c echo.Context) error {
	var in APIKeyCreate
	if err := bind(c, &in); err != nil {
		return err
	}
	var v billing.Validator
	v.Text("name", in.Name, 100)
	if err := v.Err(); err != nil {
		return err
	}
	key := apiKeyPrefix + rand.Text() + rand.Text()
	k, err := s.store.CreateAPIKey(c.Request().Context(), principalOf(c).StaffID, in.Name, key[:len(apiKeyPrefix)+6], hashToken(key))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, APIKeyResult{APIKey: k, Key: key})
}

// keyOwner limits API key routes to the caller's own keys unless they manage staff.
func keyOwner(p billing.Principal) *int64 {
	if p.Can(billing.PermStaffManage) {
		return nil
	}
	return &p.StaffID
}

func (s *Server) listAPIKeys(c echo.Context) error {
	keys, err := s.store.APIKeys(c.Request().Context(), keyOwner(principalOf(c)))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"items": keys})
}

func (s *Server) revokeAPIKey(c echo.Context) error {
	id, err := pathID(c, "id", "API key")
	if err != nil {
		return err
	}
	p := principalOf(c)
	ctx := c.Request().Context()
	if owner := keyOwner(p); owner == nil {
		// Revoking another member's key is changing that member: the same rules hold.
		st, err := s.store.APIKeyOwner(ctx, id)
		if err != nil {
			return err
		}
		if err := p.MayChangeStaff(st, billing.StaffUpdate{}); err != nil {
			return err
		}
	}
	k, err := s.store.RevokeAPIKey(ctx, id, keyOwner(p))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, k)
}
