package api_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
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
