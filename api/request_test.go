package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing/internal/apitest"
)

// send is a raw request: no header but those given (not even Content-Type),
// and the whole answer back. An empty token sends no Authorization.
func (b *bundle) send(token, method, path, body string, header map[string]string) (*http.Response, []byte) {
	b.t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(b.t.Context(), method, b.srv.URL+path, r)
	require.NoError(b.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return b.exchange(req, body)
}

// exchange sends req, whose body is body, and returns the answer with its
// whole body. Every request of the package's tests goes through here, and
// each exchange is checked against the OpenAPI document: the response always,
// the request when it was answered 2xx (see apitest).
func (b *bundle) exchange(req *http.Request, body string) (*http.Response, []byte) {
	b.t.Helper()
	res, err := http.DefaultClient.Do(req)
	require.NoError(b.t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(b.t, err)
	apitest.Verify(b.t, req, []byte(body), res, raw)
	return res, raw
}

// errorShape checks that raw is exactly the one error shape, as JSON, with
// code, and returns its fields.
func errorShape(t *testing.T, res *http.Response, raw []byte, code string) map[string]any {
	t.Helper()
	require.True(t, strings.HasPrefix(res.Header.Get("Content-Type"), "application/json"), "Content-Type %q; body %s", res.Header.Get("Content-Type"), raw)
	var body map[string]any
	require.NoError(t, json.Unmarshal(raw, &body), "body: %s", raw)
	require.Len(t, body, 1, "only the error key: %s", raw)
	got, _, fields := errorOf(t, body)
	require.Equal(t, code, got, "%s", raw)
	return fields
}

var jsonType = map[string]string{"Content-Type": "application/json"}

// TestBodiesMatchTheDocument sends bodies that the OpenAPI document does not
// allow: each is refused with the status, code and field below, and none
// changes anything.
func TestBodiesMatchTheDocument(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cid, _ := b.newCustomer()
	cust := "/api/v1/customers/" + cid
	status, body := b.doJSON("POST", "/api/v1/payments", map[string]any{"customer_id": mustID(t, cid), "method": "wire_transfer", "amount": 100, "currency": "EUR"})
	require.Equal(t, http.StatusCreated, status, "%v", body)
	payment := "/api/v1/payments/" + jsonID(body)
	tag := "t" + uniq() // in the name of every registration below, none of which may happen
	newCustomer := func(user string) string {
		login := "r" + uniq()
		return `{"account_type": "individual", "name": "` + tag + `", "country": "DE", "user": {"login": "` + login + `", "email": "` + login + `@example.com"` + user + `}}`
	}
	for _, tc := range []struct {
		name         string
		method, path string
		header       map[string]string
		body         string
		status       int
		code, field  string
	}{
		{"key in another case", "PATCH", cust, jsonType, `{"NOTE": "refused"}`, 422, "invalid", "NOTE"},
		{"nested key in another case", "POST", "/api/v1/customers", jsonType, newCustomer(`, "First_Name": "Ann"`), 422, "invalid", "user.First_Name"},
		{"duplicate key", "PATCH", cust, jsonType, `{"note": "refused", "note": "refused"}`, 422, "invalid", "note"},
		{"nested duplicate key", "POST", "/api/v1/customers", jsonType, newCustomer(`, "login": "other` + uniq() + `"`), 422, "invalid", "user.login"},
		{"null body", "PATCH", cust, jsonType, `null`, 400, "malformed", ""},
		{"null for a field that is not nullable", "POST", cust + "/payers", jsonType, `{"type": "individual", "legal_name": "P", "country": "DE", "address": null}`, 422, "invalid", "address"},
		{"null for a nested field", "POST", "/api/v1/customers", jsonType, newCustomer(`, "first_name": null`), 422, "invalid", "user.first_name"},
		{"null in an array", "POST", "/api/v1/products", jsonType, `{"name": "P", "price": 1, "currency": "EUR", "period_unit": "month", "steps": [null]}`, 422, "invalid", "steps[0]"},
		{"null where the document allows it", "PATCH", cust, jsonType, `{"note": null}`, 200, "", ""},
		{"no Content-Type", "PATCH", cust, nil, `{"note": "refused"}`, 415, "unsupported_media_type", ""},
		{"text/plain", "PATCH", cust, map[string]string{"Content-Type": "text/plain"}, `{"note": "refused"}`, 415, "unsupported_media_type", ""},
		{"a form", "PATCH", cust, map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, `note=refused`, 415, "unsupported_media_type", ""},
		{"JSON in another charset", "PATCH", cust, map[string]string{"Content-Type": "application/json; charset=latin1"}, `{"note": "refused"}`, 415, "unsupported_media_type", ""},
		{"JSON in UTF-8", "PATCH", cust, map[string]string{"Content-Type": "application/json; charset=UTF-8"}, `{"contact_person": "Bob"}`, 200, "", ""},
		{"anonymous: sign in comes first", "PATCH", cust, map[string]string{"Authorization": ""}, `{"NOTE": "refused"}`, 401, "unauthorized", ""},
		{"a body where none is taken", "POST", payment + "/paid", jsonType, `{"paid": true}`, 400, "malformed", ""},
		{"junk where no body is taken", "POST", payment + "/paid", nil, `junk`, 400, "malformed", ""},
		{"a body on a GET", "GET", "/healthz", nil, `junk`, 400, "malformed", ""},
		{"no body and no Content-Type where none is taken", "POST", payment + "/cancel", nil, ``, 200, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			token := b.token
			if _, ok := tc.header["Authorization"]; ok {
				token = ""
			}
			header := map[string]string{}
			for k, v := range tc.header {
				if k != "Authorization" {
					header[k] = v
				}
			}
			res, raw := b.send(token, tc.method, tc.path, tc.body, header)
			require.Equal(t, tc.status, res.StatusCode, "%s", raw)
			if tc.code == "" {
				return
			}
			fields := errorShape(t, res, raw, tc.code)
			if tc.field != "" {
				require.Len(t, fields, 1, "%s", raw)
				require.Contains(t, fields, tc.field, "%s", raw)
			}
		})
	}
	status, body = b.do("GET", cust, "")
	require.Equal(t, http.StatusOK, status)
	require.NotEqual(t, "refused", body["note"], "a refused body changed the customer")
	require.Equal(t, "Bob", body["contact_person"])
	status, body = b.do("GET", payment, "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "cancelled", body["status"], "the bodies sent to /paid did not pay it")
	status, body = b.do("GET", "/api/v1/customers?name="+tag, "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 0.0, body["total"], "a refused registration created a customer")
}

// TestOptionalBodyStaysOptional: cancelling a subscription takes a body or
// none, with or without a Content-Type; a body, when sent, is strict.
func TestOptionalBodyStaysOptional(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cid, _ := b.newCustomer()
	free := b.product(0)
	status, body := b.do("POST", "/api/v1/subscriptions", `{"customer_id": `+cid+`, "product_id": `+free+`}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	sid := jsonID(body)
	b.waitFor(sid, "active")
	res, raw := b.send(b.token, "POST", "/api/v1/subscriptions/"+sid+"/cancel", `{"AT_PERIOD_END": true}`, jsonType)
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "%s", raw)
	require.Contains(t, errorShape(t, res, raw, "invalid"), "AT_PERIOD_END")
	res, raw = b.send(b.token, "POST", "/api/v1/subscriptions/"+sid+"/cancel", `{"at_period_end": true}`, map[string]string{"Content-Type": "text/plain"})
	require.Equal(t, http.StatusUnsupportedMediaType, res.StatusCode, "%s", raw)
	res, raw = b.send(b.token, "POST", "/api/v1/subscriptions/"+sid+"/cancel", "", nil)
	require.Equal(t, http.StatusOK, res.StatusCode, "%s", raw)
	require.Contains(t, string(raw), `"status":"cancelled"`)
}

// TestPathIDsAreCanonical: an ID is written one way only; any other spelling
// names nothing.
func TestPathIDsAreCanonical(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cid, _ := b.newCustomer()
	status, _ := b.do("GET", "/api/v1/customers/"+cid, "")
	require.Equal(t, http.StatusOK, status)
	for _, path := range []string{
		"/api/v1/customers/+" + cid, "/api/v1/customers/0" + cid, "/api/v1/customers/00" + cid,
		"/api/v1/customers/%20" + cid, "/api/v1/customers/+" + cid + "/balance", "/api/v1/customers/0" + cid + "/users",
	} {
		status, body := b.do("GET", path, "")
		require.Equal(t, http.StatusNotFound, status, "%s: %v", path, body)
		code, _, _ := errorOf(t, body)
		require.Equal(t, "not_found", code)
	}
	status, body := b.do("GET", "/api/v1/payments?customer_id=0"+cid, "")
	require.Equal(t, http.StatusUnprocessableEntity, status, "%v", body)
	_, _, fields := errorOf(t, body)
	require.Contains(t, fields, "customer_id")
}

// TestBidiControlsRefused: text that goes into mails can't carry the
// characters that reorder what the reader sees (U+202E shows "exe.txt" as
// "txt.exe").
func TestBidiControlsRefused(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cid, _ := b.newCustomer()
	register := func(name, first string) string {
		login := "d" + uniq()
		return mustJSON(map[string]any{"account_type": "individual", "name": name, "country": "DE",
			"user": map[string]any{"login": login, "email": login + "@example.com", "first_name": first}})
	}
	for _, tc := range []struct {
		name         string
		method, path string
		body         string
		field        string
	}{
		{"U+202E in a customer name", "POST", "/api/v1/customers", register("Ann \u202Efdp.exe", "Ann"), "name"},
		{"U+2067 in a user's first name", "POST", "/api/v1/customers", register("Ann", "Ann\u2067x\u2069"), "user.first_name"},
		{"U+202E in a user's email", "POST", "/api/v1/customers/" + cid + "/users", `{"login": "` + uniq() + `", "email": "ann\u202e@example.com"}`, "email"},
		{"U+200F in a renamed customer", "PATCH", "/api/v1/customers/" + cid, `{"name": "Ann\u200f"}`, "name"},
		{"U+202A in a payer's name", "POST", "/api/v1/customers/" + cid + "/payers", `{"type": "individual", "legal_name": "P\u202a", "country": "DE"}`, "legal_name"},
		{"U+061C in a product name", "POST", "/api/v1/products", `{"name": "VPS\u061c", "price": 1, "currency": "EUR", "period_unit": "month"}`, "name"},
		{"U+200E in a notice subject", "PUT", "/api/v1/notice-templates/cancelled", `{"subject": "\u200eCancelled", "body": "Gone."}`, "subject"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body := b.do(tc.method, tc.path, tc.body)
			require.Equal(t, http.StatusUnprocessableEntity, status, "%v", body)
			_, _, fields := errorOf(t, body)
			require.Contains(t, fields, tc.field)
		})
	}
	status, body := b.do("GET", "/api/v1/customers/"+cid, "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "Ann Example", body["name"])
}

// TestHEADAnswersLikeGET: every GET route answers HEAD with GET's status and
// headers and no body.
func TestHEADAnswersLikeGET(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cid, _ := b.newCustomer()
	for _, tc := range []struct {
		path   string
		status int
	}{
		{"/healthz", 200},
		{"/api/v1/openapi.json", 200},
		{"/api/v1/customers/" + cid, 200},
		{"/api/v1/customers?limit=1", 200},
		{"/api/v1/customers/999999999", 404},
		{"/api/v1/customers/abc", 404},
	} {
		get, getRaw := b.send(b.token, "GET", tc.path, "", nil)
		head, headRaw := b.send(b.token, "HEAD", tc.path, "", nil)
		require.Equal(t, tc.status, get.StatusCode, "GET %s: %s", tc.path, getRaw)
		require.Equal(t, tc.status, head.StatusCode, "HEAD %s", tc.path)
		require.Empty(t, headRaw)
		require.Equal(t, get.Header.Get("Content-Type"), head.Header.Get("Content-Type"), tc.path)
		if get.ContentLength >= 0 {
			require.Equal(t, get.ContentLength, head.ContentLength, "HEAD %s tells GET's length", tc.path)
		}
	}
	res, raw := b.send("", "HEAD", "/api/v1/customers/"+cid, "", nil)
	require.Equal(t, http.StatusUnauthorized, res.StatusCode, "HEAD is checked like GET")
	require.Empty(t, raw)
	res, _ = b.send(b.token, "HEAD", "/api/v1/payments/1/paid", "", nil)
	require.Equal(t, http.StatusMethodNotAllowed, res.StatusCode, "HEAD where there is no GET")
	require.Contains(t, res.Header.Get("Allow"), "POST")
	require.NotContains(t, res.Header.Get("Allow"), "GET")
}

// TestErrorStatusesHaveTheErrorShape: the statuses that the router, the
// limits and the content checks answer carry the one error shape and their
// own code.
func TestErrorStatusesHaveTheErrorShape(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct {
		name, method, path, body string
		header                   map[string]string
		status                   int
		code                     string
	}{
		{"wrong method", "DELETE", "/api/v1/products", "", nil, 405, "method_not_allowed"},
		{"unknown route", "GET", "/api/v1/nothing-here", "", nil, 404, "not_found"},
		{"body too large", "POST", "/api/v1/customers", `{"name": "` + strings.Repeat("x", 2<<20) + `"}`, jsonType, 413, "too_large"},
		{"not JSON", "POST", "/api/v1/customers", `{}`, map[string]string{"Content-Type": "text/xml"}, 415, "unsupported_media_type"},
		{"headers too large", "GET", "/healthz", "", map[string]string{"X-Padding": strings.Repeat("x", 100<<10)}, 431, "headers_too_large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, raw := b.send(b.token, tc.method, tc.path, tc.body, tc.header)
			require.Equal(t, tc.status, res.StatusCode, "%.300s", raw)
			errorShape(t, res, raw, tc.code)
			if tc.status == http.StatusMethodNotAllowed {
				allow := strings.Split(res.Header.Get("Allow"), ", ")
				require.Subset(t, allow, []string{"GET", "HEAD", "POST"})
				require.NotContains(t, allow, tc.method)
			}
		})
	}
}

// TestBodiesMustBeText: invalid UTF-8 and half a surrogate pair are refused,
// not quietly stored as U+FFFD; a whole pair is fine.
func TestBodiesMustBeText(t *testing.T) {
	t.Parallel()
	b := setup(t)
	id, _ := b.newCustomer()
	for _, tc := range []struct {
		body string
		want int
	}{
		{"{\"contact_person\": \"\xff\xfe\"}", http.StatusBadRequest},
		{`{"contact_person": "\ud800"}`, http.StatusBadRequest},
		{`{"contact_person": "\udc00 x"}`, http.StatusBadRequest},
		{`{"contact_person": "\ud83d\u0041"}`, http.StatusBadRequest},
		{`{"contact_person": "a \\ud800 b"}`, http.StatusOK}, // an escaped backslash, then text
		{`{"contact_person": "smile \ud83d\ude00"}`, http.StatusOK},
	} {
		status, res := b.do("PATCH", "/api/v1/customers/"+id, tc.body)
		require.Equal(t, tc.want, status, "%q: %v", tc.body, res)
		if status == http.StatusBadRequest {
			code, _, _ := errorOf(t, res)
			require.Equal(t, "malformed", code)
		}
	}
	_, got := b.do("GET", "/api/v1/customers/"+id, "")
	require.Equal(t, "smile \U0001F600", got["contact_person"])
}
