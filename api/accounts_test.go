package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/api"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/internal/smtptest"
	"github.com/tempobill/billing/mail"
	"github.com/tempobill/billing/sms"
)

// panelURL is the PUBLIC_URL of the account tests.
const panelURL = "https://panel.example.com"

// accounts is a bundle on a database of its own (the tests change the
// settings), behind a trusted proxy so that each test calls the public
// routes from an address of its own, with activities that send the queued
// notices to a real SMTP server in the test process.
type accounts struct {
	*bundle
	smtp *smtptest.Server
	acts *activities.Activities
	addr string
}

func newAccounts(t *testing.T, settings string) *accounts {
	t.Helper()
	_, loopback, err := net.ParseCIDR("127.0.0.0/8")
	require.NoError(t, err)
	b := setupOn(t, dbtest.OwnPool(t), func(o *api.Options) {
		o.TrustedProxies, o.PublicURL = []*net.IPNet{loopback}, panelURL+"/"
	})
	if settings != "" {
		code, body := b.do("PATCH", "/api/v1/settings", settings)
		require.Equal(t, http.StatusOK, code, "%v", body)
	}
	srv, err := smtptest.Start()
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	m, err := mail.NewSMTP(srv.Addr, "", "", "none")
	require.NoError(t, err)
	acts := &activities.Activities{Store: b.store, Mail: m, SMS: &sms.Log{Path: filepath.Join(t.TempDir(), "sms.log")},
		MailFrom: "billing@example.com", Log: slog.New(slog.DiscardHandler)}
	return &accounts{bundle: b, smtp: srv, acts: acts, addr: testAddress()}
}

// public calls a public route from the test's address, without a token.
func (a *accounts) public(path, body string) (int, map[string]any) {
	a.t.Helper()
	return a.request("", "POST", path, body, map[string]string{"X-Forwarded-For": a.addr})
}

// deliver runs the notice redelivery, as its schedule does every minute,
// and returns the mails delivered so far to to.
func (a *accounts) deliver(to string) []smtptest.Message {
	a.t.Helper()
	ctx, cancel := context.WithTimeout(a.t.Context(), time.Minute)
	defer cancel()
	_, err := a.store.Pool().Exec(ctx, `UPDATE notices SET next_attempt_at = now() - interval '1 second' WHERE next_attempt_at IS NOT NULL`)
	require.NoError(a.t, err)
	_, err = a.acts.RedeliverNotices(ctx, activities.RedeliverInput{})
	require.NoError(a.t, err)
	var out []smtptest.Message
	for _, m := range a.smtp.Messages() {
		if strings.Contains(m.To, to) {
			out = append(out, m)
		}
	}
	return out
}

// text is a mail's decoded text body.
func text(t *testing.T, m smtptest.Message) string {
	t.Helper()
	if !strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		return m.Body
	}
	b, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(m.Body)))
	require.NoError(t, err)
	return string(b)
}

// linkToken finds the link to page in a mail and returns its token.
func linkToken(t *testing.T, body, page string) string {
	t.Helper()
	m := regexp.MustCompile(regexp.QuoteMeta(panelURL+page) + `\?token=(\S+)`).FindStringSubmatch(body)
	require.NotNil(t, m, "no link to %s in %q", page, body)
	token, err := url.QueryUnescape(m[1])
	require.NoError(t, err)
	return token
}

// registerByStaff registers a customer with a main user and a second user
// through the staff route and returns the customer's ID and the main user's login.
func (a *accounts) registerByStaff(lang string) (string, string) {
	a.t.Helper()
	login := "r" + uniq()
	code, body := a.doJSON("POST", "/api/v1/customers", map[string]any{"account_type": "individual", "name": "Reg & Co",
		"country": "DE", "language": lang, "time_zone": "Europe/Berlin",
		"user": map[string]any{"login": login, "email": login + "@example.com", "first_name": "Ria", "password": "staff-chosen-123"}})
	require.Equal(a.t, http.StatusCreated, code, "%v", body)
	cust := jsonID(body["customer"])
	code, body = a.do("POST", "/api/v1/customers/"+cust+"/users", mustJSON(map[string]any{"login": "o" + login, "email": "o" + login + "@example.com"}))
	require.Equal(a.t, http.StatusCreated, code, "%v", body)
	return cust, login
}

