package api

import (
	"context"
	"crypto/rand"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/password"
	"github.com/tempobill/billing/store"
)

// Session lifetimes. Impersonation is short on purpose.
const (
	SessionTTL       = 12 * time.Hour
	ImpersonationTTL = 30 * time.Minute
)

// Sign-in slow-down: after this many failures in an hour, each further attempt
// must wait twice as long as the one before, up to maxLockout.
const (
	freeLoginFailures = 5
	freeIPFailures    = 20
	maxLockout        = 15 * time.Minute
)

// Credentials sign a client or a staff member in.
type Credentials struct {
	Login    string `json:"login"`
	Password string `json:"password"`
}

// SessionResult is a new session's token (shown once) and whom it is for.
type SessionResult struct {
	Token     string            `json:"token"`
	ExpiresAt time.Time         `json:"expires_at"`
	Principal billing.Principal `json:"principal"`
}

// dummyHash is verified against when a login is unknown, so that a wrong login
// takes as long as a wrong password and logins can't be discovered by timing.
var dummyHash, _ = password.Hash(rand.Text())

func (s *Server) clientLogin(c echo.Context) error { return s.login(c, billing.ActorClient) }
func (s *Server) staffLogin(c echo.Context) error  { return s.login(c, billing.ActorStaff) }

func (s *Server) login(c echo.Context, kind string) error {
	var in Credentials
	if err := bind(c, &in); err != nil {
		return err
	}
	var v billing.Validator
	v.Text("login", in.Login, 254)
	v.Check(in.Password != "" && len(in.Password) <= 4*billing.MaxPasswordLength, "password", "is required")
	if err := v.Err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	ip := c.RealIP()
	loginKey, ipKey := "login:"+kind+":"+strings.ToLower(in.Login), "ip:"+ip
	// Count the attempt before checking the password, in one atomic step, so
	// that parallel guesses are counted one by one. A locked login is refused
	// unchecked; a slowed-down address still gets its password checked, so
	// that one attacker behind a shared address can't lock everyone out.
	var loginWait, ipWait time.Duration
	_, admitted, err := s.store.CountLoginAttempt(ctx, []string{loginKey, ipKey}, func(f []store.LoginFailures) bool {
		loginWait, ipWait = s.lockout(f[0], freeLoginFailures), s.lockout(f[1], freeIPFailures)
		return loginWait <= 0
	})
	if err != nil {
		return err
	}
	if !admitted {
		return tooMany(c, loginWait)
	}

	sess := store.Session{Kind: kind, IP: ip, ExpiresAt: time.Now().Add(SessionTTL)}
	var hash string
	if kind == billing.ActorStaff {
		var st billing.Staff
		st, hash, err = s.store.StaffCredentials(ctx, in.Login)
		sess.StaffID = st.ID
	} else {
		var u billing.User
		u, hash, err = s.store.UserCredentials(ctx, in.Login)
		sess.UserID, sess.CustomerID = u.ID, u.CustomerID
	}
	if err != nil && billing.ErrorCode(err) != billing.ENOTFOUND {
		return err
	}
	if err != nil {
		hash = dummyHash
	}
	if !password.Verify(in.Password, hash) || err != nil {
		e := billing.NewAuditEntry(billing.Principal{Kind: billing.ActorAnonymous}, "loginFailed", ip)
		e.Details["login"], e.Details["as"] = in.Login, kind
		if err := s.store.Audit(ctx, e); err != nil {
			return err
		}
		if ipWait > 0 {
			return tooMany(c, ipWait)
		}
		return billing.Errorf(billing.EUNAUTHORIZED, "the login or the password is wrong")
	}
	if err := s.store.LoginSucceeded(ctx, loginKey, ipKey); err != nil {
		return err
	}
	p := billing.Principal{Kind: kind, StaffID: sess.StaffID, UserID: sess.UserID, CustomerID: sess.CustomerID}
	e := billing.NewAuditEntry(p, "login", ip)
	e.SetObject("session", "", sess.CustomerID)
	return s.startSession(c, billing.WithAudit(ctx, e), sess)
}

