package api_test

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/api"
	"github.com/tempobill/billing/store"
)

// staffOnlyProductFields are what a client must never see of a product.
var staffOnlyProductFields = []string{"webhook_url", "webhook_secret", "webhook_secret_set", "steps", "payment_states", "status"}

// TestClientsSeeTheCatalogueOnly: a client (and staff impersonating one)
// gets what a client needs of an active product, never its webhook (a token
// in the URL), steps or notice settings; staff get the whole product.
func TestClientsSeeTheCatalogueOnly(t *testing.T) {
	t.Parallel()
	b := setup(t)
	name, token := "VPS "+uniq(), "tok"+uniq() // the token marks what clients must not see
	status, body := b.doJSON("POST", "/api/v1/products", map[string]any{
		"name": name, "description": "2 vCPU", "price": 1299, "currency": "EUR", "period_unit": "month",
		"incoming_days": 5, "steps": []string{"LogStep"},
		"webhook_url": "https://93.184.215.14/hooks/" + token, "webhook_secret": "secret-" + token,
		"payment_states": map[string]any{"incoming": map[string]any{"email": true, "subject": "Pay " + token, "body": "Body " + token}},
	})
	require.Equal(t, http.StatusCreated, status, "%v", body)
	active := jsonID(body)
	status, body = b.doJSON("POST", "/api/v1/products", map[string]any{"name": "Old " + token, "price": 1, "currency": "EUR",
		"period_unit": "month", "grace_days": 3, "status": "archived"})
	require.Equal(t, http.StatusCreated, status, "%v", body)
	archived := jsonID(body)

	custID, _ := b.newCustomer()
	status, users := b.do("GET", "/api/v1/customers/"+custID+"/users", "")
	require.Equal(t, http.StatusOK, status, "%v", users)
	cust, err := strconv.ParseInt(custID, 10, 64)
	require.NoError(t, err)
	user := int64(users["items"].([]any)[0].(map[string]any)["id"].(float64))
	status, body = b.do("POST", "/api/v1/customers/"+custID+"/impersonate", "")
	require.Equal(t, http.StatusCreated, status, "%v", body)
	clients := map[string]string{
		"client":        b.session(store.Session{Kind: billing.ActorClient, UserID: user, CustomerID: cust}),
		"impersonation": body["token"].(string),
	}

	for who, tok := range clients {
		status, raw := b.raw(tok, "GET", "/api/v1/products/"+active, "")
		require.Equal(t, http.StatusOK, status, "%s: %s", who, raw)
		require.NotContains(t, raw, token, "%s: nothing of the webhook, its secret or the notice texts", who)
		_, got := b.doAs(tok, "GET", "/api/v1/products/"+active, "")
		require.Equal(t, map[string]any{"id": got["id"], "name": name, "description": "2 vCPU", "price": 1299.0,
			"currency": "EUR", "period_unit": "month", "period_count": 1.0, "auto_renew": true, "incoming_days": 5.0,
			"grace_days": 14.0, "kind": "other", "order_parameters": []any{}, "resources": []any{}, "support_incidents": 0.0}, got,
			"%s: the client view, with the global grace period", who)

		status, _ = b.doAs(tok, "GET", "/api/v1/products/"+archived, "")
		require.Equal(t, http.StatusNotFound, status, "%s: an archived product is not in the catalogue", who)

		found := false
		for offset := 0; ; offset += 200 {
			status, page := b.doAs(tok, "GET", fmt.Sprintf("/api/v1/products?status=archived&limit=200&offset=%d", offset), "")
			require.Equal(t, http.StatusOK, status, "%s: %v", who, page)
			items := page["items"].([]any)
			for _, it := range items {
				p := it.(map[string]any)
				for _, f := range staffOnlyProductFields {
					require.NotContains(t, p, f, "%s: product %v in the list", who, p["id"])
				}
				require.NotEqual(t, archived, jsonID(p), "%s: the status filter does not reach archived products", who)
				found = found || jsonID(p) == active
			}
			if len(items) < 200 {
				break
			}
		}
		require.True(t, found, "%s: the active product is listed", who)
	}

	status, raw := b.raw(b.token, "GET", "/api/v1/products/"+active, "")
	require.Equal(t, http.StatusOK, status, raw)
	require.Contains(t, raw, `"webhook_url":"https://93.184.215.14/hooks/`+token+`"`, "staff see the webhook")
	require.Contains(t, raw, `"steps":["LogStep"]`)
	require.Contains(t, raw, "Pay "+token)
	require.NotContains(t, raw, "secret-"+token, "nobody sees the secret")
	status, page := b.do("GET", "/api/v1/products?status=active&limit=200", "")
	require.Equal(t, http.StatusOK, status, "%v", page)
	for _, it := range page["items"].([]any) {
		p := it.(map[string]any)
		for _, f := range []string{"webhook_url", "webhook_secret_set", "steps", "payment_states", "status"} {
			require.Contains(t, p, f, "staff's list has whole products")
		}
	}
}

