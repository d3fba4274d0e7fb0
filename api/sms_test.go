package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing/internal/twiliotest"
	"github.com/tempobill/billing/sms"
)

// TestAccountNoticeSMS: SMS templates of account events, added by staff,
// reach a Twilio-compatible fake through twilio-go: each recipient's phone,
// in their language (the user's, else the customer's), with the variables
// filled in; the audience rule holds (all users for client_verification_info,
// the main user only for account_deleted).
func TestAccountNoticeSMS(t *testing.T) {
	t.Parallel()
	a := newAccounts(t, "")
	fake := twiliotest.Start()
	t.Cleanup(fake.Close)
	a.acts.SMS = sms.NewTwilio("AC0123", "token", "+15005550006", fake.Client())
	for path, body := range map[string]string{
		"client_verification_info/sms/de": "Hallo [USER_NAME], fuer [PAYER_NAME] brauchen wir: [REQUESTED_INFO]",
		"client_verification_info/sms/fr": "Bonjour [USER_NAME], pour [PAYER_NAME] il faut : [REQUESTED_INFO]",
		"account_deleted/sms/de":          "[LOGIN]: Konto [CUSTOMER_NAME] geloescht, weil [REASON]",
		"account_deleted/sms/en":          "[LOGIN]: account [CUSTOMER_NAME] deleted",
	} {
		code, resp := a.doJSON("PUT", "/api/v1/message-templates/"+path, map[string]string{"body": body})
		require.Equal(t, http.StatusOK, code, "%s: %v", path, resp)
	}
	login := "m" + uniq()
	code, body := a.doJSON("POST", "/api/v1/customers", map[string]any{"account_type": "individual", "name": "SMS & Co",
		"country": "DE", "language": "de", "time_zone": "Europe/Berlin",
		"user": map[string]any{"login": login, "email": login + "@example.com", "first_name": "Ria", "phone": "+4915111111111"}})
	require.Equal(t, http.StatusCreated, code, "%v", body)
	cust := jsonID(body["customer"])
	code, body = a.doJSON("POST", "/api/v1/customers/"+cust+"/users", map[string]any{"login": "o" + login,
		"email": "o" + login + "@example.com", "first_name": "Odile", "language": "fr", "phone": "+33611111111"})
	require.Equal(t, http.StatusCreated, code, "%v", body)
	code, body = a.doJSON("POST", "/api/v1/customers/"+cust+"/users", map[string]any{"login": "n" + login,
		"email": "n" + login + "@example.com", "first_name": "Nina"})
	require.Equal(t, http.StatusCreated, code, "%v", body)
	a.deliver("@example.com") // the registration email

	code, body = a.doJSON("POST", "/api/v1/customers/"+cust+"/payers", map[string]any{"type": "company", "legal_name": "Acme GmbH",
		"country": "DE", "tax_id": "DE123"})
	require.Equal(t, http.StatusCreated, code, "%v", body)
	code, body = a.doJSON("POST", "/api/v1/customers/"+cust+"/payers/"+jsonID(body)+"/verify",
		map[string]any{"request_info": true, "comment": "a register extract"})
	require.Equal(t, http.StatusOK, code, "%v", body)
	a.deliver("@example.com")
	require.ElementsMatch(t, []twiliotest.Message{
		{AccountSID: "AC0123", From: "+15005550006", To: "+4915111111111", Body: "Hallo Ria, fuer Acme GmbH brauchen wir: a register extract"},
		{AccountSID: "AC0123", From: "+15005550006", To: "+33611111111", Body: "Bonjour Odile, pour Acme GmbH il faut : a register extract"},
	}, fake.Messages(), "every user with a phone, in their language (the user without one gets the email only)")

	code, body = a.do("DELETE", "/api/v1/customers/"+cust, "")
	require.Equal(t, http.StatusOK, code, "%v", body)
	a.deliver("@example.com")
	msgs := fake.Messages()
	require.Len(t, msgs, 3, "the main user only")
	require.Equal(t, twiliotest.Message{AccountSID: "AC0123", From: "+15005550006", To: "+4915111111111",
		Body: login + ": Konto SMS & Co geloescht, weil your provider deleted it"}, msgs[2], "the customer's language")

	code, body = a.do("GET", "/api/v1/notifications?customer_id="+cust+"&channel=sms", "")
	require.Equal(t, http.StatusOK, code, "%v", body)
	items := body["items"].([]any)
	require.Len(t, items, 3)
	for _, it := range items {
		n := it.(map[string]any)
		require.Equal(t, "sent", n["status"], "%v", n)
		require.NotEmpty(t, n["provider_message_id"], "%v", n)
	}
	a.deliver("@example.com")
	require.Len(t, fake.Messages(), 3, "sent once")
}
