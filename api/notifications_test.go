package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store"
)

// TestMessageTemplates: staff list the events, save a template per event,
// channel and language, are told which variable is wrong, and delete it.
// Swedish is this test's alone.
func TestMessageTemplates(t *testing.T) {
	t.Parallel()
	b := setup(t)
	code, body := b.do("GET", "/api/v1/notification-events", "")
	require.Equal(t, http.StatusOK, code)
	events := map[string]map[string]any{}
	for _, e := range body["items"].([]any) {
		m := e.(map[string]any)
		events[m["name"].(string)] = m
	}
	require.Len(t, events, 44)
	require.Equal(t, "mail_sender", events["email_confirmation"]["audience"], "a gateway notice goes to an address")
	require.Equal(t, "all_users", events["ticket_from_email"]["audience"])
	require.Equal(t, "invoice", events["invoice_issued"]["group"])
	require.Equal(t, []any{"email"}, events["credit_note_issued"]["channels"])
	require.Contains(t, events["invoice_issued"]["variables"], "[INVOICE_NUMBER]")
	require.Equal(t, "Activation of VPS", events["activated_vps"]["title"])
	require.Contains(t, events["license_updates_expiring"]["variables"], "[UPDATES_UNTIL]")
	require.Equal(t, "usage", events["overage_charged"]["group"])
	require.Equal(t, "main_user", events["registration"]["audience"])
	require.Equal(t, "all_users", events["renewed"]["audience"])
	require.Equal(t, true, events["approved"]["product_texts"])
	require.Equal(t, "payment", events["payment_received"]["group"])
	require.Equal(t, "all_users", events["funds_for_order"]["audience"])
	require.Equal(t, "customer", events["low_balance"]["object_type"])
	require.Contains(t, events["low_balance"]["variables"], "[DAYS_LEFT]")
	require.Contains(t, events["email_activation"]["variables"], "[ACTIVATION_URL]")

	path := "/api/v1/message-templates/renewed/email/sv"
	code, _ = b.do("GET", path, "")
	require.Equal(t, http.StatusNotFound, code, "no Swedish template yet")
	code, body = b.do("PUT", path, `{"subject": "Förnyad [PAYMENT_NAME]", "body": "Hej [USER_NAM], [LOGIN]"}`)
	require.Equal(t, http.StatusUnprocessableEntity, code)
	_, msg, fields := errorOf(t, body)
	require.Contains(t, msg, "[USER_NAM]", "the message names the variable")
	require.Contains(t, fields["body"], "[USER_NAM]")

	code, body = b.do("PUT", path, `{"subject": "Förnyad [PAYMENT_NAME]", "body": "Hej [USER_NAME]", "html_body": "<p>Hej [USER_NAME]</p>"}`)
	require.Equal(t, http.StatusOK, code, "%v", body)
	want := map[string]any{"event": "renewed", "channel": "email", "language": "sv", "subject": "Förnyad [PAYMENT_NAME]",
		"body": "Hej [USER_NAME]", "html_body": "<p>Hej [USER_NAME]</p>", "sender_name": "", "reply_to": "", "custom": true}
	require.Equal(t, want, body)
	code, body = b.do("GET", path, "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, want, body)
	code, body = b.do("GET", "/api/v1/message-templates?language=sv", "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, []any{want}, body["items"])
	code, body = b.do("GET", "/api/v1/message-templates?event=suspended&language=en", "")
	require.Equal(t, http.StatusOK, code)
	require.Len(t, body["items"], 2, "the built-in English email and SMS")

	for _, tc := range []struct {
		path, body string
		status     int
	}{
		{"/api/v1/message-templates/approved/email/sv", `{"subject": "x", "body": "y"}`, 422}, // the product's texts
		{"/api/v1/message-templates/email_activation/sms/sv", `{"body": "y"}`, 422},           // email only
		{"/api/v1/message-templates/renewed/sms/sv", `{"subject": "x", "body": "y"}`, 422},    // an SMS has no subject
		{"/api/v1/message-templates/renewed/email/sv", `{"body": "y"}`, 422},                  // an email needs one
		{"/api/v1/message-templates/renewed/email/not%20a%20language", `{"subject": "x", "body": "y"}`, 422},
		{"/api/v1/message-templates/nope/email/sv", `{"subject": "x", "body": "y"}`, 404},
		{"/api/v1/message-templates/renewed/fax/sv", `{"subject": "x", "body": "y"}`, 404},
	} {
		code, body := b.do("PUT", tc.path, tc.body)
		require.Equal(t, tc.status, code, "%s %s: %v", tc.path, tc.body, body)
	}

	code, _ = b.do("DELETE", path, "")
	require.Equal(t, http.StatusNoContent, code)
	code, _ = b.do("GET", path, "")
	require.Equal(t, http.StatusNotFound, code)

	// The old route writes the English templates, with the same check.
	code, body = b.do("PUT", "/api/v1/notice-templates/deleted", `{"subject": "Gone", "body": "Bye [USER_NAM]"}`)
	require.Equal(t, http.StatusUnprocessableEntity, code)
	_, msg, _ = errorOf(t, body)
	require.Contains(t, msg, "[USER_NAM]")
}

// TestPreview: a template rendered with sample data, with a real customer's
// data, and a draft; values in an HTML body are escaped.
func TestPreview(t *testing.T) {
	t.Parallel()
	b := setup(t)
	code, body := b.do("POST", "/api/v1/notification-events/activated/preview", `{}`)
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.Equal(t, true, body["sample"])
	require.Equal(t, "Your service VPS S is active", body["subject"])
	require.Equal(t, "default:activated", body["template"])

	login := "p" + uniq()
	code, body = b.doJSON("POST", "/api/v1/customers", map[string]any{"account_type": "individual", "name": "Preview & Co", "country": "DE",
		"user": map[string]any{"login": login, "email": login + "@example.com", "first_name": "<b>Pat</b>"}})
	require.Equal(t, http.StatusCreated, code, "%v", body)
	cust := jsonID(body["customer"])
	code, body = b.do("POST", "/api/v1/notification-events/message/preview", `{"customer_id": `+cust+`,
		"template": {"subject": "[MESSAGE_SUBJECT] for [CUSTOMER_NAME]", "body": "Hi [USER_NAME]", "html_body": "<p>Hi [USER_NAME]</p>"}}`)
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.Equal(t, false, body["sample"])
	require.Equal(t, "Planned maintenance for Preview & Co", body["subject"])
	require.Equal(t, "Hi <b>Pat</b>", body["body"])
	require.Equal(t, "<p>Hi &lt;b&gt;Pat&lt;/b&gt;</p>", body["html_body"], "values in HTML are escaped")
	require.Equal(t, login+"@example.com", body["to"])

	code, body = b.do("POST", "/api/v1/notification-events/message/preview", `{"template": {"subject": "x", "body": "[USER_NAM]"}}`)
	require.Equal(t, http.StatusUnprocessableEntity, code)
	_, msg, _ := errorOf(t, body)
	require.Contains(t, msg, "[USER_NAM]")
	code, _ = b.do("POST", "/api/v1/notification-events/approved/preview", `{}`)
	require.Equal(t, http.StatusUnprocessableEntity, code, "a payment state needs a draft: its texts are the product's")
	for _, lang := range []string{"DE", "pt_BR", "de-de"} {
		code, body = b.do("POST", "/api/v1/notification-events/activated/preview", `{"language": "`+lang+`"}`)
		require.Equal(t, http.StatusUnprocessableEntity, code, "%s: a template's language is never written so, not a 404", lang)
		_, _, fields := errorOf(t, body)
		require.Contains(t, fields, "language")
	}
	code, body = b.do("POST", "/api/v1/notification-events/activated/preview", `{"language": "en"}`)
	require.Equal(t, http.StatusOK, code, "%v", body)

	noCustomers := b.staffSession(billing.RoleStaff, billing.PermNoticesWrite)
	code, _ = b.doAs(noCustomers, "POST", "/api/v1/notification-events/activated/preview", `{"customer_id": `+cust+`}`)
	require.Equal(t, http.StatusForbidden, code, "a customer's data needs customers.read")
	code, _ = b.doAs(noCustomers, "POST", "/api/v1/notification-events/activated/preview", `{}`)
	require.Equal(t, http.StatusOK, code)

	// A subscription's product, price, dates and suspension reason are
	// subscriptions.read's: customers.read alone doesn't show them.
	price := int64(500)
	prod, err := b.store.CreateProduct(b.t.Context(), (&billing.ProductInput{Name: "Secret VPS", Price: &price, Currency: "EUR",
		PeriodUnit: billing.PeriodMonth}).Product())
	require.NoError(t, err)
	var custID int64
	_, err = fmt.Sscan(cust, &custID)
	require.NoError(t, err)
	order, err := b.store.CreateSubscription(b.t.Context(), billing.SubscriptionCreate{CustomerID: custID, ProductID: prod.ID}, "", 0)
	require.NoError(t, err)
	body2 := fmt.Sprintf(`{"customer_id": %s, "subscription_id": %d}`, cust, order.Subscription.ID)
	customersOnly := b.staffSession(billing.RoleStaff, billing.PermNoticesWrite, billing.PermCustomersRead)
	code, body = b.doAs(customersOnly, "POST", "/api/v1/notification-events/activated/preview", body2)
	require.Equal(t, http.StatusForbidden, code, "a subscription's data needs subscriptions.read: %v", body)
	both := b.staffSession(billing.RoleStaff, billing.PermNoticesWrite, billing.PermCustomersRead, billing.PermSubsRead)
	code, body = b.doAs(both, "POST", "/api/v1/notification-events/activated/preview", body2)
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.Contains(t, body["subject"], "Secret VPS")
}

// logEntry records a notice of customer c with status and returns its ID.
func (b *bundle) logEntry(c billing.Customer, event, status string) int64 {
	b.t.Helper()
	ctx := b.t.Context()
	n, claimed, err := b.store.ClaimNotice(ctx, "test:"+uniq(), billing.Notice{CustomerID: &c.ID, Event: event, ObjectType: "customer",
		ObjectID: fmt.Sprint(c.ID), Channel: billing.ChannelEmail, Recipient: "x@example.com", Template: "default:" + event,
		Subject: "s", Body: "b"})
	require.NoError(b.t, err)
	require.True(b.t, claimed)
	require.NoError(b.t, b.store.FinishNotice(ctx, n, status, "", ""))
	return n.ID
}

// TestNotificationLog: staff filter the log by customer, event, status and
// date; a client sees only their own customer's; staff resend a failed
// notification once, as a new row linked to it.
func TestNotificationLog(t *testing.T) {
	t.Parallel()
	b := setup(t)
	m := &matrix{b: b, hash: "x"}
	a, userA := m.customer(t, "logA")
	c, _ := m.customer(t, "logC")
	sentA := b.logEntry(a, "registration", billing.NoticeSent)
	failedA := b.logEntry(a, "account_deleted", billing.NoticeFailed)
	failedC := b.logEntry(c, "registration", billing.NoticeFailed)

	ids := func(token, query string) []int64 {
		t.Helper()
		code, body := b.doAs(token, "GET", "/api/v1/notifications?"+query, "")
		require.Equal(t, http.StatusOK, code, "%v", body)
		var out []int64
		for _, it := range body["items"].([]any) {
			var id int64
			_, err := fmt.Sscan(jsonID(it), &id)
			require.NoError(t, err)
			out = append(out, id)
		}
		return out
	}
	q := func(kv ...string) string {
		v := url.Values{}
		for i := 0; i < len(kv); i += 2 {
			v.Set(kv[i], kv[i+1])
		}
		return v.Encode()
	}
	aID, cID := fmt.Sprint(a.ID), fmt.Sprint(c.ID)
	require.Equal(t, []int64{failedA, sentA}, ids(b.token, q("customer_id", aID)), "newest first")
	require.Equal(t, []int64{sentA}, ids(b.token, q("customer_id", aID, "event", "registration")))
	require.Equal(t, []int64{failedA}, ids(b.token, q("customer_id", aID, "status", "failed")))
	require.Equal(t, []int64{failedC}, ids(b.token, q("customer_id", cID)))
	future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	require.Empty(t, ids(b.token, q("customer_id", aID, "since", future)))
	require.Len(t, ids(b.token, q("customer_id", aID, "since", past, "until", future)), 2)
	require.Equal(t, []int64{failedA, sentA}, ids(b.token, q("customer_id", aID, "channel", "email")))
	require.Empty(t, ids(b.token, q("customer_id", aID, "channel", "sms")))
	require.Empty(t, ids(b.token, q("customer_id", aID, "subscription_id", "1")), "none is a subscription's")
	code, _ := b.do("GET", "/api/v1/notifications?status=lost", "")
	require.Equal(t, http.StatusUnprocessableEntity, code)

	client := b.session(store.Session{Kind: billing.ActorClient, UserID: userA.ID, CustomerID: a.ID})
	require.Equal(t, []int64{failedA, sentA}, ids(client, ""), "a client sees their own customer's only")
	code, _ = b.doAs(client, "GET", "/api/v1/notifications?customer_id="+cID, "")
	require.Equal(t, http.StatusNotFound, code, "not another customer's")
	code, _ = b.doAs(client, "POST", fmt.Sprintf("/api/v1/notifications/%d/resend", failedA), "")
	require.Equal(t, http.StatusForbidden, code, "resending is staff's")

	code, body := b.do("POST", fmt.Sprintf("/api/v1/notifications/%d/resend", failedA), "")
	require.Equal(t, http.StatusAccepted, code, "%v", body)
	require.Equal(t, "queued", body["status"])
	require.EqualValues(t, failedA, body["resend_of"])
	require.Equal(t, "account_deleted", body["event"])
	resend := jsonID(body)
	code, body = b.do("POST", fmt.Sprintf("/api/v1/notifications/%d/resend", failedA), "")
	require.Equal(t, http.StatusConflict, code, "resent once")
	_, msg, _ := errorOf(t, body)
	require.Contains(t, msg, "resent already")
	code, _ = b.do("POST", fmt.Sprintf("/api/v1/notifications/%d/resend", sentA), "")
	require.Equal(t, http.StatusConflict, code, "a sent notification is not resent")
	code, _ = b.do("POST", "/api/v1/notifications/"+resend+"/resend", "")
	require.Equal(t, http.StatusConflict, code, "nor a queued one")
	code, _ = b.do("POST", "/api/v1/notifications/999999999/resend", "")
	require.Equal(t, http.StatusNotFound, code)
	require.Len(t, ids(b.token, q("customer_id", aID)), 3, "the resend is a row of its own")
}
