package api_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/store"
)

// incidentsOf reads a customer's support incidents as the admin.
func (b *bundle) incidentsOf(cid string) map[string]any {
	b.t.Helper()
	status, body := b.do("GET", "/api/v1/customers/"+cid+"/incidents", "")
	require.Equal(b.t, http.StatusOK, status, "%v", body)
	return body
}

// TestIncidentGrantRoute: a grant with an Idempotency-Key repeated grants
// once (201, then 200 with the same entry); without one each request grants;
// the same key with another count conflicts; a correction below 0, or a
// count of 0, is refused (422) and writes nothing; a client reads their own
// balance and history without staff's note, and not another customer's;
// granting needs support.manage.
func TestIncidentGrantRoute(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cid, login := b.newCustomer()
	path := "/api/v1/customers/" + cid + "/incidents"
	key := map[string]string{"Idempotency-Key": "grant-" + uniq()}

	status, first := b.doHeaders("POST", path, `{"count": 2, "note": "outage goodwill"}`, key)
	require.Equal(t, http.StatusCreated, status, "%v", first)
	require.Equal(t, "grant", first["reason"])
	require.Equal(t, 2.0, first["delta"])
	require.NotNil(t, first["staff_id"])
	status, again := b.doHeaders("POST", path, `{"count": 2, "note": "outage goodwill"}`, key)
	require.Equal(t, http.StatusOK, status, "%v", again)
	require.Equal(t, first["id"], again["id"])
	require.Equal(t, 2.0, b.incidentsOf(cid)["balance"], "a repeated key grants once")

	status, body := b.doHeaders("POST", path, `{"count": 3}`, key)
	require.Equal(t, http.StatusConflict, status, "%v", body)

	for range 2 {
		status, body = b.do("POST", path, `{"count": 1}`)
		require.Equal(t, http.StatusCreated, status, "%v", body)
	}
	require.Equal(t, 4.0, b.incidentsOf(cid)["balance"], "without a key each request grants")

	status, body = b.do("POST", path, `{"count": -5}`)
	require.Equal(t, http.StatusUnprocessableEntity, status, "%v", body)
	code, msg, fields := errorOf(t, body)
	require.Equal(t, billing.EINVALID, code)
	require.Contains(t, msg, "has 4 support incidents")
	require.Contains(t, fields["count"], "at least -4")
	status, body = b.do("POST", path, `{"count": 0}`)
	require.Equal(t, http.StatusUnprocessableEntity, status, "%v", body)
	status, body = b.do("POST", path, `{"count": 1001}`)
	require.Equal(t, http.StatusUnprocessableEntity, status, "%v", body)
	status, body = b.do("POST", path, `{"count": -4, "note": "mistake"}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	require.Equal(t, "correction", body["reason"])

	got := b.incidentsOf(cid)
	require.Equal(t, 0.0, got["balance"])
	require.Equal(t, 4.0, got["total"], "the refused requests wrote nothing")
	items := got["items"].([]any)
	require.Equal(t, -4.0, items[0].(map[string]any)["delta"], "newest first")
	require.Equal(t, "outage goodwill", items[3].(map[string]any)["note"])

	// The client reads their own, without staff's name and note.
	id, err := strconv.ParseInt(cid, 10, 64)
	require.NoError(t, err)
	users, err := b.store.Users(t.Context(), id)
	require.NoError(t, err)
	require.Equal(t, login, users[0].Login)
	client := b.session(store.Session{Kind: billing.ActorClient, UserID: users[0].ID, CustomerID: id})
	status, mine := b.doAs(client, "GET", path, "")
	require.Equal(t, http.StatusOK, status, "%v", mine)
	for _, it := range mine["items"].([]any) {
		require.Equal(t, "", it.(map[string]any)["note"])
		require.Nil(t, it.(map[string]any)["staff_id"])
	}
	other, _ := b.newCustomer()
	status, _ = b.doAs(client, "GET", "/api/v1/customers/"+other+"/incidents", "")
	require.Equal(t, http.StatusNotFound, status)
	status, _ = b.doAs(client, "POST", path, `{"count": 1}`)
	require.Equal(t, http.StatusForbidden, status)
	reader := b.staffSession(billing.RoleStaff, billing.PermCustomersRead)
	status, _ = b.doAs(reader, "POST", path, `{"count": 1}`)
	require.Equal(t, http.StatusForbidden, status, "granting needs support.manage")
	manager := b.staffSession(billing.RoleStaff, billing.PermSupportManage)
	status, _ = b.doAs(manager, "POST", path, `{"count": 1}`)
	require.Equal(t, http.StatusCreated, status)
	status, _ = b.do("GET", "/api/v1/customers/999999999/incidents", "")
	require.Equal(t, http.StatusNotFound, status)
}

// TestSubscriptionBuysIncidents: a real subscription (its Temporal workflow)
// to a product with support_incidents 5 gives the customer 5 incidents with
// its first charge; the charge retried (the activity run again) gives no
// more. The product's field is saved, read back by staff and clients, and
// bounded.
func TestSubscriptionBuysIncidents(t *testing.T) {
	t.Parallel()
	b := setup(t)
	cid, _ := b.newCustomer()
	status, body := b.do("POST", "/api/v1/products", `{"name": "Support plan", "price": 1500, "currency": "EUR", "period_unit": "month", "support_incidents": 1001}`)
	require.Equal(t, http.StatusUnprocessableEntity, status, "%v", body)
	_, _, fields := errorOf(t, body)
	require.Contains(t, fields, "support_incidents")
	status, body = b.do("POST", "/api/v1/products", `{"name": "Support plan", "price": 1500, "currency": "EUR", "period_unit": "month", "support_incidents": 5}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	require.Equal(t, 5.0, body["support_incidents"])
	pid := jsonID(body)
	status, body = b.do("GET", "/api/v1/products/"+pid, "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, 5.0, body["support_incidents"])

	status, body = b.do("POST", "/api/v1/customers/"+cid+"/ledger", `{"kind": "credit", "amount": 5000, "currency": "EUR", "reference": "funds", "idempotency_key": "`+uniq()+`"}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	status, body = b.do("POST", "/api/v1/subscriptions", `{"customer_id": `+cid+`, "product_id": `+pid+`}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	sid := jsonID(body)
	b.waitFor(sid, "active")
	got := b.incidentsOf(cid)
	require.Equal(t, 5.0, got["balance"], "the first charge bought 5")
	entry := got["items"].([]any)[0].(map[string]any)
	require.Equal(t, "purchase", entry["reason"])
	require.Equal(t, sid, jsonString(entry["subscription_id"]))
	require.Equal(t, 1.0, entry["period"])

	// The charge's activity retried, as Temporal retries one whose result was lost.
	customerID, err := strconv.ParseInt(cid, 10, 64)
	require.NoError(t, err)
	subID, err := strconv.ParseInt(sid, 10, 64)
	require.NoError(t, err)
	a := &activities.Activities{Store: b.store}
	_, err = a.ChargePeriod(t.Context(), activities.ChargePeriodInput{SubscriptionID: subID, CustomerID: customerID, Period: 1,
		From: time.Now().UTC(), ErrorCodes: true})
	require.NoError(t, err)
	got = b.incidentsOf(cid)
	require.Equal(t, 5.0, got["balance"], "a retried charge grants none")
	require.Equal(t, 1.0, got["total"])
	_, bal := b.do("GET", "/api/v1/customers/"+cid+"/balance", "")
	require.Equal(t, 3500.0, bal["balances"].([]any)[0].(map[string]any)["amount"], "and charges once")

	// PUT replaces every setting: left out, support_incidents is 0.
	status, body = b.do("PUT", "/api/v1/products/"+pid, `{"name": "Support plan", "price": 1500, "currency": "EUR", "period_unit": "month"}`)
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, 0.0, body["support_incidents"])
}
