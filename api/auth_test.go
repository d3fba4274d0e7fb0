package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/password"
	"github.com/tempobill/billing/store"
)

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	require.NoError(t, err)
	return n
}

// signIn signs in over the API and returns the token.
func (b *bundle) signIn(path, login, pw string) string {
	b.t.Helper()
	status, body := b.doAs("", "POST", path, mustJSON(map[string]string{"login": login, "password": pw}))
	require.Equal(b.t, http.StatusCreated, status, "%v", body)
	return body["token"].(string)
}

func TestClientSignInSeesOnlyOwnData(t *testing.T) {
	t.Parallel()
	b := setup(t)
	login := "w" + uniq()
	status, body := b.doJSON("POST", "/api/v1/customers", map[string]any{"account_type": "individual", "name": "Walk Through", "country": "DE",
		"note": "staff only note", "user": map[string]any{"login": login, "email": login + "@example.com", "password": "walkthrough-pw-1"}})
	require.Equal(t, http.StatusCreated, status, "%v", body)
	id := jsonID(body["customer"])
	other, _ := b.newCustomer()

	token := b.signIn("/api/v1/auth/login", login, "walkthrough-pw-1")
	status, me := b.doAs(token, "GET", "/api/v1/auth/me", "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "client", me["kind"])

	status, cust := b.doAs(token, "GET", "/api/v1/customers/"+id, "")
	require.Equal(t, http.StatusOK, status)
	require.NotContains(t, cust, "note", "clients don't see staff notes")
	require.NotContains(t, cust, "attitude")

	status, _ = b.doAs(token, "GET", "/api/v1/customers/"+other, "")
	require.Equal(t, http.StatusNotFound, status, "another customer's ID answers 404")
	status, _ = b.doAs(token, "GET", "/api/v1/customers", "")
	require.Equal(t, http.StatusForbidden, status)

	status, body = b.doAs(token, "PATCH", "/api/v1/customers/"+id, `{"name": "Renamed", "attitude": "positive", "post_paid": true}`)
	require.Equal(t, http.StatusForbidden, status)
	_, _, fields := errorOf(t, body)
	require.Contains(t, fields, "attitude")
	require.Contains(t, fields, "post_paid")
	status, body = b.doAs(token, "PATCH", "/api/v1/customers/"+id, `{"name": "Renamed"}`)
	require.Equal(t, http.StatusOK, status, "%v", body)

	status, _ = b.doAs(token, "POST", "/api/v1/payments", `{"customer_id": `+other+`, "method": "electronic", "amount": 100, "currency": "EUR"}`)
	require.Equal(t, http.StatusNotFound, status, "a client can't record a payment for another customer")
	status, _ = b.doAs(token, "GET", "/api/v1/payments?customer_id="+other, "")
	require.Equal(t, http.StatusNotFound, status)
	status, _ = b.doAs(token, "POST", "/api/v1/customers/"+id+"/ledger", `{"kind": "credit", "amount": 100000, "currency": "EUR", "reference": "free money", "idempotency_key": "x"}`)
	require.Equal(t, http.StatusForbidden, status, "a client can't write the ledger")

	users, err := b.store.Users(t.Context(), mustID(t, id))
	require.NoError(t, err)
	second := "o" + uniq()
	status, body = b.doJSON("POST", "/api/v1/customers/"+id+"/users", map[string]any{"login": second, "email": second + "@example.com"})
	require.Equal(t, http.StatusCreated, status, "%v", body)
	status, _ = b.doAs(token, "PATCH", "/api/v1/customers/"+id+"/users/"+jsonID(body), `{"password": "taken-over-123"}`)
	require.Equal(t, http.StatusForbidden, status, "a user can't change another user's password")
	status, _ = b.doAs(token, "PATCH", fmt.Sprint("/api/v1/customers/", id, "/users/", users[0].ID), `{"password": "my-new-password-1"}`)
	require.Equal(t, http.StatusOK, status, "but their own")

	status, _ = b.doAs(token, "POST", "/api/v1/auth/logout", "")
	require.Equal(t, http.StatusNoContent, status)
	status, body = b.doAs(token, "GET", "/api/v1/auth/me", "")
	require.Equal(t, http.StatusUnauthorized, status, "a revoked token stops working")
	code, _, _ := errorOf(t, body)
	require.Equal(t, "unauthorized", code)
}

func TestExpiredAndBadTokens(t *testing.T) {
	t.Parallel()
	b := setup(t)
	staff, err := b.store.CreateStaff(t.Context(), billing.StaffCreate{Login: "t" + uniq(), Email: uniq() + "@staff.example", Role: billing.RoleAdmin, Permissions: []string{}}, "x")
	require.NoError(t, err)
	// Expired an hour ago, not a second: the database's clock decides, and it
	// may be another machine's (DATABASE_URL).
	expired := b.session(store.Session{Kind: billing.ActorStaff, StaffID: staff.ID, ExpiresAt: time.Now().Add(-time.Hour)})
	for _, h := range []string{expired, "bs_nonsense", "bk_nonsense", ""} {
		status, _ := b.doAs(h, "GET", "/api/v1/customers", "")
		require.Equal(t, http.StatusUnauthorized, status, h)
	}
	req, err := http.NewRequest("GET", b.srv.URL+"/api/v1/customers", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Basic YWRtaW46YWRtaW4=")
	res, _ := b.exchange(req, "")
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)

	live := b.session(store.Session{Kind: billing.ActorStaff, StaffID: staff.ID})
	status, _ := b.doAs(live, "GET", "/api/v1/customers", "")
	require.Equal(t, http.StatusOK, status)
	disabled := billing.StaffDisabled
	_, err = b.store.UpdateStaff(t.Context(), billing.Principal{Kind: billing.ActorSystem, Role: billing.RoleAdmin}, staff.ID, billing.StaffUpdate{Status: &disabled}, "")
	require.NoError(t, err)
	status, _ = b.doAs(live, "GET", "/api/v1/customers", "")
	require.Equal(t, http.StatusUnauthorized, status, "disabling a staff member ends their sessions")
}

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	b := setup(t)
	status, body := b.do("POST", "/api/v1/api-keys", `{"name": "crm sync"}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	key := body["key"].(string)
	keyID := jsonID(body)

	status, me := b.doAs(key, "GET", "/api/v1/auth/me", "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "api_key", me["kind"])
	status, _ = b.doAs(key, "GET", "/api/v1/customers", "")
	require.Equal(t, http.StatusOK, status)

	status, list := b.do("GET", "/api/v1/api-keys", "")
	require.Equal(t, http.StatusOK, status)
	require.NotContains(t, mustJSON(list), key, "the key is shown once, never listed")
	// Other tests' keys are listed too: look for this test's own key.
	var listed any
	for _, k := range list["items"].([]any) {
		if jsonID(k) == keyID {
			listed = k.(map[string]any)["name"]
		}
	}
	require.Equal(t, "crm sync", listed, "the new key is listed by its name")

	status, _ = b.do("DELETE", "/api/v1/api-keys/"+keyID, "")
	require.Equal(t, http.StatusOK, status)
	status, _ = b.doAs(key, "GET", "/api/v1/customers", "")
	require.Equal(t, http.StatusUnauthorized, status, "a revoked key stops working")
}

func TestImpersonationIsAudited(t *testing.T) {
	t.Parallel()
	b := setup(t)
	hash, err := password.Hash("support-pw-123")
	require.NoError(t, err)
	login := "sup" + uniq()
	staff, err := b.store.CreateStaff(t.Context(), billing.StaffCreate{Login: login, Email: login + "@staff.example", Role: billing.RoleStaff,
		Permissions: []string{billing.PermImpersonate, billing.PermCustomersRead}}, hash)
	require.NoError(t, err)
	staffToken := b.signIn("/api/v1/auth/staff/login", login, "support-pw-123")
	id, _ := b.newCustomer()
	other, _ := b.newCustomer()

	status, body := b.doAs(staffToken, "POST", "/api/v1/customers/"+id+"/impersonate", "")
	require.Equal(t, http.StatusCreated, status, "%v", body)
	imp := body["token"].(string)
	require.Equal(t, "impersonation", body["principal"].(map[string]any)["kind"])

	status, _ = b.doAs(imp, "PATCH", "/api/v1/customers/"+id, `{"contact_person": "Changed by support"}`)
	require.Equal(t, http.StatusOK, status)
	status, _ = b.doAs(imp, "GET", "/api/v1/customers/"+other, "")
	require.Equal(t, http.StatusNotFound, status, "an impersonation token is scoped to its customer")
	status, _ = b.doAs(imp, "GET", "/api/v1/customers", "")
	require.Equal(t, http.StatusForbidden, status, "an impersonation token has no staff rights")

	status, audit := b.do("GET", "/api/v1/audit?actor_kind=impersonation&customer_id="+id, "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 1.0, audit["total"], "%v", audit)
	entry := audit["items"].([]any)[0].(map[string]any)
	require.Equal(t, "updateCustomer", entry["action"])
	require.Equal(t, float64(staff.ID), entry["staff_id"], "recorded as done by the staff member")
	require.Equal(t, id, strconv.FormatFloat(entry["customer_id"].(float64), 'f', 0, 64), "on behalf of the customer")
	require.Equal(t, "127.0.0.1", entry["ip"])

	status, audit = b.do("GET", fmt.Sprintf("/api/v1/audit?action=impersonate&staff_id=%d", staff.ID), "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 1.0, audit["total"], "switching to the panel is audited too")

	status, body = b.doAs(imp, "POST", "/api/v1/auth/return", "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	status, _ = b.doAs(imp, "GET", "/api/v1/customers/"+id, "")
	require.Equal(t, http.StatusUnauthorized, status, "returning ends the impersonation")
	status, _ = b.doAs(staffToken, "GET", "/api/v1/customers/"+id, "")
	require.Equal(t, http.StatusOK, status, "the staff member's own session goes on")
}

func TestMoneyWritesAreAudited(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id, _ := b.newCustomer()
	status, body := b.do("POST", "/api/v1/payments", `{"customer_id": `+id+`, "method": "electronic", "amount": 700, "currency": "EUR"}`)
	require.Equal(t, http.StatusCreated, status)
	payID := jsonID(body)
	status, _ = b.do("POST", "/api/v1/payments/"+payID+"/paid", "")
	require.Equal(t, http.StatusOK, status)
	status, _ = b.do("POST", "/api/v1/payments", `{"customer_id": `+id+`, "method": "electronic", "amount": -1, "currency": "EUR"}`)
	require.Equal(t, http.StatusUnprocessableEntity, status)

	status, audit := b.do("GET", "/api/v1/audit?customer_id="+id+"&object_type=payment", "")
	require.Equal(t, http.StatusOK, status)
	var actions []string
	for _, e := range audit["items"].([]any) {
		actions = append(actions, e.(map[string]any)["action"].(string))
		require.Equal(t, payID, e.(map[string]any)["object_id"])
	}
	require.Equal(t, []string{"markPaymentPaid", "createPayment"}, actions, "a refused request changes nothing and logs nothing")

	status, _ = b.do("GET", "/api/v1/audit?since=yesterday", "")
	require.Equal(t, http.StatusUnprocessableEntity, status)
}

// TestSignInSlowDown is not parallel: it fills the failure counter of the
// test address, which would slow other sign-ins down; it clears it after.
func TestSignInSlowDown(t *testing.T) {
	b := setup(t)
	t.Cleanup(func() {
		_, err := b.store.Pool().Exec(context.Background(), `DELETE FROM login_failures`)
		require.NoError(t, err)
	})
	// A slow-down lasts a second from the failure that began it (then two,
	// four...), so only a sign-in sent within that second must be refused. The
	// checks below follow the failures at once, but a busy machine can take
	// longer than a second: then the answer proves nothing, and the check is
	// made again (at most 3 times, staying below the address's 20 failures).
	var lastFailure time.Time // when the request of the latest failure was sent
	attempt := func(path, login, pw string) (int, http.Header) {
		t.Helper()
		body := mustJSON(map[string]string{"login": login, "password": pw})
		req, err := http.NewRequest("POST", b.srv.URL+path, stringsReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		sent := time.Now()
		res, _ := b.exchange(req, body)
		if res.StatusCode == http.StatusUnauthorized {
			lastFailure = sent
		}
		return res.StatusCode, res.Header
	}
	// check sends a sign-in that must be refused, and says whether it came too
	// late after the latest failure for its answer to prove anything.
	check := func(path, login, pw string) (status int, header http.Header, late bool) {
		t.Helper()
		failure := lastFailure
		status, header = attempt(path, login, pw)
		return status, header, time.Since(failure) >= time.Second
	}

	var status int
	var header http.Header
	for try := 1; ; try++ {
		login := "bf" + uniq()
		code, body := b.doJSON("POST", "/api/v1/customers", map[string]any{"account_type": "individual", "name": "Brute", "country": "DE",
			"user": map[string]any{"login": login, "email": login + "@example.com", "password": "the-right-password"}})
		require.Equal(t, http.StatusCreated, code, "%v", body)
		for i := range 5 {
			code, _ := attempt("/api/v1/auth/login", login, "guess-guess")
			require.Equal(t, http.StatusUnauthorized, code, "attempt %d", i+1)
		}
		var late bool
		status, header, late = check("/api/v1/auth/login", login, "the-right-password")
		if status == http.StatusTooManyRequests || !late || try == 3 {
			break
		}
		t.Logf("the right password came over a second after the fifth failure, too late to tell; again with another login")
	}
	require.Equal(t, http.StatusTooManyRequests, status, "after 5 failures even the right password must wait")
	require.NotEmpty(t, header.Get("Retry-After"))

	// Per address: failures spread over many logins slow the address down too.
	for try := 1; ; try++ {
		for i := range 20 {
			code, _ := attempt("/api/v1/auth/login", fmt.Sprint("nobody", i, uniq()), "guess-guess")
			if code == http.StatusTooManyRequests {
				break
			}
			require.Equal(t, http.StatusUnauthorized, code)
		}
		var late bool
		status, _, late = check("/api/v1/auth/staff/login", "someone-new", "guess-guess")
		if status == http.StatusTooManyRequests || !late || try == 3 {
			break
		}
		t.Logf("the staff sign-in came over a second after the last failure, too late to tell; again")
	}
	require.Equal(t, http.StatusTooManyRequests, status, "the address is slowed down whatever login it tries")

	status, audit := b.do("GET", "/api/v1/audit?action=loginFailed&limit=1", "")
	require.Equal(t, http.StatusOK, status)
	require.GreaterOrEqual(t, audit["total"], 20.0, "failed sign-ins are audited")
}
