package api_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFailedQueueLeavesNothing: a request whose notice can't be queued (the
// database refuses the notice, as a trigger makes it here) answers 500 and
// leaves none of what it wrote: no customer, user or link of a registration,
// no payer, no decision on a payer, no deletion. With the notices accepted,
// the same requests succeed and queue them.
func TestFailedQueueLeavesNothing(t *testing.T) {
	t.Parallel()
	a := newAccounts(t, `{"verify_client_email": true, "client_verification": "after_registration", "payer_verification": {"company": true}}`)
	_, err := a.store.Pool().Exec(t.Context(), `
		CREATE TABLE refused_events (event text PRIMARY KEY);
		CREATE FUNCTION refuse_notice() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN
			IF EXISTS (SELECT 1 FROM refused_events WHERE event = NEW.event) THEN
				RAISE EXCEPTION 'notice % refused by the test', NEW.event;
			END IF;
			RETURN NEW;
		END $$;
		CREATE TRIGGER refuse_notice BEFORE INSERT ON notices FOR EACH ROW EXECUTE FUNCTION refuse_notice();`)
	require.NoError(t, err)
	refuse := func(event string) {
		t.Helper()
		_, err := a.store.Pool().Exec(t.Context(), `DELETE FROM refused_events`)
		require.NoError(t, err)
		if event != "" {
			_, err = a.store.Pool().Exec(t.Context(), `INSERT INTO refused_events VALUES ($1)`, event)
			require.NoError(t, err)
		}
	}
	count := func(sql string, args ...any) int {
		t.Helper()
		var n int
		require.NoError(t, a.store.Pool().QueryRow(t.Context(), sql, args...).Scan(&n))
		return n
	}
	internal := func(code int, body map[string]any) {
		t.Helper()
		require.Equal(t, http.StatusInternalServerError, code, "%v", body)
		c, msg, _ := errorOf(t, body)
		require.Equal(t, "internal", c)
		require.NotContains(t, msg, "refused by the test", "the database's text is not shown")
	}
	nothingOf := func(login string) {
		t.Helper()
		require.Zero(t, count(`SELECT count(*) FROM users WHERE login = $1`, login), "no user")
		require.Zero(t, count(`SELECT count(*) FROM customers WHERE name LIKE '%' || $1`, login), "no customer")
		require.Zero(t, count(`SELECT count(*) FROM account_tokens WHERE email = $1`, login+"@example.com"), "no link")
		require.Zero(t, count(`SELECT count(*) FROM notices WHERE recipient = $1`, login+"@example.com"), "no notice")
	}
	staff := func(login string) (int, map[string]any) {
		return a.doJSON("POST", "/api/v1/customers", map[string]any{"account_type": "individual", "name": "Tx " + login,
			"country": "DE", "language": "de", "time_zone": "Europe/Berlin",
			"user": map[string]any{"login": login, "email": login + "@example.com", "first_name": "Ria"}})
	}

	// Staff registration: the registration notice is queued, then the account
	// verification's is refused; neither they nor the customer remain.
	for _, event := range []string{"registration", "account_verification"} {
		refuse(event)
		login := "t" + uniq()
		internal(staff(login))
		nothingOf(login)
	}
	// Self-registration, with its activation link.
	refuse("email_activation")
	login := "s" + uniq()
	internal(a.public("/api/v1/auth/register", selfRegistration(login)))
	nothingOf(login)

	// Accepted, the same requests create everything and queue the notices.
	refuse("")
	login = "t" + uniq()
	code, body := staff(login)
	require.Equal(t, http.StatusCreated, code, "%v", body)
	cust := jsonID(body["customer"])
	require.Equal(t, 2, count(`SELECT count(*) FROM notices WHERE recipient = $1 AND status = 'queued'
		AND event IN ('registration', 'account_verification')`, login+"@example.com"))
	require.Equal(t, 2, count(`SELECT count(*) FROM account_tokens WHERE email = $1`, login+"@example.com"))

	// A payer whose verification notice is refused is not added.
	payers := "/api/v1/customers/" + cust + "/payers"
	refuse("payer_verification")
	internal(a.doJSON("POST", payers, map[string]any{"type": "company", "legal_name": "Tx GmbH", "country": "DE", "tax_id": "DE1"}))
	require.Zero(t, count(`SELECT count(*) FROM payers WHERE customer_id = $1`, cust))
	refuse("")
	code, body = a.doJSON("POST", payers, map[string]any{"type": "company", "legal_name": "Tx GmbH", "country": "DE", "tax_id": "DE1"})
	require.Equal(t, http.StatusCreated, code, "%v", body)
	require.Equal(t, "pending", body["verification"])
	verify := payers + "/" + jsonID(body) + "/verify"

	// A request for information whose notice is refused is not recorded.
	refuse("client_verification_info")
	internal(a.doJSON("POST", verify, map[string]any{"request_info": true, "comment": "A passport"}))
	code, body = a.do("GET", payers+"/"+jsonID(body), "")
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.Equal(t, "pending", body["verification"])
	require.Zero(t, count(`SELECT count(*) FROM audit_log WHERE action = 'verifyPayer' AND customer_id = $1`, cust))

	// A deletion whose notice is refused does not happen; accepted, it does.
	refuse("account_deleted")
	internal(a.do("DELETE", "/api/v1/customers/"+cust, ""))
	code, body = a.do("GET", "/api/v1/customers/"+cust, "")
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "active", body["status"])
	refuse("")
	code, body = a.do("DELETE", "/api/v1/customers/"+cust, "")
	require.Equal(t, http.StatusOK, code, "%v", body)
	require.Equal(t, "deleted", body["status"])
	require.Equal(t, 1, count(`SELECT count(*) FROM notices WHERE recipient = $1 AND event = 'account_deleted'`, login+"@example.com"))
}
