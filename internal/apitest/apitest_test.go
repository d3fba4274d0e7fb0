package apitest_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing/internal/apitest"
)

// TestCheck feeds the API's document made-up exchanges: the ones it must
// refuse are those a hand-kept document would let drift.
func TestCheck(t *testing.T) {
	t.Parallel()
	spec, err := apitest.API()
	require.NoError(t, err)
	user := `"id": 7, "customer_id": 3, "login": "ann", "email": "ann@example.com", "phone": "", "first_name": "Ann",
		"last_name": "", "language": "en", "email_verified": false, "main": false,
		"created_at": "2025-01-02T03:04:05Z", "updated_at": "2025-01-02T03:04:05Z"`
	for _, tc := range []struct {
		name, method, path, reqBody string
		status                      int
		contentType, resBody        string
		wrong                       string // in the error; "" for none
	}{
		{"as documented", "GET", "/healthz", "", 200, "application/json", `{"status": "ok"}`, ""},
		{"an undocumented field", "GET", "/healthz", "", 200, "application/json", `{"status": "ok", "uptime": 3}`, `property "uptime" is unsupported`},
		{"a field of another type", "GET", "/healthz", "", 200, "application/json", `{"status": 1}`, `"/status"`},
		{"a missing field", "GET", "/healthz", "", 200, "application/json", `{}`, `property "status" is missing`},
		{"another Content-Type", "GET", "/healthz", "", 200, "text/html", `<p>ok</p>`, "Content-Type"},
		{"an error in the one shape", "GET", "/api/v1/customers/1", "", 404, "application/json", `{"error": {"code": "not_found", "message": "no such customer"}}`, ""},
		{"an error in another shape", "GET", "/api/v1/customers/1", "", 404, "application/json", `{"error": "not found"}`, `"/error"`},
		{"an error with an extra field", "GET", "/api/v1/customers/1", "", 404, "application/json", `{"error": {"code": "not_found", "message": "no", "id": 1}}`, `property "id" is unsupported`},
		{"an unknown route refused in the one shape", "GET", "/api/v1/nothing", "", 404, "application/json", `{"error": {"code": "not_found", "message": "no route"}}`, ""},
		{"an unknown route refused otherwise", "GET", "/api/v1/nothing", "", 404, "text/plain", `404 page not found`, "Content-Type"},
		{"an unknown route answered", "GET", "/api/v1/nothing", "", 200, "application/json", `{}`, "lacks"},
		{"parts of allOf merged", "POST", "/api/v1/customers/3/users", `{"login": "ann", "email": "ann@example.com"}`, 201, "application/json", `{` + user + `, "generated_password": "x"}`, ""},
		{"a field in none of allOf's parts", "POST", "/api/v1/customers/3/users", `{"login": "ann", "email": "ann@example.com"}`, 201, "application/json", `{` + user + `, "password": "x"}`, `property "password" is unsupported`},
		{"an undocumented request field answered 2xx", "PATCH", "/api/v1/customers/3", `{"nickname": "A"}`, 200, "application/json", `{}`, "the request does not match"},
		{"an undocumented request field refused", "PATCH", "/api/v1/customers/3", `{"nickname": "A"}`, 422, "application/json", `{"error": {"code": "invalid", "message": "no", "fields": {"nickname": "unknown field"}}}`, ""},
		{"HEAD with a body", "HEAD", "/healthz", "", 200, "application/json", `{"status": "ok"}`, "HEAD"},
		{"HEAD", "HEAD", "/healthz", "", 200, "application/json", ``, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			req := httptest.NewRequest(tc.method, "http://127.0.0.1:8080"+tc.path, strings.NewReader(tc.reqBody))
			req.Header.Set("Content-Type", "application/json")
			res := &http.Response{StatusCode: tc.status, Header: http.Header{"Content-Type": {tc.contentType}}}
			err := spec.Check(req, []byte(tc.reqBody), res, []byte(tc.resBody))
			if tc.wrong == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.wrong)
		})
	}
}

// recorder is a testing.TB that keeps what Verify reports.
type recorder struct {
	testing.TB
	errors []string
}

func (r *recorder) Helper() {}
func (r *recorder) Error(args ...any) {
	r.errors = append(r.errors, strings.TrimSpace(fmt.Sprint(args...)))
}

// TestTransport: a client using Transport gets the response it would have
// got, and an exchange that differs from the document is reported.
func TestTransport(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Query().Get("extra") != "" {
			_, _ = w.Write([]byte(`{"status": "ok", "uptime": 3}`))
			return
		}
		_, _ = w.Write([]byte(`{"status": "ok"}`))
	}))
	t.Cleanup(srv.Close)
	rec := &recorder{TB: t}
	hc := &http.Client{Transport: apitest.Transport(rec, nil)}
	for _, tc := range []struct {
		query, wrong string
	}{{"", ""}, {"?extra=1", `property "uptime" is unsupported`}} {
		rec.errors = nil
		res, err := hc.Get(srv.URL + "/healthz" + tc.query)
		require.NoError(t, err)
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		require.NoError(t, res.Body.Close())
		require.Contains(t, string(body), `"status": "ok"`, "the caller still reads the body")
		if tc.wrong == "" {
			require.Empty(t, rec.errors)
			continue
		}
		require.Len(t, rec.errors, 1)
		require.Contains(t, rec.errors[0], tc.wrong)
	}
}
