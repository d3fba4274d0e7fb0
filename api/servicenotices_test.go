package api_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store"
)

// TestProductKindsAndLicenseUpdates: a product's kind and updates_months are
// checked and shown; a license's order gets its updates-until date, and its
// activation mail the license's text, as staff edited it through the
// message-template API; the schedule shows the updates notices; staff move
// the date (a license only), and the row and the schedule follow.
func TestProductKindsAndLicenseUpdates(t *testing.T) {
	t.Parallel()
	b := setup(t)
	status, body := b.do("POST", "/api/v1/products", `{"name": "X", "price": 0, "currency": "EUR", "period_unit": "month", "kind": "router"}`)
	require.Equal(t, http.StatusUnprocessableEntity, status)
	_, _, fields := errorOf(t, body)
	require.Contains(t, fields["kind"], "must be one of: vps, shared_hosting, license, other")
	status, body = b.do("POST", "/api/v1/products", `{"name": "X", "price": 0, "currency": "EUR", "period_unit": "month", "kind": "vps", "updates_months": 12}`)
	require.Equal(t, http.StatusUnprocessableEntity, status)
	_, _, fields = errorOf(t, body)
	require.Contains(t, fields["updates_months"], `kind "license" only`)

	status, body = b.do("POST", "/api/v1/products", `{"name": "Panel license", "price": 0, "currency": "EUR", "period_unit": "month", "kind": "license", "updates_months": 12}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	require.Equal(t, "license", body["kind"])
	require.Equal(t, 12.0, body["updates_months"])
	pid := jsonID(body)
	status, body = b.do("POST", "/api/v1/products", `{"name": "Plain", "price": 0, "currency": "EUR", "period_unit": "month"}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	require.Equal(t, "other", body["kind"], "the default")
	plain := jsonID(body)

	status, body = b.do("PUT", "/api/v1/message-templates/activated_license/email/en",
		`{"subject": "License [PAYMENT_NAME] ready", "body": "Hello [USER_NAME], your key is in the panel."}`)
	require.Equal(t, http.StatusOK, status, "%v", body)
	t.Cleanup(func() {
		_, err := b.store.DeleteMessageTemplates(context.Background(), [3]string{"activated_license", "email", "en"})
		require.NoError(t, err)
	})

	cid, _ := b.newCustomer()
	before := time.Now().UTC()
	status, body = b.do("POST", "/api/v1/subscriptions", `{"customer_id": `+cid+`, "product_id": `+pid+`}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	sid := jsonID(body)
	until, err := time.Parse(time.RFC3339Nano, body["updates_until"].(string))
	require.NoError(t, err)
	require.False(t, until.Before(before.AddDate(0, 12, -1)) || until.After(time.Now().AddDate(0, 12, 1)), "12 months after the order: %s", until)

	got := b.waitFor(sid, "active")
	require.Equal(t, []time.Time{until.AddDate(0, 0, -5), until.AddDate(0, 0, -4), until.AddDate(0, 0, -3), until.AddDate(0, 0, -2),
		until.AddDate(0, 0, -1), until}, licenseSteps(t, got), "low_money_expire_period's days before the date")
	require.Eventually(t, func() bool {
		_, n := b.do("GET", "/api/v1/subscriptions/"+sid+"/notices", "")
		for _, it := range n["items"].([]any) {
			m := it.(map[string]any)
			if m["channel"] == "email" && m["event"] == "activated_license" && m["subject"] == "License Panel license ready" {
				return m["template"] == "custom:activated_license"
			}
		}
		return false
	}, 30*time.Second, 50*time.Millisecond, "the license's activation mail, with staff's text")

	status, body = b.do("POST", "/api/v1/subscriptions/"+sid+"/updates-until", `{}`)
	require.Equal(t, http.StatusUnprocessableEntity, status, "%v", body)
	moved := time.Date(2031, 5, 20, 12, 0, 0, 0, time.UTC)
	status, body = b.do("POST", "/api/v1/subscriptions/"+sid+"/updates-until", fmt.Sprintf(`{"updates_until": %q}`, moved.Format(time.RFC3339)))
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, "2031-05-20T12:00:00Z", body["updates_until"])
	require.Equal(t, moved, licenseSteps(t, body)[5], "the schedule follows the new date")
	_, body = b.do("GET", "/api/v1/subscriptions/"+sid, "")
	require.Equal(t, "2031-05-20T12:00:00Z", body["updates_until"])
	_, audit := b.do("GET", "/api/v1/audit?object_type=subscription&object_id="+sid, "")
	updates := 0
	for _, it := range audit["items"].([]any) {
		if d, _ := it.(map[string]any)["details"].(map[string]any); d["update"] == "set-updates-until" {
			updates++
		}
	}
	require.Equal(t, 1, updates, "the staff change is audited")

	status, body = b.do("POST", "/api/v1/subscriptions", `{"customer_id": `+cid+`, "product_id": `+plain+`}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	require.Nil(t, body["updates_until"], "not a license")
	other := jsonID(body)
	b.waitFor(other, "active")
	status, body = b.do("POST", "/api/v1/subscriptions/"+other+"/updates-until", `{"updates_until": "2031-01-01T00:00:00Z"}`)
	require.Equal(t, http.StatusConflict, status, "%v", body)
	require.Empty(t, licenseSteps(t, b.waitFor(other, "active")))
}

// licenseSteps are the license_updates_expiring milestones of a
// subscription view's schedule.
func licenseSteps(t *testing.T, view map[string]any) []time.Time {
	t.Helper()
	var out []time.Time
	for _, s := range view["schedule"].(map[string]any)["next"].([]any) {
		step := s.(map[string]any)
		if step["milestone"] == "license_updates_expiring" {
			at, err := time.Parse(time.RFC3339Nano, step["at"].(string))
			require.NoError(t, err)
			out = append(out, at.UTC())
		}
	}
	return out
}

// clientOf returns a session of customer id's main user.
func (b *bundle) clientOf(id string) string {
	b.t.Helper()
	_, users := b.do("GET", "/api/v1/customers/"+id+"/users", "")
	userID := int64(users["items"].([]any)[0].(map[string]any)["id"].(float64))
	var cust int64
	_, err := fmt.Sscan(id, &cust)
	require.NoError(b.t, err)
	return b.session(store.Session{Kind: billing.ActorClient, UserID: userID, CustomerID: cust})
}

// TestOrderParametersThroughTheAPI: a product declares its order
// parameters (checked); an order with a name the product doesn't declare is
// refused and writes nothing; a quick order lacking the required ones is
// charged, waits (awaiting_parameters, naming them, in the row and the
// schedule) with one order_parameters_needed notice; another customer's
// client can't give them (404); the client gives them, and the service
// activates (the activated notice).
func TestOrderParametersThroughTheAPI(t *testing.T) {
	t.Parallel()
	b := setup(t)
	status, body := b.do("POST", "/api/v1/products", `{"name": "VPS", "price": 1000, "currency": "EUR", "period_unit": "month",
		"order_parameters": [{"name": "Domain", "title": "Domain name", "required": true}]}`)
	require.Equal(t, http.StatusUnprocessableEntity, status)
	_, _, fields := errorOf(t, body)
	require.Contains(t, fields["order_parameters[0].name"], "lower-case letters")
	status, body = b.do("POST", "/api/v1/products", `{"name": "VPS", "price": 1000, "currency": "EUR", "period_unit": "month", "kind": "vps",
		"order_parameters": [{"name": "domain", "title": "Domain name", "required": true}, {"name": "os", "title": "OS template", "required": true},
		{"name": "note", "title": "Note", "required": false}]}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	pid := jsonID(body)
	cid, _ := b.newCustomer()
	other, _ := b.newCustomer()
	b.pay(cid, billing.MethodElectronic, 1000, "EUR")

	status, body = b.do("POST", "/api/v1/subscriptions", `{"customer_id": `+cid+`, "product_id": `+pid+`, "parameters": {"disk": "1 TB"}}`)
	require.Equal(t, http.StatusUnprocessableEntity, status)
	_, _, fields = errorOf(t, body)
	require.Contains(t, fields["parameters.disk"], "is not a parameter of this product; it asks for domain, os, note")
	_, list := b.do("GET", "/api/v1/subscriptions?customer_id="+cid, "")
	require.Equal(t, 0.0, list["total"], "nothing written")

	status, body = b.do("POST", "/api/v1/subscriptions", `{"customer_id": `+cid+`, "product_id": `+pid+`, "parameters": {"note": "rack 4"}}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	require.Equal(t, map[string]any{"note": "rack 4"}, body["parameters"])
	sid := jsonID(body)
	got := b.waitFor(sid, "awaiting_parameters")
	require.Equal(t, []any{map[string]any{"name": "domain", "title": "Domain name", "required": true},
		map[string]any{"name": "os", "title": "OS template", "required": true}}, got["schedule"].(map[string]any)["awaiting_parameters"])
	require.NotNil(t, got["schedule"].(map[string]any)["paid_until"], "paid")
	require.Eventually(t, func() bool {
		_, row := b.do("GET", "/api/v1/subscriptions/"+sid, "")
		return row["status"] == "awaiting_parameters"
	}, 10*time.Second, 25*time.Millisecond, "the row shows it")
	_, list = b.do("GET", "/api/v1/subscriptions?status=awaiting_parameters&customer_id="+cid, "")
	require.Equal(t, 1.0, list["total"])
	events := func() map[string]int {
		_, n := b.do("GET", "/api/v1/subscriptions/"+sid+"/notices", "")
		out := map[string]int{}
		for _, it := range n["items"].([]any) {
			if m := it.(map[string]any); m["channel"] == "email" {
				out[m["event"].(string)]++
			}
		}
		return out
	}
	require.Eventually(t, func() bool { return events()["order_parameters_needed"] == 1 }, 10*time.Second, 25*time.Millisecond)
	require.Zero(t, events()["activated_vps"], "not activated")

	status, _ = b.doAs(b.clientOf(other), "PUT", "/api/v1/subscriptions/"+sid+"/parameters", `{"parameters": {"domain": "shop.example"}}`)
	require.Equal(t, http.StatusNotFound, status, "another customer's")
	client := b.clientOf(cid)
	status, body = b.doAs(client, "PUT", "/api/v1/subscriptions/"+sid+"/parameters", `{"parameters": {"domain": ""}}`)
	require.Equal(t, http.StatusUnprocessableEntity, status, "%v", body)
	status, body = b.doAs(client, "PUT", "/api/v1/subscriptions/"+sid+"/parameters", `{"parameters": {"domain": "shop.example"}}`)
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, "awaiting_parameters", body["schedule"].(map[string]any)["status"], "the OS template is missing")
	status, body = b.doAs(client, "PUT", "/api/v1/subscriptions/"+sid+"/parameters", `{"parameters": {"os": "debian-12"}}`)
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, "active", body["schedule"].(map[string]any)["status"])
	require.Equal(t, map[string]any{"note": "rack 4", "domain": "shop.example", "os": "debian-12"}, body["parameters"])
	require.Eventually(t, func() bool { return events()["activated_vps"] == 1 }, 10*time.Second, 25*time.Millisecond)
	require.Equal(t, 1, events()["order_parameters_needed"], "once")
}
