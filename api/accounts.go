package api

import (
	"context"
	"crypto/rand"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/notices"
	"github.com/tempobill/billing/password"
	"github.com/tempobill/billing/store"
	"github.com/tempobill/billing/zoneinfo"
)

// Limits of the public account routes, per hour: registrations from one
// address, activation resends from one address and to one email address.
const (
	registrationsPerAddress = 5
	resendsPerAddress       = 5
	resendsPerEmail         = 3
)

// The pages of the client panel the links of the account notices open
// (under PUBLIC_URL); each sends the token to the API with a POST.
const (
	setPasswordPage = "/set-password"
	activatePage    = "/activate"
	verifyPage      = "/verify"
)

// SelfRegisterResult is the answer to a self-registration.
type SelfRegisterResult struct {
	Customer billing.Customer `json:"customer"`
	User     billing.User     `json:"user"`
	// ActivationRequired: the client may not order until they open the link
	// sent to their address.
	ActivationRequired bool `json:"activation_required"`
}

// TokenInput is the body of the routes that use a one-time link.
type TokenInput struct {
	Token string `json:"token"`
}

// SetPasswordInput is the body of POST /auth/set-password.
type SetPasswordInput struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

// ResendInput is the body of POST /auth/activation/resend.
type ResendInput struct {
	Email string `json:"email"`
}

// newLink returns a one-time link token and what the store keeps of it.
func newLink(purpose string, ttl time.Duration) (string, store.NewToken) {
	token := rand.Text() + rand.Text()
	return token, store.NewToken{Purpose: purpose, Hash: hashToken(token), ExpiresAt: time.Now().Add(ttl)}
}

// link is the address of page with token, under the public URL.
func (s *Server) link(page, token string) string {
	return s.publicURL + page + "?token=" + url.QueryEscape(token)
}

// expires shows when a link stops working, in the customer's time zone.
func expires(t store.NewToken, tz string) string {
	return t.ExpiresAt.In(zoneinfo.Load(tz)).Format("2006-01-02 15:04 MST")
}

// queue queues in's notices for the redelivery to send, with st: in the
// transaction (a store.Tx) of what they are about, so that a failure to
// queue them undoes it.
func (s *Server) queue(ctx context.Context, st *store.Store, in activities.SendEventInput) error {
	_, err := activities.QueueEvent(ctx, st, in, s.defaults.DefaultLanguage)
	return err
}

// registered sends what follows a registration: the registration notice
// with the set-password link, or the activation notice; and the account
// verification notice if the setting asks for it after registration; in
// st, the registration's transaction.
func (s *Server) registered(ctx context.Context, st *store.Store, cust billing.Customer, u billing.User, event, token string, t store.NewToken,
	tokenID int64, settings billing.Settings) error {
	if event != "" {
		vars := map[string]string{"[LINK_EXPIRES]": expires(t, cust.TimeZone)}
		if event == notices.EventRegistration {
			vars["[SET_PASSWORD_URL]"] = s.link(setPasswordPage, token)
		} else {
			vars["[ACTIVATION_URL]"] = s.link(activatePage, token)
		}
		if err := s.queue(ctx, st, activities.SendEventInput{Event: event, CustomerID: cust.ID, UserIDs: []int64{u.ID},
			Key: strconv.FormatInt(tokenID, 10), Vars: vars}); err != nil {
			return err
		}
	}
	if settings.ClientVerification == billing.ClientVerificationAfterRegistration {
		return s.askVerification(ctx, st, cust)
	}
	return nil
}

