package api_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/converter"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/api"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/store"
	"github.com/tempobill/billing/workflows"
)

// settingsBundle is an API on a database of its own, started with the
// defaults an environment would give (GRACE_DAYS=9). Its workflows go to a
// task queue no worker polls, with IDs no other test uses: the package's
// worker can't see this database.
func settingsBundle(t *testing.T) *bundle {
	db := dbtest.OwnPool(t)
	_, err := db.Exec(t.Context(), fmt.Sprintf(`ALTER TABLE subscriptions ALTER COLUMN id RESTART WITH %d`, 1_000_000_000+rand.Int64N(1_000_000_000)))
	require.NoError(t, err)
	return setupOn(t, db, func(o *api.Options) {
		o.TaskQueue = "no-worker-" + uniq()
		o.Settings = billing.DefaultSettings()
		o.Settings.GraceDays = 9
	})
}

// TestSettingsDefaultsThenStored: until changed, the settings are the
// defaults the API was started with (updated_at null); the first PATCH
// changes what it names, stores the rest from those defaults, and is
// audited with each change before and after.
func TestSettingsDefaultsThenStored(t *testing.T) {
	t.Parallel()
	b := settingsBundle(t)
	status, got := b.do("GET", "/api/v1/settings", "")
	require.Equal(t, http.StatusOK, status, "%v", got)
	require.Equal(t, map[string]any{
		"near_delete_period": []any{7.0, 5.0, 3.0, 1.0}, "low_money_notice_period": []any{10.0, 5.0, 4.0, 3.0, 2.0, 1.0, 0.0},
		"low_money_expire_period": []any{5.0, 4.0, 3.0, 2.0, 1.0, 0.0}, "grace_days": 9.0, "suspend_after_days": 1.0,
		"unpaid_order_days": 3.0, "max_unpaid_orders": 5.0, "verify_client_email": false, "client_verification": "none",
		"payer_verification":           map[string]any{"individual": false, "company": false, "sole_proprietor": false},
		"delete_inactive_clients_days": 0.0, "default_language": "en", "auto_invoicing": false, "invoice_provider": "",
		"updated_at": nil, "resource_notify_percent": 90.0,
	}, got)

	status, got = b.do("PATCH", "/api/v1/settings", `{"near_delete_period": [1, 10, 3], "payer_verification": {"company": true},
		"client_verification": "after_first_payment", "verify_client_email": true, "delete_inactive_clients_days": 365,
		"default_language": "pt-BR", "low_money_notice_period": null}`)
	require.Equal(t, http.StatusOK, status, "%v", got)
	require.Equal(t, []any{10.0, 3.0, 1.0}, got["near_delete_period"], "kept from the most days to the fewest")
	require.Equal(t, 9.0, got["grace_days"], "stored from the defaults")
	require.Equal(t, []any{10.0, 5.0, 4.0, 3.0, 2.0, 1.0, 0.0}, got["low_money_notice_period"], "null: unchanged")
	require.Equal(t, map[string]any{"individual": false, "company": true, "sole_proprietor": false}, got["payer_verification"])
	require.Equal(t, "after_first_payment", got["client_verification"])
	require.Equal(t, true, got["verify_client_email"])
	require.Equal(t, 365.0, got["delete_inactive_clients_days"])
	require.Equal(t, "pt-BR", got["default_language"])
	require.NotNil(t, got["updated_at"])
	_, again := b.do("GET", "/api/v1/settings", "")
	require.Equal(t, got, again)

	status, audit := b.do("GET", "/api/v1/audit?action=updateSettings", "")
	require.Equal(t, http.StatusOK, status, "%v", audit)
	require.Len(t, audit["items"], 1)
	e := audit["items"].([]any)[0].(map[string]any)
	require.Equal(t, "settings", e["object_type"])
	require.Equal(t, "staff", e["actor_kind"])
	details := e["details"].(map[string]any)
	require.Equal(t, map[string]any{"from": []any{7.0, 5.0, 3.0, 1.0}, "to": []any{10.0, 3.0, 1.0}}, details["near_delete_period"])
	require.Equal(t, map[string]any{"from": "en", "to": "pt-BR"}, details["default_language"])
	require.NotContains(t, details, "grace_days", "unchanged settings are not named")
}

// TestSettingsValidation: every invalid field is named at once, and a
// refused change stores nothing.
func TestSettingsValidation(t *testing.T) {
	t.Parallel()
	b := settingsBundle(t)
	status, body := b.do("PATCH", "/api/v1/settings", `{"near_delete_period": [3, 3], "low_money_expire_period": [-1, 2],
		"low_money_notice_period": [3651], "grace_days": -1, "suspend_after_days": 4000, "unpaid_order_days": 0,
		"max_unpaid_orders": 0, "client_verification": "sometimes", "delete_inactive_clients_days": -30, "default_language": "xx"}`)
	require.Equal(t, http.StatusUnprocessableEntity, status, "%v", body)
	code, _, fields := errorOf(t, body)
	require.Equal(t, billing.EINVALID, code)
	require.Equal(t, map[string]any{
		"near_delete_period":           "lists 3 twice",
		"low_money_expire_period":      "must list days from 0 to 3650",
		"low_money_notice_period":      "must list days from 0 to 3650",
		"grace_days":                   "must be a whole number from 0 to 3650",
		"suspend_after_days":           "must be a whole number from 0 to 3650",
		"unpaid_order_days":            "must be a whole number from 1 to 3650",
		"max_unpaid_orders":            "must be a whole number from 1 to 10000",
		"client_verification":          "must be one of: none, after_registration, after_first_payment",
		"delete_inactive_clients_days": "must be a whole number from 0 to 3650",
		"default_language":             "must be a known language tag in its usual form, such as en, de or pt-BR",
	}, fields)
	for _, bad := range []string{`{"grace_days": "5"}`, `{"near_delete_period": [1, null]}`, `{"near_delete_period": 3}`,
		`{"grace": 5}`, `{"payer_verification": {"partnership": true}}`, `{"default_language": "EN"}`} {
		status, body := b.do("PATCH", "/api/v1/settings", bad)
		require.Equal(t, http.StatusUnprocessableEntity, status, "%s: %v", bad, body)
	}
	_, got := b.do("GET", "/api/v1/settings", "")
	require.Nil(t, got["updated_at"], "nothing was stored")
}

