package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRegisterCustomer(t *testing.T) {
	t.Parallel()
	b := setup(t)
	login := "r" + uniq()
	status, body := b.doJSON("POST", "/api/v1/customers", map[string]any{
		"account_type": "company", "name": "Müller & Söhne GmbH", "country": "DE", "time_zone": "Europe/Berlin",
		"company": map[string]any{"legal_name": "Müller & Söhne GmbH", "tax_id": "DE123456789"},
		"user":    map[string]any{"login": login, "email": login + "@example.com", "phone": "+4915112345678"},
	})
	require.Equal(t, http.StatusCreated, status, "%v", body)
	pw := body["generated_password"].(string)
	require.Len(t, pw, 16, "a password is generated when none is given")
	cust := body["customer"].(map[string]any)
	require.Equal(t, "Müller & Söhne GmbH", cust["name"])
	require.Equal(t, "active", cust["status"])
	require.Equal(t, "Europe/Berlin", cust["time_zone"])
	require.Equal(t, "DE123456789", cust["company"].(map[string]any)["tax_id"])
	require.Equal(t, true, body["user"].(map[string]any)["main"])
	require.NotContains(t, fmt.Sprint(body), "argon2", "the password hash never leaves the server")

	id := jsonID(body["customer"])
	status, got := b.do("GET", "/api/v1/customers/"+id, "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, cust["name"], got["name"])

	status, got = b.do("PATCH", "/api/v1/customers/"+id, `{"note": "pays late", "attitude": "negative", "post_paid": true}`)
	require.Equal(t, http.StatusOK, status, "%v", got)
	require.Equal(t, "pays late", got["note"])
	require.Equal(t, true, got["post_paid"])
	require.Equal(t, "Müller & Söhne GmbH", got["name"], "fields left out stay as they were")

	status, got = b.do("PATCH", "/api/v1/customers/"+id, `{"account_type": "individual", "company": {"legal_name": "x"}}`)
	require.Equal(t, http.StatusUnprocessableEntity, status)
	_, _, fields := errorOf(t, got)
	require.Contains(t, fields, "company")

	// Other tests may register customers of the same name at the same time;
	// the search must find this one.
	status, got = b.do("GET", "/api/v1/customers?name="+url.QueryEscape("söhne")+"&id="+id+"&sort=-id", "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 1.0, got["total"], "a case-insensitive search finds the customer: %v", got)

	status, got = b.do("DELETE", "/api/v1/customers/"+id, "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "deleted", got["status"])
	status, _ = b.do("PATCH", "/api/v1/customers/"+id, `{"note": "x"}`)
	require.Equal(t, http.StatusConflict, status, "a deleted customer can't be changed")
}

// TestRegisterBadInput sends nasty registrations. Each gets the exact status
// and names the offending field, and none leaves a customer behind.
func TestRegisterBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, taken := b.newCustomer()
	// Names carry this test's tag, so the check below sees only its own rows
	// while other tests register customers in parallel.
	tag := "t" + uniq()
	valid := func(name string) map[string]any {
		login := "b" + uniq()
		return map[string]any{"account_type": "individual", "name": tag + " " + name, "country": "DE",
			"user": map[string]any{"login": login, "email": login + "@example.com"}}
	}
	with := func(name string, change func(m map[string]any)) string {
		m := valid(name)
		change(m)
		return mustJSON(m)
	}
	user := func(m map[string]any) map[string]any { return m["user"].(map[string]any) }
	cases := []struct {
		name   string
		body   string
		status int
		field  string
	}{
		{"malformed JSON", `{"name": "x",`, 400, ""},
		{"not JSON", `name=x`, 400, ""},
		{"empty body", ``, 400, ""},
		{"array body", `[1, 2]`, 400, ""},
		{"trailing data", with("trailing", func(map[string]any) {}) + `{}`, 400, ""},
		{"wrong type", with("wrong type", func(m map[string]any) { m["post_paid"] = "yes" }), 422, "post_paid"},
		{"number as name", with("x", func(m map[string]any) { m["name"] = 42 }), 422, "name"},
		{"unknown field", with("unknown field", func(m map[string]any) { m["is_admin"] = true }), 422, "is_admin"},
		{"empty name", with("x", func(m map[string]any) { m["name"] = "  " }), 422, "name"},
		{"overlong name", with("x", func(m map[string]any) { m["name"] = strings.Repeat("x", 201) }), 422, "name"},
		{"control characters", with("x", func(m map[string]any) { m["name"] = "bad\x00name" }), 422, "name"},
		{"unknown account type", with("acct", func(m map[string]any) { m["account_type"] = "alien" }), 422, "account_type"},
		{"unknown country", with("country", func(m map[string]any) { m["country"] = "XX" }), 422, "country"},
		{"lowercase country", with("country", func(m map[string]any) { m["country"] = "de" }), 422, "country"},
		{"bad time zone", with("tz", func(m map[string]any) { m["time_zone"] = "Mars/Olympus" }), 422, "time_zone"},
		{"bad language", with("lang", func(m map[string]any) { m["language"] = "not a language" }), 422, "language"},
		{"bad ip", with("ip", func(m map[string]any) { m["registration_ip"] = "999.1.1.1" }), 422, "registration_ip"},
		{"company without details", with("co", func(m map[string]any) { m["account_type"] = "company" }), 422, "company"},
		{"details on individual", with("co", func(m map[string]any) { m["company"] = map[string]any{"legal_name": "x"} }), 422, "company"},
		{"missing user", with("nouser", func(m map[string]any) { delete(m, "user") }), 422, "user.login"},
		{"invalid email", with("email", func(m map[string]any) { user(m)["email"] = "ann@" }), 422, "user.email"},
		{"email with name", with("email", func(m map[string]any) { user(m)["email"] = "Ann <ann@example.com>" }), 422, "user.email"},
		{"invalid phone", with("phone", func(m map[string]any) { user(m)["phone"] = "0151 123" }), 422, "user.phone"},
		{"short password", with("pw", func(m map[string]any) { user(m)["password"] = "short" }), 422, "user.password"},
		{"sql in login", with("sql", func(m map[string]any) { user(m)["login"] = "x'; DROP TABLE users;--" }), 422, "user.login"},
		{"duplicate login", with("dup", func(m map[string]any) { user(m)["login"] = strings.ToUpper(taken) }), 409, "user.login"},
		{"duplicate email", with("dup", func(m map[string]any) { user(m)["email"] = strings.ToUpper(taken) + "@EXAMPLE.com" }), 409, "user.email"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, body := b.do("POST", "/api/v1/customers", tc.body)
			require.Equal(t, tc.status, status, "%v", body)
			code, _, fields := errorOf(t, body)
			require.NotEqual(t, "internal", code)
			if tc.field != "" {
				require.Contains(t, fields, tc.field, "%v", body)
			}
		})
	}
	// None of the bad requests wrote a row: their names are unique to them.
	for _, name := range []string{"dup", "wrong type", "unknown field", "trailing"} {
		status, body := b.do("GET", "/api/v1/customers?name="+url.QueryEscape(tag+" "+name), "")
		require.Equal(t, http.StatusOK, status)
		require.Equal(t, 0.0, body["total"], "a failed registration %q left a customer behind", name)
	}
}

func TestSQLMetacharactersAreData(t *testing.T) {
	t.Parallel()
	b := setup(t)
	login := "q" + uniq()
	name := `Robert'); DROP TABLE customers;-- "☃" 100%_ ` + login
	status, body := b.doJSON("POST", "/api/v1/customers", map[string]any{"account_type": "individual", "name": name, "country": "FR",
		"user": map[string]any{"login": login, "email": login + "@example.com"}})
	require.Equal(t, http.StatusCreated, status, "%v", body)
	status, body = b.do("GET", "/api/v1/customers?name="+url.QueryEscape("DROP TABLE customers;-- \"☃\" 100%_ "+login), "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 1.0, body["total"])
	require.Equal(t, name, body["items"].([]any)[0].(map[string]any)["name"])
}

func TestListCustomersValidation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for q, field := range map[string]string{
		"limit=0": "limit", "limit=201": "limit", "limit=abc": "limit", "offset=-1": "offset",
		"sort=password": "sort", "id=abc": "id", "has_active_services=maybe": "has_active_services",
		"status=gone": "status",
	} {
		status, body := b.do("GET", "/api/v1/customers?"+q, "")
		require.Equal(t, http.StatusUnprocessableEntity, status, q)
		_, _, fields := errorOf(t, body)
		require.Contains(t, fields, field, q)
	}
}

func TestUnknownIDsAndRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id, _ := b.newCustomer()
	for _, path := range []string{
		"/api/v1/customers/999999999", "/api/v1/customers/abc", "/api/v1/customers/-1",
		"/api/v1/customers/99999999999999999999", "/api/v1/customers/999999999/users",
		"/api/v1/customers/" + id + "/users/999999999", "/api/v1/customers/" + id + "/payers/999999999",
		"/api/v1/products/999999999", "/api/v1/payments/999999999", "/api/v1/customers/999999999/balance",
		"/api/v1/nothing-here",
	} {
		status, body := b.do("GET", path, "")
		require.Equal(t, http.StatusNotFound, status, path)
		code, _, _ := errorOf(t, body)
		require.Equal(t, "not_found", code, path)
	}
	status, body := b.do("PUT", "/api/v1/customers", "{}")
	require.Equal(t, http.StatusMethodNotAllowed, status)
	errorOf(t, body)
	status, body = b.do("POST", "/api/v1/customers", `{"name": "`+strings.Repeat("x", 2<<20)+`"}`)
	require.Equal(t, http.StatusRequestEntityTooLarge, status)
	errorOf(t, body)
}