// TestWebhookURLMustBePublic: staff can't point a webhook at the server's
// own loopback, a private network or the cloud metadata service (server-side
// request forgery), on create or on update.
func TestWebhookURLMustBePublic(t *testing.T) {
	t.Parallel()
	b := setup(t)
	product := func(url string) string {
		return mustJSON(map[string]any{"name": "Hooked", "price": 100, "currency": "EUR", "period_unit": "month",
			"webhook_url": url, "webhook_secret": "0123456789abcdef"})
	}
	status, body := b.do("POST", "/api/v1/products", product("https://93.184.215.14/hook"))
	require.Equal(t, http.StatusCreated, status, "a public address is fine: %v", body)
	id := jsonID(body)

	for url, want := range map[string]string{
		"http://127.0.0.1/x":                       "127.0.0.1 is a loopback address",
		"http://169.254.169.254/":                  "169.254.169.254 is a link-local address",
		"http://[::1]/":                            "::1 is a loopback address",
		"http://localhost/":                        "localhost is a loopback name",
		"http://[::ffff:10.0.0.1]:8080/hook":       "10.0.0.1 is a private network address",
		"https://100.64.0.1/":                      "100.64.0.1 is a shared address",
		"http://2130706433/":                       "is not a host name",
		"http://169.254.169.254/latest/meta-data/": "link-local",
	} {
		for _, method := range []string{"POST", "PUT"} {
			path := "/api/v1/products"
			if method == "PUT" {
				path += "/" + id
			}
			status, body := b.do(method, path, product(url))
			require.Equal(t, http.StatusUnprocessableEntity, status, "%s %s: %v", method, url, body)
			code, _, fields := errorOf(t, body)
			require.Equal(t, "invalid", code)
			msg, _ := fields["webhook_url"].(string)
			require.Contains(t, msg, want, "%s %s", method, url)
			require.Contains(t, msg, "WEBHOOK_ALLOW_PRIVATE", "the message says how to allow it")
		}
	}
	status, body = b.do("GET", "/api/v1/products/"+id, "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "https://93.184.215.14/hook", body["webhook_url"], "refused updates changed nothing")
}

// TestWebhookURLPrivateWhenAllowed: with WEBHOOK_ALLOW_PRIVATE a webhook may
// go to a receiver on the same machine or network ("billing dev", tests).
func TestWebhookURLPrivateWhenAllowed(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *api.Options) { o.AllowPrivateWebhooks = true })
	for _, url := range []string{"http://127.0.0.1:9000/hook", "http://localhost/", "http://10.0.0.7/hook"} {
		status, body := b.doJSON("POST", "/api/v1/products", map[string]any{"name": "Local", "price": 0, "currency": "EUR",
			"period_unit": "month", "webhook_url": url, "webhook_secret": "0123456789abcdef"})
		require.Equal(t, http.StatusCreated, status, "%s: %v", url, body)
	}
}
