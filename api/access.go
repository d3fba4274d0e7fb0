package api

import (
	"crypto/sha256"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
)

// Token prefixes tell an API key from a session token at a glance (and to
// secret scanners).
const (
	sessionPrefix = "bs_"
	apiKeyPrefix  = "bk_"
)

func hashToken(token string) []byte {
	sum := sha256.Sum256([]byte(token))
	return sum[:]
}

const principalKey = "principal"

// principalOf returns the caller of the request (anonymous if none).
func principalOf(c echo.Context) billing.Principal {
	p, ok := c.Get(principalKey).(billing.Principal)
	if !ok {
		return billing.Principal{Kind: billing.ActorAnonymous}
	}
	return p
}

// authenticate resolves the bearer token, if any, into the request's principal.
// A token that is unknown, expired or revoked is refused outright.
func (s *Server) authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Request().Header.Get("Authorization")
		if h == "" || s.open[c.Request().Method+" "+c.Path()] {
			return next(c)
		}
		token, ok := strings.CutPrefix(h, "Bearer ")
		if !ok || token == "" {
			return billing.Errorf(billing.EUNAUTHORIZED, "the Authorization header must be \"Bearer <token>\"")
		}
		ctx := c.Request().Context()
		var p billing.Principal
		var err error
		if strings.HasPrefix(token, apiKeyPrefix) {
			p, err = s.store.PrincipalByAPIKey(ctx, hashToken(token))
		} else {
			p, err = s.store.PrincipalBySession(ctx, hashToken(token))
		}
		if billing.ErrorCode(err) == billing.ENOTFOUND {
			return billing.Errorf(billing.EUNAUTHORIZED, "the token is unknown, expired or revoked; sign in again")
		}
		if err != nil {
			return err
		}
		c.Set(principalKey, p)
		return next(c)
	}
}

// audit attaches an audit entry to every write request; the store writes it
// in the transaction of the change, so only changes that happened are logged.
func (s *Server) audit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if c.Request().Method == http.MethodGet || c.Request().Method == http.MethodHead {
			return next(c)
		}
		e := billing.NewAuditEntry(principalOf(c), s.actions[c.Request().Method+" "+c.Path()], c.RealIP())
		e.ObjectType, e.ObjectID = objectOf(c)
		if e.ObjectType == "customer" {
			if id, err := strconv.ParseInt(e.ObjectID, 10, 64); err == nil {
				e.CustomerID = &id
			}
		} else if id, err := strconv.ParseInt(c.Param("id"), 10, 64); err == nil && strings.HasPrefix(c.Path(), "/api/v1/customers/") {
			e.CustomerID = &id
		}
		c.SetRequest(c.Request().WithContext(billing.WithAudit(c.Request().Context(), e)))
		return next(c)
	}
}

// actionNames names each route's action after its handler, e.g. "updateCustomer".
func actionNames(routes []*echo.Route) map[string]string {
	out := map[string]string{}
	for _, r := range routes {
		name := strings.TrimSuffix(r.Name[strings.LastIndexByte(r.Name, '.')+1:], "-fm")
		out[r.Method+" "+r.Path] = name
	}
	return out
}

// objectOf names the object a route acts on from its path: the innermost ID.
func objectOf(c echo.Context) (string, string) {
	for _, p := range []struct{ param, kind string }{{"user_id", "user"}, {"payer_id", "payer"}, {"discount_id", "discount"}, {"attachment_id", "attachment"}} {
		if v := c.Param(p.param); v != "" {
			return p.kind, v
		}
	}
	segs := strings.Split(strings.TrimPrefix(c.Path(), "/api/v1/"), "/")
	kind := map[string]string{"customers": "customer", "products": "product", "payments": "payment",
		"staff": "staff", "api-keys": "api_key", "auth": "session", "subscriptions": "subscription",
		"notice-templates": "notice_template", "message-templates": "message_template", "notifications": "notification",
		"notification-events": "notification_event", "settings": "settings",
		"predefined-replies": "predefined_reply", "departments": "department", "tickets": "ticket", "tasks": "task",
		"mail-gateways": "mail_gateway"}[segs[0]]
	if m := c.Param("milestone"); m != "" {
		return kind, m
	}
	if e := c.Param("event"); e != "" {
		if ch := c.Param("channel"); ch != "" {
			return kind, e + "/" + ch + "/" + c.Param("language")
		}
		return kind, e
	}
	return kind, c.Param("id")
}

// Access rules: each route declares one. They answer 401 to the anonymous,
// 403 to staff without the permission and to clients on staff routes, and
// 404 to a client naming another customer, so IDs can't be probed.

// public lets anyone call the route r. A public route doesn't look at the
// Authorization header at all: a stale token, or a database that can't check
// it, can't make a health check or a sign-in fail.
func (s *Server) public(r *echo.Route) {
	if s.open == nil {
		s.open = map[string]bool{}
	}
	s.open[r.Method+" "+r.Path] = true
}

// signedIn lets any signed-in caller through.
func signedIn(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if principalOf(c).Kind == billing.ActorAnonymous {
			return errSignIn
		}
		return next(c)
	}
}

var errSignIn = billing.Errorf(billing.EUNAUTHORIZED, "sign in first: send \"Authorization: Bearer <token>\"")

// staffOnly lets staff with perm through.
func staffOnly(perm string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := requireStaff(principalOf(c), perm); err != nil {
				return err
			}
			return next(c)
		}
	}
}

func requireStaff(p billing.Principal, perm string) error {
	switch {
	case p.Kind == billing.ActorAnonymous:
		return errSignIn
	case !p.Can(perm):
		return billing.Errorf(billing.EFORBIDDEN, "this needs the staff permission %q", perm)
	}
	return nil
}

// ownCustomer lets a client through to their own customer (the :id of the
// path) and staff with perm to any.
func ownCustomer(perm string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p := principalOf(c)
			if p.IsClient() {
				if c.Param("id") != strconv.FormatInt(p.CustomerID, 10) {
					return billing.NotFound("customer", c.Param("id"))
				}
				return next(c)
			}
			if err := requireStaff(p, perm); err != nil {
				return err
			}
			return next(c)
		}
	}
}

// clientOrStaff lets clients through (the handler limits them to their own
// objects) and staff with perm.
func clientOrStaff(perm string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if p := principalOf(c); !p.IsClient() {
				if err := requireStaff(p, perm); err != nil {
					return err
				}
			}
			return next(c)
		}
	}
}

// ownCustomerFilter keeps a client's list to their own customer: a filter
// naming another customer is not found.
func ownCustomerFilter(c echo.Context, customerID **int64) error {
	p := principalOf(c)
	if !p.IsClient() {
		return nil
	}
	if *customerID != nil && **customerID != p.CustomerID {
		return billing.NotFound("customer", **customerID)
	}
	*customerID = &p.CustomerID
	return nil
}

// staffFields refuses a client's request that sets fields only staff may set.
func staffFields(p billing.Principal, set map[string]bool) error {
	if !p.IsClient() {
		return nil
	}
	var v billing.Validator
	for f, isSet := range set {
		v.Check(!isSet, f, "only staff can set this")
	}
	if err := v.Err(); err != nil {
		e := err.(*billing.Error)
		e.Code, e.Message = billing.EFORBIDDEN, "these fields can only be set by staff; see fields"
		return e
	}
	return nil
}