func TestUsersAndPayers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id, taken := b.newCustomer()
	login := "u" + uniq()
	status, body := b.doJSON("POST", "/api/v1/customers/"+id+"/users", map[string]any{"login": login, "email": login + "@example.com", "password": "a long enough password"})
	require.Equal(t, http.StatusCreated, status, "%v", body)
	require.Nil(t, body["generated_password"])
	userID := jsonID(body)

	status, body = b.doJSON("POST", "/api/v1/customers/"+id+"/users", map[string]any{"login": taken, "email": "new" + taken + "@example.com"})
	require.Equal(t, http.StatusConflict, status)
	_, _, fields := errorOf(t, body)
	require.Contains(t, fields, "login")

	status, body = b.do("PATCH", "/api/v1/customers/"+id+"/users/"+userID, `{"main": true, "phone": "+12025550123"}`)
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, true, body["main"])
	status, body = b.do("GET", "/api/v1/customers/"+id+"/users", "")
	require.Equal(t, http.StatusOK, status)
	require.Len(t, body["items"], 2)
	status, _ = b.do("DELETE", "/api/v1/customers/"+id+"/users/"+userID, "")
	require.Equal(t, http.StatusConflict, status, "the main user can't be deleted")

	status, body = b.do("POST", "/api/v1/customers/"+id+"/payers", `{"type": "company", "legal_name": "ACME Ltd", "country": "GB"}`)
	require.Equal(t, http.StatusUnprocessableEntity, status)
	_, _, fields = errorOf(t, body)
	require.Contains(t, fields, "tax_id")
	status, body = b.do("POST", "/api/v1/customers/"+id+"/payers", `{"type": "company", "legal_name": "ACME Ltd", "country": "GB", "tax_id": "GB123"}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	payerID := jsonID(body)
	status, body = b.do("PUT", "/api/v1/customers/"+id+"/payers/"+payerID, `{"type": "individual", "legal_name": "Ann", "country": "GB", "email": "ann@example.co.uk"}`)
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, "Ann", body["legal_name"])
	status, _ = b.do("DELETE", "/api/v1/customers/"+id+"/payers/"+payerID, "")
	require.Equal(t, http.StatusNoContent, status)
	status, _ = b.do("GET", "/api/v1/customers/"+id+"/payers/"+payerID, "")
	require.Equal(t, http.StatusNotFound, status)
}