// askVerification sends the account verification notice with its link,
// once per customer: a customer that had a link gets none. The link and
// its notice are written with st, in one transaction: a link is only ever
// made once, so one whose notice failed would never be sent.
func (s *Server) askVerification(ctx context.Context, st *store.Store, cust billing.Customer) error {
	token, t := newLink(billing.TokenVerifyAccount, billing.VerificationTTL)
	_, userID, _, created, err := st.CreateVerificationLink(ctx, cust.ID, t)
	if err != nil || !created {
		return err
	}
	return s.queue(ctx, st, activities.SendEventInput{Event: notices.EventAccountVerification, CustomerID: cust.ID,
		UserIDs: []int64{userID}, Vars: map[string]string{"[VERIFICATION_URL]": s.link(verifyPage, token),
			"[LINK_EXPIRES]": expires(t, cust.TimeZone)}})
}

// selfRegister registers a customer and its main user from the public
// registration form, a few times an hour per address.
func (s *Server) selfRegister(c echo.Context) error {
	var in billing.SelfRegistration
	if err := bind(c, &in); err != nil {
		return err
	}
	ip := c.RealIP()
	create, err := in.CustomerCreate(ip)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if err := s.rateLimit(c, "registrations from this address", map[string]int{"register:ip:" + network(ip): registrationsPerAddress}); err != nil {
		return err
	}
	settings, err := s.settings(ctx)
	if err != nil {
		return err
	}
	hash, err := password.Hash(create.User.Password)
	if err != nil {
		return err
	}
	reg := store.Registration{ActivationRequired: settings.VerifyClientEmail}
	var token, event string
	if settings.VerifyClientEmail {
		token, reg.Token = newLink(billing.TokenActivateEmail, billing.ActivationTTL)
		event = notices.EventEmailActivation
	}
	var cust billing.Customer
	var u billing.User
	err = s.store.Tx(ctx, func(st *store.Store) error {
		var tokenID int64
		if cust, u, tokenID, err = st.RegisterCustomer(ctx, create, hash, reg); err != nil {
			return err
		}
		return s.registered(ctx, st, cust, u, event, token, reg.Token, tokenID, settings)
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, SelfRegisterResult{Customer: cust.ForClient(), User: u, ActivationRequired: settings.VerifyClientEmail})
}

// setPassword sets a user's password with the registration notice's link.
func (s *Server) setPassword(c echo.Context) error {
	var in SetPasswordInput
	if err := bind(c, &in); err != nil {
		return err
	}
	var v billing.Validator
	v.Check(in.Token != "", "token", "is required: the token of the link")
	n := len([]rune(in.Password))
	v.Check(n >= billing.MinPasswordLength && n <= billing.MaxPasswordLength, "password", "must be 10 to 200 characters")
	if err := v.Err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	// Look the link up before hashing, so that made-up tokens cost no argon2id.
	if _, err := s.store.AccountToken(ctx, hashToken(in.Token), billing.TokenSetPassword); err != nil {
		return err
	}
	hash, err := password.Hash(in.Password)
	if err != nil {
		return err
	}
	// The link confirms the address too: the mails it sent unknown become tickets.
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		t, err := tx.SetPasswordWithToken(ctx, hashToken(in.Token), hash)
		if err != nil {
			return err
		}
		return s.senderConfirmed(ctx, tx, t.CustomerID, t.UserID)
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// activate confirms a user's email address with the activation link; the
// mails the address sent unknown become tickets (senderConfirmed).
func (s *Server) activate(c echo.Context) error {
	token, err := bindToken(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		t, err := tx.ActivateEmail(ctx, hashToken(token))
		if err != nil {
			return err
		}
		return s.senderConfirmed(ctx, tx, t.CustomerID, t.UserID)
	})
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// verifyAccount confirms a customer's account with the verification link.
func (s *Server) verifyAccount(c echo.Context) error {
	token, err := bindToken(c)
	if err != nil {
		return err
	}
	if _, _, err := s.store.VerifyAccount(c.Request().Context(), hashToken(token)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func bindToken(c echo.Context) (string, error) {
	var in TokenInput
	if err := bind(c, &in); err != nil {
		return "", err
	}
	var v billing.Validator
	v.Check(in.Token != "", "token", "is required: the token of the link")
	return in.Token, v.Err()
}

// resendActivation sends a new activation link to the address, if it is the
// main user's of a customer waiting for it. The answer is the same whether
// or not it is, so that addresses can't be probed.
func (s *Server) resendActivation(c echo.Context) error {
	var in ResendInput
	if err := bind(c, &in); err != nil {
		return err
	}
	var v billing.Validator
	v.Email("email", in.Email)
	if err := v.Err(); err != nil {
		return err
	}
	ip := c.RealIP()
	if err := s.rateLimit(c, "activation links asked for", map[string]int{"resend:ip:" + network(ip): resendsPerAddress,
		"resend:email:" + strings.ToLower(in.Email): resendsPerEmail}); err != nil {
		return err
	}
	ctx := c.Request().Context()
	userID, customerID, err := s.store.UserAwaitingActivation(ctx, in.Email)
	switch {
	case billing.ErrorCode(err) == billing.ENOTFOUND:
	case err != nil:
		return err
	default:
		cust, err := s.store.Customer(ctx, customerID)
		if err != nil {
			return err
		}
		token, t := newLink(billing.TokenActivateEmail, billing.ActivationTTL)
		// The new link retires the earlier ones: it and its notice go together.
		err = s.store.Tx(ctx, func(st *store.Store) error {
			id, err := st.CreateAccountToken(ctx, userID, in.Email, t)
			if err != nil {
				return err
			}
			return s.queue(ctx, st, activities.SendEventInput{Event: notices.EventEmailActivation, CustomerID: customerID,
				UserIDs: []int64{userID}, Key: strconv.FormatInt(id, 10), Vars: map[string]string{
					"[ACTIVATION_URL]": s.link(activatePage, token), "[LINK_EXPIRES]": expires(t, cust.TimeZone)}})
		})
		if err != nil {
			return err
		}
	}
	return c.JSON(http.StatusAccepted, map[string]string{
		"message": "if this address awaits activation, a new link was sent to it; earlier links no longer work"})
}

// rateLimit counts this request under each key (in the sign-in slow-down's
// table) and refuses it, uncounted, with 429 if a key already had its limit
// within the hour; the Retry-After is when the earliest of them is forgotten.
func (s *Server) rateLimit(c echo.Context, what string, limits map[string]int) error {
	keys := make([]string, 0, len(limits))
	for k := range limits {
		keys = append(keys, k)
	}
	var wait time.Duration
	_, admitted, err := s.store.CountLoginAttempt(c.Request().Context(), keys, func(f []store.LoginFailures) bool {
		for _, x := range f {
			if x.Failures >= limits[x.Key] {
				wait = max(wait, time.Until(x.Last.Add(time.Hour)))
			}
		}
		return wait <= 0
	})
	if err != nil || admitted {
		return err
	}
	secs := max(int((wait+time.Second-1)/time.Second), 1)
	c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	return billing.Errorf(billing.ETOOMANY, "too many %s; try again in %d seconds", what, secs)
}

// afterFirstPayment asks the customer to verify their account once a
// payment of theirs is paid, if the setting says so (once per customer).
func (s *Server) afterFirstPayment(ctx context.Context, customerID int64) error {
	settings, err := s.settings(ctx)
	if err != nil || settings.ClientVerification != billing.ClientVerificationAfterFirstPayment {
		return err
	}
	cust, err := s.store.Customer(ctx, customerID)
	if err != nil || cust.Status != billing.CustomerActive {
		return err
	}
	return s.store.Tx(ctx, func(st *store.Store) error { return s.askVerification(ctx, st, cust) })
}

// network is the part of a client address its rate limits count by: the
// address itself for IPv4, its /64 for IPv6, since one subscriber usually
// holds a whole /64 and could otherwise take a new address per request.
func network(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil || addr.Is4() || addr.Is4In6() {
		return ip
	}
	prefix, err := addr.Prefix(64)
	if err != nil {
		return ip
	}
	return prefix.String()
}
