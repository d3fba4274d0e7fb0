package api_test

import (
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/notices"
	"github.com/tempobill/billing/store"
)

// metered orders for customer a free product with 10 GB of disk (2.00 EUR
// per GB beyond) and 100 min (0.05 EUR per minute beyond) and charges its
// first period directly (no workflow): it began an hour ago and runs a month.
func (b *bundle) metered(customerID int64) billing.Subscription {
	b.t.Helper()
	ctx := b.t.Context()
	p, err := b.store.CreateProduct(ctx, (&billing.ProductInput{Name: "PBX", Price: new(int64), Currency: "EUR",
		PeriodUnit: billing.PeriodMonth, Resources: []billing.Resource{
			{Name: "disk", Unit: "GB", Included: 10, OveragePrice: 200},
			{Name: "minutes", Unit: "min", Included: 100, OveragePrice: 5}}}).Product())
	require.NoError(b.t, err)
	o, err := b.store.CreateSubscription(ctx, billing.SubscriptionCreate{CustomerID: customerID, ProductID: p.ID}, "", 0)
	require.NoError(b.t, err)
	from := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	_, err = b.store.ChargePeriod(ctx, store.PeriodCharge{SubscriptionID: o.Subscription.ID, ProductID: p.ID, Period: 1,
		PeriodFrom: from, PaidUntil: from.AddDate(0, 1, 0), Charge: billing.Charge{CustomerID: customerID, Currency: "EUR",
			Reason: billing.ReasonCharge, IdempotencyKey: fmt.Sprintf("subscription:%d:period:1", o.Subscription.ID)}})
	require.NoError(b.t, err)
	return o.Subscription
}

type usageEvent = map[string]any

func batch(es ...usageEvent) map[string]any { return map[string]any{"events": es} }