// TestSettingsAccess: any staff member reads the settings; changing them
// needs settings.manage, whatever else the member holds; clients get 403
// for both, anonymous callers 401.
func TestSettingsAccess(t *testing.T) {
	t.Parallel()
	b := settingsBundle(t)
	var others []string
	for _, p := range billing.Permissions {
		if p != billing.PermSettingsManage {
			others = append(others, p)
		}
	}
	everyOther := b.staffSession(billing.RoleStaff, others...)
	manager := b.staffSession(billing.RoleStaff, billing.PermSettingsManage)
	cust, _ := b.newCustomer()
	id, err := strconv.ParseInt(cust, 10, 64)
	require.NoError(t, err)
	users, err := b.store.Users(t.Context(), id)
	require.NoError(t, err)
	client := b.session(store.Session{Kind: billing.ActorClient, UserID: users[0].ID, CustomerID: id})
	for _, tc := range []struct {
		who        string
		token      string
		get, patch int
	}{
		{"staff with every other permission", everyOther, http.StatusOK, http.StatusForbidden},
		{"staff with settings.manage", manager, http.StatusOK, http.StatusOK},
		{"a client", client, http.StatusForbidden, http.StatusForbidden},
		{"anonymous", "", http.StatusUnauthorized, http.StatusUnauthorized},
	} {
		status, body := b.doAs(tc.token, "GET", "/api/v1/settings", "")
		require.Equal(t, tc.get, status, "%s: %v", tc.who, body)
		status, body = b.doAs(tc.token, "PATCH", "/api/v1/settings", `{"grace_days": 20}`)
		require.Equal(t, tc.patch, status, "%s: %v", tc.who, body)
	}
	_, got := b.do("GET", "/api/v1/settings", "")
	require.Equal(t, 20.0, got["grace_days"], "only the manager's change went through")
	_, audit := b.do("GET", "/api/v1/audit?action=updateSettings", "")
	require.Len(t, audit["items"], 1)
}

// TestOrdersAndProductsReadTheLiveSettings: a change applies to the next
// order (max_unpaid_orders; the settings its workflow starts with) and to
// what clients see of products (grace days), without restarting the API.
func TestOrdersAndProductsReadTheLiveSettings(t *testing.T) {
	t.Parallel()
	b := settingsBundle(t)
	cust, _ := b.newCustomer()
	custID, err := strconv.ParseInt(cust, 10, 64)
	require.NoError(t, err)
	product := b.product(500)
	productID, err := strconv.ParseInt(product, 10, 64)
	require.NoError(t, err)
	// An order waiting for a payment, as its workflow would have left it
	// (this database has no worker).
	order, err := b.store.CreateSubscription(t.Context(), billing.SubscriptionCreate{CustomerID: custID, ProductID: productID}, "", 0)
	require.NoError(t, err)
	ok, err := b.store.MarkAwaitingPayment(t.Context(), order.Subscription.ID, custID, 0)
	require.NoError(t, err)
	require.True(t, ok)

	status, body := b.do("PATCH", "/api/v1/settings", `{"max_unpaid_orders": 1, "grace_days": 21}`)
	require.Equal(t, http.StatusOK, status, "%v", body)
	status, body = b.do("POST", "/api/v1/subscriptions", fmt.Sprintf(`{"customer_id": %s, "product_id": %s}`, cust, product))
	require.Equal(t, http.StatusConflict, status, "%v", body)
	_, msg, _ := errorOf(t, body)
	require.Contains(t, msg, "1 unpaid orders")

	users, err := b.store.Users(t.Context(), custID)
	require.NoError(t, err)
	client := b.session(store.Session{Kind: billing.ActorClient, UserID: users[0].ID, CustomerID: custID})
	status, body = b.doAs(client, "GET", "/api/v1/products/"+product, "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, 21.0, body["grace_days"], "the product has none of its own: the setting")

	status, body = b.do("PATCH", "/api/v1/settings", `{"max_unpaid_orders": 2, "unpaid_order_days": 7}`)
	require.Equal(t, http.StatusOK, status, "%v", body)
	status, body = b.do("POST", "/api/v1/subscriptions", fmt.Sprintf(`{"customer_id": %s, "product_id": %s}`, cust, product))
	require.Equal(t, http.StatusCreated, status, "%v", body)
	wid := billing.SubscriptionWorkflowID(int64(body["id"].(float64)))
	t.Cleanup(func() { _ = temporalClient.TerminateWorkflow(context.Background(), wid, "", "test over") })
	it := temporalClient.GetWorkflowHistory(t.Context(), wid, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	first, err := it.Next()
	require.NoError(t, err)
	var in workflows.SubscriptionInput
	require.NoError(t, converter.GetDefaultDataConverter().FromPayloads(first.GetWorkflowExecutionStartedEventAttributes().GetInput(), &in))
	want := billing.DefaultSettings()
	want.GraceDays, want.MaxUnpaidOrders, want.UnpaidOrderDays = 21, 2, 7
	require.Equal(t, want.Policy(), in.Policy, "the order's workflow starts with the settings of its moment")
}
