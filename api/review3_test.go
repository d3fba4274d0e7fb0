package api_test

import (
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/api"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/store"
)

// TestSetPasswordLinkEndsWithItsAddress: the registration notice's link went
// to the address the main user had then. Once that address is changed (staff
// correct a typo, the client moves), whoever reads the old mailbox must not be
// able to set the password, and so take the account over.
func TestSetPasswordLinkEndsWithItsAddress(t *testing.T) {
	t.Parallel()
	a := newAccounts(t, "")
	cust, login := a.registerByStaff("en")
	mails := a.deliver(login + "@example.com")
	require.Len(t, mails, 1)
	token := linkToken(t, text(t, mails[0]), "/set-password")

	code, body := a.do("GET", "/api/v1/customers/"+cust+"/users", "")
	require.Equal(t, http.StatusOK, code)
	mainID := jsonID(body["items"].([]any)[0].(map[string]any))
	code, body = a.do("PATCH", "/api/v1/customers/"+cust+"/users/"+mainID, `{"email": "right-`+login+`@example.com"}`)
	require.Equal(t, http.StatusOK, code, "%v", body)

	code, body = a.public("/api/v1/auth/set-password", mustJSON(map[string]string{"token": token, "password": "old-mailbox-owner"}))
	require.Equal(t, http.StatusConflict, code, "a link sent to an address the user no longer has sets nothing: %v", body)
	code, _ = a.public("/api/v1/auth/login", mustJSON(map[string]string{"login": login, "password": "staff-chosen-123"}))
	require.Equal(t, http.StatusCreated, code, "the password is unchanged")
}

// TestSetPasswordLinkOnceUnderConcurrency: two posts of one link at the same
// time: one sets the password, the other is told it was used.
func TestSetPasswordLinkOnceUnderConcurrency(t *testing.T) {
	t.Parallel()
	a := newAccounts(t, "")
	_, login := a.registerByStaff("en")
	mails := a.deliver(login + "@example.com")
	require.Len(t, mails, 1)
	token := linkToken(t, text(t, mails[0]), "/set-password")
	codes := make([]int, 4)
	var wg sync.WaitGroup
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = a.public("/api/v1/auth/set-password", mustJSON(map[string]string{"token": token, "password": "concurrent-pw-" + string(rune('a'+i))}))
		}()
	}
	wg.Wait()
	n := 0
	for _, c := range codes {
		if c == http.StatusNoContent {
			n++
		} else {
			require.Equal(t, http.StatusConflict, c)
		}
	}
	require.Equal(t, 1, n, "one use: %v", codes)
}

// verifiedPayer makes a company payer of a new customer verified by staff and
// returns the customer's ID, the payer's path and a client session of the
// customer's main user.
func verifiedPayer(t *testing.T, b *bundle) (string, string, string) {
	id, _, _ := b.customerWithTwoUsers("en")
	status, body := b.doJSON("POST", "/api/v1/customers/"+id+"/payers", map[string]any{"type": "company", "legal_name": "Acme GmbH",
		"country": "DE", "tax_id": "DE123"})
	require.Equal(t, http.StatusCreated, status, "%v", body)
	path := "/api/v1/customers/" + id + "/payers/" + jsonID(body)
	status, body = b.doJSON("POST", path+"/verify", map[string]any{"verified": true})
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, "verified", body["verification"])
	status, body = b.do("GET", "/api/v1/customers/"+id+"/users", "")
	require.Equal(t, http.StatusOK, status)
	u := body["items"].([]any)[0].(map[string]any)
	var cust, user int64
	cust, user = mustID(t, id), mustID(t, jsonID(u))
	return id, path, b.session(store.Session{Kind: billing.ActorClient, UserID: user, CustomerID: cust})
}

// TestPayerChangedAfterVerification: a client whose payer staff verified
// must not keep "verified" on a payer whose legal name and tax ID they then
// replace: the verification was of the old details.
func TestPayerChangedAfterVerification(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, path, client := verifiedPayer(t, b)
	status, body := b.doAs(client, "PUT", path, mustJSON(map[string]any{"type": "company", "legal_name": "Acme GmbH",
		"country": "DE", "tax_id": "DE123", "contact_name": "Ann", "phone": "+4930123456"}))
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, "verified", body["verification"], "new contact details keep the verification")
	status, body = b.doAs(client, "PUT", path, mustJSON(map[string]any{"type": "company", "legal_name": "Someone Else Ltd",
		"country": "GB", "tax_id": "GB999"}))
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.NotEqual(t, "verified", body["verification"], "new details are not verified: %v", body)
	require.Nil(t, body["verified_at"])
}