// TestUsageIngestAndRead: a batch is counted once per idempotency key (a
// resent batch answers duplicates and counts nothing), GET shows used,
// included, overage, its amount and percent per resource; a batch with a
// negative quantity, a resource the product doesn't declare, a time before
// the period or too many events is refused naming the event, and writes
// nothing of the batch; the threshold notice is queued once per period and
// resource, to every user of the customer, with its variables.
func TestUsageIngestAndRead(t *testing.T) {
	t.Parallel()
	b := setup(t)
	custID, login := b.newCustomer()
	cid, err := strconv.ParseInt(custID, 10, 64)
	require.NoError(t, err)
	sub := b.metered(cid)
	path := fmt.Sprintf("/api/v1/subscriptions/%d/usage", sub.ID)

	code, body := b.doJSON("POST", path, batch(
		usageEvent{"resource": "minutes", "quantity": 40, "idempotency_key": "call-1"},
		usageEvent{"resource": "minutes", "quantity": 45, "idempotency_key": "call-2"},
		usageEvent{"resource": "disk", "quantity": 12, "idempotency_key": "disk-1", "at": time.Now().UTC().Format(time.RFC3339)},
		usageEvent{"resource": "minutes", "quantity": 45, "idempotency_key": "call-1"})) // resent within the batch
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.EqualValues(t, 3, body["accepted"])
	require.EqualValues(t, 1, body["duplicates"])
	require.Equal(t, []any{3.0}, body["duplicate_indexes"])

	read := func() map[string]map[string]any {
		t.Helper()
		code, body := b.do("GET", path, "")
		require.Equal(t, http.StatusOK, code, "%v", body)
		require.EqualValues(t, 1, body["period"])
		require.Equal(t, false, body["closed"])
		out := map[string]map[string]any{"": body}
		for _, r := range body["resources"].([]any) {
			out[r.(map[string]any)["resource"].(string)] = r.(map[string]any)
		}
		return out
	}
	u := read()
	require.EqualValues(t, 85, u["minutes"]["used"])
	require.EqualValues(t, 100, u["minutes"]["included"])
	require.EqualValues(t, 0, u["minutes"]["overage"])
	require.EqualValues(t, 85, u["minutes"]["percent"])
	require.EqualValues(t, 12, u["disk"]["used"])
	require.EqualValues(t, 2, u["disk"]["overage"])
	require.EqualValues(t, 400, u["disk"]["overage_amount"])
	require.EqualValues(t, 120, u["disk"]["percent"])
	require.EqualValues(t, 400, u[""]["overage_amount"])
	require.Equal(t, "EUR", u[""]["currency"])

	thresholds := func() []billing.Notice {
		t.Helper()
		page, err := b.store.Notifications(t.Context(), billing.NotificationFilter{CustomerID: &cid, Event: notices.EventResourceThreshold,
			PageRequest: billing.PageRequest{Limit: 100}})
		require.NoError(t, err)
		return page.Items
	}
	disk := thresholds()
	require.Len(t, disk, 1, "disk crossed 90% with the first batch: an email to the user (who has no phone)")
	for _, n := range disk {
		require.Equal(t, billing.NoticeQueued, n.Status)
		require.Equal(t, fmt.Sprint(sub.ID), n.ObjectID)
	}
	require.Equal(t, "PBX: 120% of your disk used", disk[0].Subject)
	require.Contains(t, disk[0].Body, "12 GB of disk")

	// The same batch again: all duplicates, nothing counted.
	code, body = b.doJSON("POST", path, batch(
		usageEvent{"resource": "minutes", "quantity": 40, "idempotency_key": "call-1"},
		usageEvent{"resource": "minutes", "quantity": 45, "idempotency_key": "call-2"}))
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.EqualValues(t, 0, body["accepted"])
	require.EqualValues(t, 2, body["duplicates"])
	require.EqualValues(t, 85, read()["minutes"]["used"])

	// Refused batches, each with a valid event first: nothing of them counts.
	ok := usageEvent{"resource": "minutes", "quantity": 5, "idempotency_key": "call-3"}
	for _, c := range []struct {
		name   string
		bad    usageEvent
		status int
		field  string
	}{
		{"negative", usageEvent{"resource": "minutes", "quantity": -1, "idempotency_key": "neg"}, http.StatusUnprocessableEntity, "events[1].quantity"},
		{"undeclared", usageEvent{"resource": "cpu", "quantity": 1, "idempotency_key": "cpu"}, http.StatusUnprocessableEntity, "events[1].resource"},
		{"no key", usageEvent{"resource": "disk", "quantity": 1, "idempotency_key": ""}, http.StatusUnprocessableEntity, "events[1].idempotency_key"},
		{"before the period", usageEvent{"resource": "disk", "quantity": 1, "idempotency_key": "old",
			"at": time.Now().Add(-48 * time.Hour).UTC().Format(time.RFC3339)}, http.StatusConflict, "events[1].at"},
	} {
		code, body := b.doJSON("POST", path, batch(ok, c.bad))
		require.Equal(t, c.status, code, "%s: %v", c.name, body)
		_, msg, fields := errorOf(t, body)
		require.Contains(t, fields, c.field, c.name)
		if c.status == http.StatusConflict || c.field == "events[1].resource" {
			require.Contains(t, msg, c.field, c.name)
		}
	}
	code, _ = b.doJSON("POST", path, batch())
	require.Equal(t, http.StatusUnprocessableEntity, code)
	many := make([]usageEvent, billing.MaxUsageBatch+1)
	for i := range many {
		many[i] = usageEvent{"resource": "disk", "quantity": 1, "idempotency_key": fmt.Sprint("m", i)}
	}
	code, _ = b.doJSON("POST", path, batch(many...))
	require.Equal(t, http.StatusUnprocessableEntity, code)
	u = read()
	require.EqualValues(t, 85, u["minutes"]["used"], "a refused batch counts nothing")
	require.EqualValues(t, 12, u["disk"]["used"])
	var events int
	require.NoError(t, b.store.Pool().QueryRow(t.Context(), `SELECT count(*) FROM usage_events WHERE subscription_id = $1`, sub.ID).Scan(&events))
	require.Equal(t, 3, events, "no event of a refused batch is stored")

	// call-3 was never counted: it counts now, and takes minutes to 90%.
	code, body = b.doJSON("POST", path, batch(ok))
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.EqualValues(t, 1, body["accepted"])
	all := thresholds()
	require.Len(t, all, 2, "minutes crossed 90%: its notice")
	minutes := all[0] // newest first
	if minutes.ID == disk[0].ID {
		minutes = all[1]
	}
	require.Equal(t, login+"@example.com", minutes.Recipient)
	require.Equal(t, "PBX: 90% of your minutes used", minutes.Subject)
	require.Contains(t, minutes.Body, fmt.Sprintf("your service PBX (#%d) has used 90 min of minutes", sub.ID))
	require.Contains(t, minutes.Body, "90% of the 100 min included")

	code, _ = b.doJSON("POST", path, batch(usageEvent{"resource": "minutes", "quantity": 50, "idempotency_key": "call-4"}))
	require.Equal(t, http.StatusOK, code)
	require.Len(t, thresholds(), 2, "once per period and resource")

	code, body = b.do("GET", path+"?period=2", "")
	require.Equal(t, http.StatusNotFound, code, "%v", body)
	code, _ = b.do("GET", path+"?period=0", "")
	require.Equal(t, http.StatusUnprocessableEntity, code)
}

