package api_test

import (
	"net/http"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/api"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/store"
)

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