// TestRegistrationNotice: staff register a customer; the main user alone
// receives the registration notice once, in their language, with their
// login and a one-time link (never a password) that sets the password,
// confirms the address, and works once.
func TestRegistrationNotice(t *testing.T) {
	t.Parallel()
	a := newAccounts(t, "")
	code, body := a.do("PUT", "/api/v1/message-templates/registration/email/de",
		mustJSON(map[string]string{"subject": "Willkommen [USER_NAME]", "body": "Login [LOGIN] für [CUSTOMER_NAME]: [SET_PASSWORD_URL] bis [LINK_EXPIRES]"}))
	require.Equal(t, http.StatusOK, code, "%v", body)
	cust, login := a.registerByStaff("de")

	mails := a.deliver("@example.com")
	require.Len(t, mails, 1, "one mail, to the main user only")
	m := mails[0]
	require.Equal(t, login+"@example.com", m.To)
	require.Equal(t, "Willkommen Ria", m.Subject, "the user's language (German)")
	body0 := text(t, m)
	require.Contains(t, body0, "Login "+login+" für Reg & Co")
	require.NotContains(t, body0, "staff-chosen-123", "never a password")
	require.Regexp(t, `bis \d{4}-\d\d-\d\d \d\d:\d\d CES?T`, body0, "the expiry in the customer's time zone")
	token := linkToken(t, body0, "/set-password")

	// The log shows it once; delivering again sends nothing more.
	code, body = a.do("GET", "/api/v1/notifications?customer_id="+cust+"&event=registration", "")
	require.Equal(t, http.StatusOK, code)
	require.Len(t, body["items"], 1)
	require.Len(t, a.deliver("@example.com"), 1)

	code, body = a.public("/api/v1/auth/login", mustJSON(map[string]string{"login": login, "password": "staff-chosen-123"}))
	require.Equal(t, http.StatusCreated, code, "%v", body)
	oldSession := body["token"].(string)
	a.linkLasts("set_password", 72*time.Hour)

	// A short password changes nothing and leaves the link usable.
	code, _ = a.public("/api/v1/auth/set-password", mustJSON(map[string]string{"token": token, "password": "short"}))
	require.Equal(t, http.StatusUnprocessableEntity, code)
	code, body = a.public("/api/v1/auth/set-password", mustJSON(map[string]string{"token": token + "x", "password": "ria-own-password"}))
	require.Equal(t, http.StatusNotFound, code, "a wrong token")
	_, msg, _ := errorOf(t, body)
	require.Contains(t, msg, "not valid")
	code, body = a.public("/api/v1/auth/set-password", mustJSON(map[string]string{"token": token, "password": "ria-own-password"}))
	require.Equal(t, http.StatusNoContent, code, "%v", body)
	code, body = a.public("/api/v1/auth/set-password", mustJSON(map[string]string{"token": token, "password": "another-password-1"}))
	require.Equal(t, http.StatusConflict, code, "a link works once")
	_, msg, _ = errorOf(t, body)
	require.Contains(t, msg, "already used")

	code, _ = a.public("/api/v1/auth/login", mustJSON(map[string]string{"login": login, "password": "staff-chosen-123"}))
	require.Equal(t, http.StatusUnauthorized, code, "the old password no longer works")
	code, _ = a.doAs(oldSession, "GET", "/api/v1/auth/me", "")
	require.Equal(t, http.StatusUnauthorized, code, "the user's other sessions ended")
	code, body = a.public("/api/v1/auth/login", mustJSON(map[string]string{"login": login, "password": "ria-own-password"}))
	require.Equal(t, http.StatusCreated, code, "%v", body)
	code, body = a.do("GET", "/api/v1/customers/"+cust+"/users", "")
	require.Equal(t, http.StatusOK, code)
	main := body["items"].([]any)[0].(map[string]any)
	require.Equal(t, true, main["main"])
	require.Equal(t, true, main["email_verified"], "the link went to the address: it is confirmed")
}