// TestUsageAccess: an API key holding subscriptions.write reports usage; a
// key or staff member without it, and a client, may not; a client reads
// their own subscription's usage, and another customer's is not found.
func TestUsageAccess(t *testing.T) {
	t.Parallel()
	b := setup(t)
	custID, _ := b.newCustomer()
	cid, _ := strconv.ParseInt(custID, 10, 64)
	otherID, _ := b.newCustomer()
	oid, _ := strconv.ParseInt(otherID, 10, 64)
	sub := b.metered(cid)
	path := fmt.Sprintf("/api/v1/subscriptions/%d/usage", sub.ID)
	key := func(perms ...string) string {
		code, body := b.doAs(b.staffSession(billing.RoleStaff, perms...), "POST", "/api/v1/api-keys", `{"name": "switch"}`)
		require.Equal(t, http.StatusCreated, code, "%v", body)
		return body["key"].(string)
	}
	ev := func(k string) string {
		return mustJSON(batch(usageEvent{"resource": "minutes", "quantity": 1, "idempotency_key": k}))
	}
	code, body := b.doAs(key(billing.PermSubsWrite), "POST", path, ev("k1"))
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.EqualValues(t, 1, body["accepted"])
	code, _ = b.doAs(key(billing.PermSubsRead), "POST", path, ev("k2"))
	require.Equal(t, http.StatusForbidden, code)
	code, _ = b.doAs(b.staffSession(billing.RoleStaff, billing.PermSubsRead), "POST", path, ev("k3"))
	require.Equal(t, http.StatusForbidden, code)

	users, err := b.store.Users(t.Context(), cid)
	require.NoError(t, err)
	client := b.session(store.Session{Kind: billing.ActorClient, UserID: users[0].ID, CustomerID: cid})
	code, _ = b.doAs(client, "POST", path, ev("k4"))
	require.Equal(t, http.StatusForbidden, code)
	code, body = b.doAs(client, "GET", path, "")
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.EqualValues(t, 1, body["resources"].([]any)[1].(map[string]any)["used"])
	others, err := b.store.Users(t.Context(), oid)
	require.NoError(t, err)
	stranger := b.session(store.Session{Kind: billing.ActorClient, UserID: others[0].ID, CustomerID: oid})
	code, _ = b.doAs(stranger, "GET", path, "")
	require.Equal(t, http.StatusNotFound, code)
}

// TestProductResources: a product's resources are created, shown (also to
// clients) and replaced with the product; invalid ones answer 422 naming
// resources[i].
func TestProductResources(t *testing.T) {
	t.Parallel()
	b := setup(t)
	in := map[string]any{"name": "PBX", "price": 100, "currency": "EUR", "period_unit": "month",
		"resources": []any{map[string]any{"name": "minutes", "unit": "min", "included": 1000, "overage_price": 2}}}
	code, body := b.doJSON("POST", "/api/v1/products", in)
	require.Equal(t, http.StatusCreated, code, "%v", body)
	id := jsonID(body)
	require.Equal(t, []any{map[string]any{"name": "minutes", "unit": "min", "included": 1000.0, "overage_price": 2.0}}, body["resources"])

	in["resources"] = []any{map[string]any{"name": "disk", "unit": "GB", "included": 5, "overage_price": 100},
		map[string]any{"name": "traffic", "unit": "GB", "included": 0, "overage_price": 1}}
	code, body = b.doJSON("PUT", "/api/v1/products/"+id, in)
	require.Equal(t, http.StatusOK, code, "%v", body)
	code, body = b.do("GET", "/api/v1/products/"+id, "")
	require.Equal(t, http.StatusOK, code)
	require.Len(t, body["resources"], 2)
	require.Equal(t, "traffic", body["resources"].([]any)[1].(map[string]any)["name"])

	in["resources"] = []any{map[string]any{"name": "disk", "unit": "GB", "included": 5, "overage_price": 100},
		map[string]any{"name": "disk", "unit": "GB", "included": -1, "overage_price": -2},
		map[string]any{"name": "Disk Space", "unit": "", "included": 1, "overage_price": 1}}
	code, body = b.doJSON("PUT", "/api/v1/products/"+id, in)
	require.Equal(t, http.StatusUnprocessableEntity, code, "%v", body)
	_, _, fields := errorOf(t, body)
	for _, f := range []string{"resources[1].name", "resources[1].included", "resources[1].overage_price", "resources[2].name", "resources[2].unit"} {
		require.Contains(t, fields, f)
	}
	code, body = b.do("GET", "/api/v1/products/"+id, "")
	require.Equal(t, http.StatusOK, code)
	require.Len(t, body["resources"], 2, "a refused replacement changes nothing")
}

// TestResourceNotifyPercentSetting: the setting defaults to 90, takes 0 to
// 100 and refuses anything else.
func TestResourceNotifyPercentSetting(t *testing.T) {
	t.Parallel()
	b := setupOn(t, dbtest.OwnPool(t))
	code, body := b.do("GET", "/api/v1/settings", "")
	require.Equal(t, http.StatusOK, code)
	require.EqualValues(t, 90, body["resource_notify_percent"])
	code, body = b.do("PATCH", "/api/v1/settings", `{"resource_notify_percent": 101}`)
	require.Equal(t, http.StatusUnprocessableEntity, code, "%v", body)
	code, body = b.do("PATCH", "/api/v1/settings", `{"resource_notify_percent": 0}`)
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.EqualValues(t, 0, body["resource_notify_percent"])
}
