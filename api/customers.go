package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/notices"
	"github.com/tempobill/billing/password"
	"github.com/tempobill/billing/store"
)

// RegisterResult is the answer to a registration: the customer, its main user,
// and the generated password if none was given (shown this once).
type RegisterResult struct {
	Customer          billing.Customer `json:"customer"`
	User              billing.User     `json:"user"`
	GeneratedPassword string           `json:"generated_password,omitempty"`
}

func (s *Server) createCustomer(c echo.Context) error {
	var in billing.CustomerCreate
	if err := bind(c, &in); err != nil {
		return err
	}
	in.Defaults()
	if in.RegistrationIP == "" {
		in.RegistrationIP = c.RealIP()
	}
	if err := in.Validate(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	settings, err := s.settings(ctx)
	if err != nil {
		return err
	}
	var res RegisterResult
	hash, generated, err := password.HashOrGenerate(in.User.Password)
	if err != nil {
		return err
	}
	res.GeneratedPassword = generated
	// The main user is sent their login and a link to set their password,
	// never a password: see the README's "Account notices".
	token, t := newLink(billing.TokenSetPassword, billing.SetPasswordTTL)
	// The customer, its user, the link and the notices land together or not at all.
	err = s.store.Tx(ctx, func(st *store.Store) error {
		var tokenID int64
		res.Customer, res.User, tokenID, err = st.RegisterCustomer(ctx, in, hash, store.Registration{Token: t})
		if err != nil {
			return err
		}
		return s.registered(ctx, st, res.Customer, res.User, notices.EventRegistration, token, t, tokenID, settings)
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, res)
}

// view returns what p may see of a customer.
func view(p billing.Principal, c billing.Customer) billing.Customer {
	if p.IsClient() {
		return c.ForClient()
	}
	return c
}

func (s *Server) listCustomers(c echo.Context) error {
	q := query{c: c}
	f := billing.CustomerFilter{
		ID:                q.id("id"),
		Name:              q.text("name", 200),
		Project:           q.text("project", 100),
		Group:             q.text("group", 100),
		Status:            q.oneOf("status", billing.CustomerActive, billing.CustomerDeleted),
		HasActiveServices: q.bool("has_active_services"),
		Sort:              c.QueryParam("sort"),
		PageRequest:       q.page(),
	}
	q.v.Check(store.ValidCustomerSort(f.Sort), "sort", "must be one of: id, -id, name, -name, registered_at, -registered_at")
	if err := q.v.Err(); err != nil {
		return err
	}
	page, err := s.store.Customers(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

func (s *Server) getCustomer(c echo.Context) error {
	id, err := pathID(c, "id", "customer")
	if err != nil {
		return err
	}
	cust, err := s.store.Customer(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, view(principalOf(c), cust))
}

func (s *Server) updateCustomer(c echo.Context) error {
	id, err := pathID(c, "id", "customer")
	if err != nil {
		return err
	}
	var up billing.CustomerUpdate
	if err := bind(c, &up); err != nil {
		return err
	}
	p := principalOf(c)
	if err := staffFields(p, up.StaffFields()); err != nil {
		return err
	}
	cust, err := s.store.UpdateCustomer(c.Request().Context(), id, up)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, view(p, cust))
}

func (s *Server) deleteCustomer(c echo.Context) error {
	id, err := pathID(c, "id", "customer")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	prev, err := s.store.Customer(ctx, id)
	if err != nil {
		return err
	}
	if prev.Status == billing.CustomerDeleted {
		return c.JSON(http.StatusOK, prev) // deleted before: nothing to tell anyone again
	}
	var cust billing.Customer
	err = s.store.Tx(ctx, func(st *store.Store) error {
		if cust, err = st.DeleteCustomer(ctx, id); err != nil {
			return err
		}
		// The notice is rendered now, while the main user's address is known
		// (whatever becomes of the user rows), and sent once (its key); in
		// the deletion's transaction, so a customer is not deleted untold.
		return s.queue(ctx, st, activities.SendEventInput{Event: notices.EventAccountDeleted, CustomerID: id,
			Vars: map[string]string{"[REASON]": notices.ReasonDeletedByStaff}})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, cust)
}
