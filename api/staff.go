package api

import (
	"crypto/rand"
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

func (s *Server) listAudit(c echo.Context) error {
	q := query{c: c}
	f := billing.AuditFilter{
		ActorKind:   q.oneOf("actor_kind", billing.ActorAnonymous, billing.ActorStaff, billing.ActorClient, billing.ActorAPIKey, billing.ActorImpersonation, billing.ActorSystem),
		StaffID:     q.id("staff_id"),
		CustomerID:  q.id("customer_id"),
		Action:      q.text("action", 100),
		ObjectType:  q.text("object_type", 100),
		ObjectID:    q.text("object_id", 100),
		Since:       q.time("since"),
		Until:       q.time("until"),
		PageRequest: q.page(),
	}
	if err := q.v.Err(); err != nil {
		return err
	}
	page, err := s.store.AuditEntries(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}