// lockout returns how long after the last failure under a key the next
// attempt must wait: nothing for the first free failures, then one second,
// doubling with each failure, up to maxLockout. (Tests may lengthen the
// first wait, s.firstLockout, so that slow machines can't outwait it.)
func (s *Server) lockout(f store.LoginFailures, free int) time.Duration {
	if f.Failures < free {
		return 0
	}
	delay := min(s.firstLockout<<min(f.Failures-free, 20), maxLockout)
	return time.Until(f.Last.Add(delay))
}

// tooMany answers 429 with a Retry-After of wait, rounded up to seconds.
func tooMany(c echo.Context, wait time.Duration) error {
	secs := max(int((wait+time.Second-1)/time.Second), 1)
	c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	return billing.Errorf(billing.ETOOMANY, "too many failed sign-ins; try again in %d seconds", secs)
}

// startSession creates the session and answers with its token.
func (s *Server) startSession(c echo.Context, ctx context.Context, sess store.Session) error {
	token := sessionPrefix + rand.Text() + rand.Text()
	id, err := s.store.CreateSession(ctx, sess, hashToken(token))
	if err != nil {
		return err
	}
	p, err := s.store.PrincipalBySession(ctx, hashToken(token))
	if err != nil {
		return err
	}
	p.SessionID = id
	return c.JSON(http.StatusCreated, SessionResult{Token: token, ExpiresAt: sess.ExpiresAt, Principal: p})
}

func (s *Server) logout(c echo.Context) error {
	p := principalOf(c)
	if p.SessionID == 0 {
		return billing.Errorf(billing.EINVALID, "an API key is not a session; revoke it with DELETE /api/v1/api-keys/{id}")
	}
	if err := s.store.RevokeSession(c.Request().Context(), p.SessionID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) me(c echo.Context) error {
	return c.JSON(http.StatusOK, principalOf(c))
}

// impersonate switches a staff member to a customer's panel: a short-lived
// client-scoped token; everything done with it is audited as that staff
// member acting on behalf of the customer.
func (s *Server) impersonate(c echo.Context) error {
	id, err := pathID(c, "id", "customer")
	if err != nil {
		return err
	}
	p := principalOf(c)
	if p.SessionID == 0 {
		return billing.Errorf(billing.EFORBIDDEN, "switching to a customer's panel needs a staff session, not an API key")
	}
	ctx := c.Request().Context()
	cust, err := s.store.Customer(ctx, id)
	if err != nil {
		return err
	}
	if cust.Status != billing.CustomerActive {
		return billing.Errorf(billing.ECONFLICT, "customer %d is deleted", id)
	}
	if e := billing.AuditFrom(ctx); e != nil {
		e.SetObject("customer", id, id)
	}
	return s.startSession(c, ctx, store.Session{Kind: billing.ActorImpersonation, StaffID: p.StaffID,
		CustomerID: id, ParentSessionID: p.SessionID, IP: c.RealIP(), ExpiresAt: time.Now().Add(ImpersonationTTL)})
}

// returnToStaff ends an impersonation session; the staff member goes on with
// the session they switched from.
func (s *Server) returnToStaff(c echo.Context) error {
	p := principalOf(c)
	if p.Kind != billing.ActorImpersonation {
		return billing.Errorf(billing.EINVALID, "this session is not a switch to a customer's panel")
	}
	ctx := c.Request().Context()
	if err := s.store.RevokeSession(ctx, p.SessionID); err != nil {
		return err
	}
	parent, err := s.store.ParentSession(ctx, p.SessionID)
	if err != nil {
		return err
	}
	staff, err := s.store.StaffMember(ctx, p.StaffID)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"staff": staff, "session_id": parent})
}