// TestSetPasswordLinkExpires: an expired link answers 409 and changes nothing.
func TestSetPasswordLinkExpires(t *testing.T) {
	t.Parallel()
	a := newAccounts(t, "")
	_, login := a.registerByStaff("en")
	mails := a.deliver(login + "@example.com")
	require.Len(t, mails, 1)
	require.Equal(t, "Welcome to your account, Ria", mails[0].Subject, "the built-in English template")
	token := linkToken(t, text(t, mails[0]), "/set-password")
	_, err := a.store.Pool().Exec(t.Context(), `UPDATE account_tokens SET expires_at = now() - interval '1 second'`)
	require.NoError(t, err)
	code, body := a.public("/api/v1/auth/set-password", mustJSON(map[string]string{"token": token, "password": "too-late-password"}))
	require.Equal(t, http.StatusConflict, code)
	_, msg, _ := errorOf(t, body)
	require.Contains(t, msg, "expired")
	code, _ = a.public("/api/v1/auth/login", mustJSON(map[string]string{"login": login, "password": "staff-chosen-123"}))
	require.Equal(t, http.StatusCreated, code, "the password is unchanged")
}

// selfRegistration is a registration form for login.
func selfRegistration(login string) string {
	return mustJSON(map[string]any{"account_type": "individual", "name": "Self " + login, "country": "FR", "language": "fr",
		"user": map[string]any{"login": login, "email": login + "@example.com", "password": "self-chosen-123", "first_name": "Sam"}})
}

