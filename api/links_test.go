package api_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSetPasswordLinkEndsWithItsAddress: the registration notice's link went
// to the address the main user had then. Once that address is changed (staff
// correct a typo, the client moves), whoever reads the old mailbox must not be
// able to set the password, and so take the account over.
func TestSetPasswordLinkEndsWithItsAddress(t *testing.T) {
	t.Parallel()
	a := newAccounts(t, "")
	cust, login := a.registerByStaff("en")
	mails := a.deliver(login + "@example.com")
	require.Len(t, mails, 1)
	token := linkToken(t, text(t, mails[0]), "/set-password")

	code, body := a.do("GET", "/api/v1/customers/"+cust+"/users", "")
	require.Equal(t, http.StatusOK, code)
	mainID := jsonID(body["items"].([]any)[0].(map[string]any))
	code, body = a.do("PATCH", "/api/v1/customers/"+cust+"/users/"+mainID, `{"email": "right-`+login+`@example.com"}`)
	require.Equal(t, http.StatusOK, code, "%v", body)

	code, body = a.public("/api/v1/auth/set-password", mustJSON(map[string]string{"token": token, "password": "old-mailbox-owner"}))
	require.Equal(t, http.StatusConflict, code, "a link sent to an address the user no longer has sets nothing: %v", body)
	code, _ = a.public("/api/v1/auth/login", mustJSON(map[string]string{"login": login, "password": "staff-chosen-123"}))
	require.Equal(t, http.StatusCreated, code, "the password is unchanged")
}

// TestSetPasswordLinkOnceUnderConcurrency: two posts of one link at the same
// time: one sets the password, the other is told it was used.
func TestSetPasswordLinkOnceUnderConcurrency(t *testing.T) {
	t.Parallel()
	a := newAccounts(t, "")
	_, login := a.registerByStaff("en")
	mails := a.deliver(login + "@example.com")
	require.Len(t, mails, 1)
	token := linkToken(t, text(t, mails[0]), "/set-password")
	codes := make([]int, 4)
	var wg sync.WaitGroup
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = a.public("/api/v1/auth/set-password", mustJSON(map[string]string{"token": token, "password": "concurrent-pw-" + string(rune('a'+i))}))
		}()
	}
	wg.Wait()
	n := 0
	for _, c := range codes {
		if c == http.StatusNoContent {
			n++
		} else {
			require.Equal(t, http.StatusConflict, c)
		}
	}
	require.Equal(t, 1, n, "one use: %v", codes)
}

// verifiedPayer makes a company payer of a new customer verified by staff and
// returns the customer's ID, the payer's path and a client session of the
// customer's main user.

// TestSelfRegistrationRefusesStaffFields: the README's "the staff-only
// fields are refused, 422", and a login already taken is 409.
func TestSelfRegistrationRefusesStaffFields(t *testing.T) {
	t.Parallel()
	a := newAccounts(t, "")
	login := "s" + uniq()
	for _, extra := range []string{`"note": "vip"`, `"post_paid": true`, `"group": "staff"`} {
		body := strings.Replace(selfRegistration(login), `"account_type"`, extra+`, "account_type"`, 1)
		code, out := a.public("/api/v1/auth/register", body)
		require.Equal(t, http.StatusUnprocessableEntity, code, "%s: %v", extra, out)
	}
	body := strings.Replace(selfRegistration(login), `"first_name"`, `"email_verified": true, "first_name"`, 1)
	code, out := a.public("/api/v1/auth/register", body)
	require.Equal(t, http.StatusUnprocessableEntity, code, "%v", out)
	code, out = a.public("/api/v1/auth/register", selfRegistration(login))
	require.Equal(t, http.StatusCreated, code, "%v", out)
	code, out = a.public("/api/v1/auth/register", selfRegistration(login))
	require.Equal(t, http.StatusConflict, code, "%v", out)
}