// TestPayerLinkAfterStaffAskedForInfo: staff looked at a pending payer and
// asked for more information; the link emailed when the payer was added must
// not then verify it behind staff's back.
func TestPayerLinkAfterStaffAskedForInfo(t *testing.T) {
	t.Parallel()
	b := setupOn(t, dbtest.OwnPool(t), func(o *api.Options) { o.PublicURL = "https://panel.example.com/" })
	box := newMailbox(t, b.store)
	status, body := b.doJSON("PATCH", "/api/v1/settings", map[string]any{"payer_verification": map[string]any{"company": true}})
	require.Equal(t, http.StatusOK, status, "%v", body)
	id, _, _ := b.customerWithTwoUsers("en")
	status, body = b.doJSON("POST", "/api/v1/customers/"+id+"/payers", map[string]any{"type": "company", "legal_name": "Acme GmbH",
		"country": "DE", "tax_id": "DE123"})
	require.Equal(t, http.StatusCreated, status, "%v", body)
	require.Equal(t, "pending", body["verification"])
	path := "/api/v1/customers/" + id + "/payers/" + jsonID(body)
	msgs := box.deliver(id)
	require.Len(t, msgs, 1)
	token := regexp.MustCompile(`token=(pv_[A-Z0-9]+)`).FindStringSubmatch(text(t, msgs[0]))
	require.NotNil(t, token)

	status, body = b.doJSON("POST", path+"/verify", map[string]any{"request_info": true, "comment": "A trade register extract"})
	require.Equal(t, http.StatusOK, status, "%v", body)
	status, body = b.doAs("", "POST", "/api/v1/payer-verifications", `{"token": "`+token[1]+`"}`)
	require.Equal(t, http.StatusConflict, status, "staff's request stands: %v", body)
	status, body = b.do("GET", path, "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "info_requested", body["verification"])
}

// TestSendMessageLanguageOfRegionalCustomers: "only customers of this
// language" reaches a customer whose language is written DE or de-AT, as the
// templates do (notices.Languages), and not one of another language.
func TestSendMessageLanguageOfRegionalCustomers(t *testing.T) {
	t.Parallel()
	w := newMessageWorld(t, 100)
	_, deMails := w.customer("de")
	_, upperMails := w.customer("DE")
	_, atMails := w.customer("de-AT")
	w.customer("en")
	w.customer("dsb") // Lower Sorbian: not German though it starts with "d"
	id := w.send(map[string]any{"category": "info", "language": "de", "subject": "Alle Deutschsprachigen", "text": "Hallo"})
	m := w.waitFinished(id)
	require.Equal(t, "done", m["status"])
	require.Equal(t, sorted(deMails, upperMails, atMails), w.received("Alle Deutschsprachigen"))
	require.Equal(t, 3.0, m["progress"].(map[string]any)["total"])
}

// TestSelfRegistrationRefusesStaffFields: the README's "the staff-only
// fields are refused, 422", and a login already taken is 409.
func TestSelfRegistrationRefusesStaffFields(t *testing.T) {
	t.Parallel()
	a := newAccounts(t, "")
	login := "s" + uniq()
	for _, extra := range []string{`"note": "vip"`, `"post_paid": true`, `"group": "staff"`} {
		body := strings.Replace(selfRegistration(login), `"account_type"`, extra+`, "account_type"`, 1)
		code, out := a.public("/api/v1/auth/register", body)
		require.Equal(t, http.StatusUnprocessableEntity, code, "%s: %v", extra, out)
	}
	body := strings.Replace(selfRegistration(login), `"first_name"`, `"email_verified": true, "first_name"`, 1)
	code, out := a.public("/api/v1/auth/register", body)
	require.Equal(t, http.StatusUnprocessableEntity, code, "%v", out)
	code, out = a.public("/api/v1/auth/register", selfRegistration(login))
	require.Equal(t, http.StatusCreated, code, "%v", out)
	code, out = a.public("/api/v1/auth/register", selfRegistration(login))
	require.Equal(t, http.StatusConflict, code, "%v", out)
}