// TestSelfRegistrationWithActivation: with verify_client_email on, a client
// registers, receives the activation link (main user only, their language),
// may sign in but not order, asks for a new link (the old one stops
// working), confirms the address with it and may then order. A used, wrong
// or expired link is refused and changes nothing.
func TestSelfRegistrationWithActivation(t *testing.T) {
	t.Parallel()
	a := newAccounts(t, `{"verify_client_email": true}`)
	code, body := a.do("PUT", "/api/v1/message-templates/email_activation/email/fr",
		`{"subject": "Confirmez [LOGIN]", "body": "Bonjour [USER_NAME], [ACTIVATION_URL] (jusqu'au [LINK_EXPIRES])"}`)
	require.Equal(t, http.StatusOK, code, "%v", body)
	login := "s" + uniq()
	code, body = a.public("/api/v1/auth/register", selfRegistration(login))
	require.Equal(t, http.StatusCreated, code, "%v", body)
	require.Equal(t, true, body["activation_required"])
	require.Equal(t, false, body["user"].(map[string]any)["email_verified"])
	require.NotContains(t, body["customer"], "note", "the client's view")
	cust := jsonID(body["customer"])

	mails := a.deliver("@example.com")
	require.Len(t, mails, 1, "the activation notice only: no registration notice for a password the client chose")
	require.Equal(t, login+"@example.com", mails[0].To)
	require.Equal(t, "Confirmez "+login, mails[0].Subject, "French, the user's language")
	first := linkToken(t, text(t, mails[0]), "/activate")
	a.linkLasts("activate_email", 24*time.Hour)

	code, body = a.public("/api/v1/auth/login", mustJSON(map[string]string{"login": login, "password": "self-chosen-123"}))
	require.Equal(t, http.StatusCreated, code, "an unconfirmed client signs in")
	client := body["token"].(string)
	code, body = a.doAs(client, "GET", "/api/v1/customers/"+cust, "")
	require.Equal(t, http.StatusOK, code, "and reads their customer")
	price := int64(100)
	code, body = a.doJSON("POST", "/api/v1/products", map[string]any{"name": "VPS", "price": price, "currency": "EUR", "period_unit": "month"})
	require.Equal(t, http.StatusCreated, code, "%v", body)
	order := fmt.Sprintf(`{"customer_id": %s, "product_id": %s}`, cust, jsonID(body))
	code, body = a.doAs(client, "POST", "/api/v1/subscriptions", order)
	require.Equal(t, http.StatusForbidden, code, "but may not order")
	_, msg, _ := errorOf(t, body)
	require.Contains(t, msg, "confirm your email address")

	// Asking for a new link: the same answer for an unknown address.
	code, known := a.public("/api/v1/auth/activation/resend", mustJSON(map[string]string{"email": login + "@example.com"}))
	require.Equal(t, http.StatusAccepted, code)
	code, unknown := a.public("/api/v1/auth/activation/resend", mustJSON(map[string]string{"email": "nobody-" + login + "@example.com"}))
	require.Equal(t, http.StatusAccepted, code)
	require.Equal(t, known, unknown, "no account enumeration")
	mails = a.deliver("@example.com")
	require.Len(t, mails, 2, "one new link, to the known address only")
	second := linkToken(t, text(t, mails[1]), "/activate")
	require.NotEqual(t, first, second)

	code, body = a.public("/api/v1/auth/activate", mustJSON(map[string]string{"token": first}))
	require.Equal(t, http.StatusConflict, code, "the older link was replaced")
	code, _ = a.public("/api/v1/auth/activate", mustJSON(map[string]string{"token": "made-up"}))
	require.Equal(t, http.StatusNotFound, code)
	code, body = a.public("/api/v1/auth/activate", `{"token": ""}`)
	require.Equal(t, http.StatusUnprocessableEntity, code, "%v", body)
	code, body = a.doAs(client, "POST", "/api/v1/subscriptions", order)
	require.Equal(t, http.StatusForbidden, code, "still unconfirmed: nothing was written")

	code, body = a.public("/api/v1/auth/activate", mustJSON(map[string]string{"token": second}))
	require.Equal(t, http.StatusNoContent, code, "%v", body)
	code, _ = a.public("/api/v1/auth/activate", mustJSON(map[string]string{"token": second}))
	require.Equal(t, http.StatusConflict, code, "used")
	code, body = a.doAs(client, "GET", "/api/v1/customers/"+cust+"/users", "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, true, body["items"].([]any)[0].(map[string]any)["email_verified"])
	code, body = a.doAs(client, "POST", "/api/v1/subscriptions", order)
	require.Equal(t, http.StatusCreated, code, "confirmed: the client orders; %v", body)

	code, _ = a.public("/api/v1/auth/activation/resend", mustJSON(map[string]string{"email": login + "@example.com"}))
	require.Equal(t, http.StatusAccepted, code)
	require.Len(t, a.deliver("@example.com"), 2, "a confirmed address is sent no link")
}

// TestActivationLinkExpires: an expired activation link confirms nothing.
func TestActivationLinkExpires(t *testing.T) {
	t.Parallel()
	a := newAccounts(t, `{"verify_client_email": true}`)
	login := "x" + uniq()
	code, body := a.public("/api/v1/auth/register", selfRegistration(login))
	require.Equal(t, http.StatusCreated, code, "%v", body)
	mails := a.deliver(login + "@example.com")
	require.Len(t, mails, 1)
	require.Equal(t, "Please confirm your email address", mails[0].Subject, "no French template: the built-in English one")
	_, err := a.store.Pool().Exec(t.Context(), `UPDATE account_tokens SET expires_at = now() - interval '1 second'`)
	require.NoError(t, err)
	code, body = a.public("/api/v1/auth/activate", mustJSON(map[string]string{"token": linkToken(t, text(t, mails[0]), "/activate")}))
	require.Equal(t, http.StatusConflict, code)
	_, msg, _ := errorOf(t, body)
	require.Contains(t, msg, "expired")
	var verified bool
	require.NoError(t, a.store.Pool().QueryRow(t.Context(), `SELECT email_verified FROM users WHERE login = $1`, login).Scan(&verified))
	require.False(t, verified)
}

// TestSelfRegistrationWithoutActivation: with verify_client_email off, a
// self-registered client may order at once, and nobody is mailed.
func TestSelfRegistrationWithoutActivation(t *testing.T) {
	t.Parallel()
	a := newAccounts(t, "")
	login := "n" + uniq()
	code, body := a.public("/api/v1/auth/register", selfRegistration(login))
	require.Equal(t, http.StatusCreated, code, "%v", body)
	require.Equal(t, false, body["activation_required"])
	cust := jsonID(body["customer"])
	code, body = a.public("/api/v1/auth/login", mustJSON(map[string]string{"login": login, "password": "self-chosen-123"}))
	require.Equal(t, http.StatusCreated, code)
	client := body["token"].(string)
	code, body = a.doJSON("POST", "/api/v1/products", map[string]any{"name": "VPS", "price": 100, "currency": "EUR", "period_unit": "month"})
	require.Equal(t, http.StatusCreated, code)
	code, body = a.doAs(client, "POST", "/api/v1/subscriptions", fmt.Sprintf(`{"customer_id": %s, "product_id": %s}`, cust, jsonID(body)))
	require.Equal(t, http.StatusCreated, code, "%v", body)
	require.Empty(t, a.deliver("@example.com"))

	// Staff's fields are not the client's to set.
	code, body = a.public("/api/v1/auth/register", strings.Replace(selfRegistration("p"+uniq()), `"country"`, `"post_paid": true, "country"`, 1))
	require.Equal(t, http.StatusUnprocessableEntity, code, "%v", body)
}

// TestRegistrationRateLimit: five registrations an hour from one address;
// the sixth answers 429 with Retry-After and creates nothing; another
// address goes on. Invalid forms are not counted.
func TestRegistrationRateLimit(t *testing.T) {
	t.Parallel()
	a := newAccounts(t, "")
	code, _ := a.public("/api/v1/auth/register", `{}`)
	require.Equal(t, http.StatusUnprocessableEntity, code)
	for range 5 {
		code, body := a.public("/api/v1/auth/register", selfRegistration("l"+uniq()))
		require.Equal(t, http.StatusCreated, code, "%v", body)
	}
	login := "l" + uniq()
	res, raw := a.send("", "POST", "/api/v1/auth/register", selfRegistration(login),
		map[string]string{"Content-Type": "application/json", "X-Forwarded-For": a.addr})
	require.Equal(t, http.StatusTooManyRequests, res.StatusCode, "%s", raw)
	require.NotEmpty(t, res.Header.Get("Retry-After"))
	var n int
	require.NoError(t, a.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM users WHERE login = $1`, login).Scan(&n))
	require.Zero(t, n)
	a.addr = testAddress()
	code, body := a.public("/api/v1/auth/register", selfRegistration(login))
	require.Equal(t, http.StatusCreated, code, "%v", body)
}

// TestActivationResendRateLimit: three new links an hour for one address;
// the fourth answers 429, known address or not.
func TestActivationResendRateLimit(t *testing.T) {
	t.Parallel()
	a := newAccounts(t, `{"verify_client_email": true}`)
	email := "nobody-" + uniq() + "@example.com"
	for range 3 {
		code, _ := a.public("/api/v1/auth/activation/resend", mustJSON(map[string]string{"email": email}))
		require.Equal(t, http.StatusAccepted, code)
		a.addr = testAddress() // the address's own limit is not what stops it
	}
	code, _ := a.public("/api/v1/auth/activation/resend", mustJSON(map[string]string{"email": strings.ToUpper(email)}))
	require.Equal(t, http.StatusTooManyRequests, code)

	// Five an hour from one address, whatever the email addresses.
	a.addr = testAddress()
	for range 5 {
		code, _ := a.public("/api/v1/auth/activation/resend", mustJSON(map[string]string{"email": "x" + uniq() + "@example.com"}))
		require.Equal(t, http.StatusAccepted, code)
	}
	code, _ = a.public("/api/v1/auth/activation/resend", mustJSON(map[string]string{"email": "x" + uniq() + "@example.com"}))
	require.Equal(t, http.StatusTooManyRequests, code)
}

// linkLasts checks that the newest link of purpose works for about ttl.
func (a *accounts) linkLasts(purpose string, ttl time.Duration) {
	a.t.Helper()
	var secs float64
	require.NoError(a.t, a.store.Pool().QueryRow(a.t.Context(), `SELECT extract(epoch FROM expires_at - created_at)::float8
		FROM account_tokens WHERE purpose = $1 ORDER BY id DESC LIMIT 1`, purpose).Scan(&secs))
	require.InDelta(a.t, ttl.Seconds(), secs, 60)
}

// verificationMails delivers and returns the account verification mails to to, so far.
func (a *accounts) verificationMails(to string) []smtptest.Message {
	a.t.Helper()
	var out []smtptest.Message
	for _, m := range a.deliver(to) {
		if m.Subject == "Please verify your account" {
			out = append(out, m)
		}
	}
	return out
}

// TestAccountVerification: client_verification after_registration sends
// the account verification notice to the main user at registration (staff's
// or the client's own); after_first_payment when a payment is marked paid,
// once per customer; none never. Its link verifies the account once.
func TestAccountVerification(t *testing.T) {
	t.Parallel()
	t.Run("after registration", func(t *testing.T) {
		t.Parallel()
		a := newAccounts(t, `{"client_verification": "after_registration"}`)
		cust, login := a.registerByStaff("en")
		mails := a.verificationMails("@example.com")
		require.Len(t, mails, 1, "to the main user only")
		require.Equal(t, login+"@example.com", mails[0].To)
		require.Contains(t, text(t, mails[0]), "the account of Reg & Co")
		token := linkToken(t, text(t, mails[0]), "/verify")
		a.linkLasts("verify_account", 7*24*time.Hour)
		code, body := a.do("GET", "/api/v1/customers/"+cust, "")
		require.Equal(t, http.StatusOK, code, "%v", body)
		require.Contains(t, body, "verified_at")
		require.Nil(t, body["verified_at"], "not verified yet")
		code, _ = a.public("/api/v1/auth/verify", mustJSON(map[string]string{"token": "wrong"}))
		require.Equal(t, http.StatusNotFound, code)
		code, body = a.public("/api/v1/auth/verify", mustJSON(map[string]string{"token": token}))
		require.Equal(t, http.StatusNoContent, code, "%v", body)
		// Staff see the state on the customer, alone and in the list.
		code, body = a.do("GET", "/api/v1/customers/"+cust, "")
		require.Equal(t, http.StatusOK, code, "%v", body)
		at, err := time.Parse(time.RFC3339Nano, body["verified_at"].(string))
		require.NoError(t, err)
		require.WithinDuration(t, time.Now(), at, time.Minute)
		code, body = a.do("GET", "/api/v1/customers?id="+cust, "")
		require.Equal(t, http.StatusOK, code, "%v", body)
		require.Equal(t, at.Format(time.RFC3339Nano), body["items"].([]any)[0].(map[string]any)["verified_at"])
		code, _ = a.public("/api/v1/auth/verify", mustJSON(map[string]string{"token": token}))
		require.Equal(t, http.StatusConflict, code, "once")
		code, body = a.do("GET", "/api/v1/audit?action=verifyAccount&customer_id="+cust, "")
		require.Equal(t, http.StatusOK, code, "%v", body)
		require.Len(t, body["items"], 1, "staff see the verification in the audit log")

		self := "v" + uniq()
		code, body = a.public("/api/v1/auth/register", selfRegistration(self))
		require.Equal(t, http.StatusCreated, code, "%v", body)
		require.Len(t, a.verificationMails(self+"@example.com"), 1, "a self-registration too")
	})
	t.Run("after the first payment", func(t *testing.T) {
		t.Parallel()
		a := newAccounts(t, `{"client_verification": "after_first_payment"}`)
		cust, login := a.registerByStaff("en")
		require.Empty(t, a.verificationMails("@example.com"), "not at registration")
		for i := range 2 {
			code, body := a.do("POST", "/api/v1/payments", fmt.Sprintf(`{"customer_id": %s, "method": "wire_transfer", "amount": 500, "currency": "EUR"}`, cust))
			require.Equal(t, http.StatusCreated, code, "%v", body)
			id := jsonID(body)
			if i == 0 {
				require.Empty(t, a.verificationMails("@example.com"), "not before it is paid")
			}
			code, body = a.do("POST", "/api/v1/payments/"+id+"/paid", "")
			require.Equal(t, http.StatusOK, code, "%v", body)
		}
		mails := a.verificationMails("@example.com")
		require.Len(t, mails, 1, "once per customer, to the main user")
		require.Equal(t, login+"@example.com", mails[0].To)
	})
	t.Run("none", func(t *testing.T) {
		t.Parallel()
		a := newAccounts(t, "")
		cust, _ := a.registerByStaff("en")
		code, body := a.do("POST", "/api/v1/payments", fmt.Sprintf(`{"customer_id": %s, "method": "wire_transfer", "amount": 500, "currency": "EUR"}`, cust))
		require.Equal(t, http.StatusCreated, code, "%v", body)
		code, _ = a.do("POST", "/api/v1/payments/"+jsonID(body)+"/paid", "")
		require.Equal(t, http.StatusOK, code)
		require.Empty(t, a.verificationMails("@example.com"))
	})
}
