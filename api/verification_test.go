package api_test

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/api"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/internal/smtptest"
	"github.com/tempobill/billing/mail"
	"github.com/tempobill/billing/sms"
	"github.com/tempobill/billing/store"
)

// mailbox is a real SMTP server in the test process and activities that
// send to it: what the redelivery schedule does, run by hand.
type mailbox struct {
	t    *testing.T
	smtp *smtptest.Server
	acts *activities.Activities
}

func newMailbox(t *testing.T, st *store.Store) *mailbox {
	t.Helper()
	srv, err := smtptest.Start()
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	m, err := mail.NewSMTP(srv.Addr, "", "", "none")
	require.NoError(t, err)
	return &mailbox{t: t, smtp: srv, acts: &activities.Activities{Store: st, Mail: m, SMS: &sms.Log{Path: t.TempDir() + "/sms.log"},
		MailFrom: "billing@example.com", Log: slog.New(slog.DiscardHandler)}}
}

// deliver sends the customer's queued notices, as the redelivery schedule
// would within a minute, and returns every message received so far but the
// registration notices (a customer registered by staff gets one; the tests
// here are about the mails that follow).
func (m *mailbox) deliver(customerID string) []smtptest.Message {
	m.t.Helper()
	var id int64
	_, err := fmt.Sscan(customerID, &id)
	require.NoError(m.t, err)
	ctx, cancel := context.WithTimeout(m.t.Context(), time.Minute)
	defer cancel()
	_, err = m.acts.RedeliverNotices(ctx, activities.RedeliverInput{CustomerID: id})
	require.NoError(m.t, err)
	var out []smtptest.Message
	for _, msg := range m.smtp.Messages() {
		if !strings.HasPrefix(msg.Subject, "Welcome to your account") {
			out = append(out, msg)
		}
	}
	return out
}

// recipients lists the To of each message.
func recipients(ms []smtptest.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.To)
	}
	return out
}

// customerWithTwoUsers registers a customer (its main user speaks lang) and
// adds a second user; it returns the customer's ID and both users' emails.
func (b *bundle) customerWithTwoUsers(lang string) (id, mainEmail, otherEmail string) {
	b.t.Helper()
	login := "c" + uniq()
	status, body := b.doJSON("POST", "/api/v1/customers", map[string]any{
		"account_type": "company", "name": "Acme Example", "country": "DE",
		"company": map[string]any{"legal_name": "Acme GmbH", "tax_id": "DE123"},
		"user":    map[string]any{"login": login, "email": login + "@example.com", "first_name": "Ann", "language": lang},
	})
	require.Equal(b.t, http.StatusCreated, status, "%v", body)
	id = jsonID(body["customer"])
	other := "u" + uniq()
	status, body = b.doJSON("POST", "/api/v1/customers/"+id+"/users", map[string]any{"login": other, "email": other + "@example.com",
		"first_name": "Bob"})
	require.Equal(b.t, http.StatusCreated, status, "%v", body)
	return id, login + "@example.com", other + "@example.com"
}

// TestAccountDeletedNotice: DELETE /customers/{id} sends account_deleted to
// the main user only, in their language, with the customer's name, their
// login and the reason. It is rendered when the customer is deleted: an
// address changed (or a user disabled) afterwards doesn't lose it. A
// repeated DELETE sends nothing again.
func TestAccountDeletedNotice(t *testing.T) {
	t.Parallel()
	b := setupOn(t, dbtest.OwnPool(t)) // its own templates
	box := newMailbox(t, b.store)
	status, body := b.doJSON("PUT", "/api/v1/message-templates/account_deleted/email/de", map[string]any{
		"subject": "Konto [CUSTOMER_NAME] gelöscht", "body": "Hallo [USER_NAME] ([LOGIN]): [REASON]"})
	require.Equal(t, http.StatusOK, status, "%v", body)
	id, mainEmail, otherEmail := b.customerWithTwoUsers("de")

	status, body = b.do("DELETE", "/api/v1/customers/"+id, "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, "deleted", body["status"])
	_, err := b.store.Pool().Exec(t.Context(), `UPDATE users SET email = 'gone-' || email WHERE customer_id = $1`, id)
	require.NoError(t, err)

	msgs := box.deliver(id)
	require.Equal(t, []string{mainEmail}, recipients(msgs), "the main user only, at the address known when deleted; not %s", otherEmail)
	require.Equal(t, "Konto Acme Example gelöscht", msgs[0].Subject, "the main user's language")
	login := strings.TrimSuffix(mainEmail, "@example.com")
	require.Equal(t, "Hallo Ann ("+login+"): your provider deleted it", strings.TrimSpace(text(t, msgs[0])))

	status, _ = b.do("DELETE", "/api/v1/customers/"+id, "")
	require.Equal(t, http.StatusOK, status)
	require.Len(t, box.deliver(id), 1, "a repeated DELETE sends nothing again")

	status, body = b.do("GET", "/api/v1/notifications?event=account_deleted&customer_id="+id, "")
	require.Equal(t, http.StatusOK, status)
	items := body["items"].([]any)
	require.Len(t, items, 1)
	require.Equal(t, "de", items[0].(map[string]any)["language"])
	require.Equal(t, "sent", items[0].(map[string]any)["status"])
}

// TestPayerVerificationByEmail: with payer verification on for an account
// type, a payer of that type starts pending and the main user (only) gets a
// one-time link that expires; posting its token verifies the payer once. A
// payer of another type is not verified by email.
func TestPayerVerificationByEmail(t *testing.T) {
	t.Parallel()
	b := setupOn(t, dbtest.OwnPool(t), func(o *api.Options) { o.PublicURL = "https://panel.example.com/" }) // its own settings
	box := newMailbox(t, b.store)
	status, body := b.doJSON("PATCH", "/api/v1/settings", map[string]any{"payer_verification": map[string]any{"company": true}})
	require.Equal(t, http.StatusOK, status, "%v", body)
	id, mainEmail, _ := b.customerWithTwoUsers("en")

	status, body = b.doJSON("POST", "/api/v1/customers/"+id+"/payers", map[string]any{"type": "individual", "legal_name": "Ann Person", "country": "DE"})
	require.Equal(t, http.StatusCreated, status, "%v", body)
	require.Equal(t, "none", body["verification"], "individuals are not verified by email here")
	require.Empty(t, box.deliver(id))

	status, body = b.doJSON("POST", "/api/v1/customers/"+id+"/payers", map[string]any{"type": "company", "legal_name": "Acme GmbH",
		"country": "DE", "tax_id": "DE123"})
	require.Equal(t, http.StatusCreated, status, "%v", body)
	require.Equal(t, "pending", body["verification"])
	payer := jsonID(body)
	msgs := box.deliver(id)
	require.Equal(t, []string{mainEmail}, recipients(msgs), "the main user only")
	require.Equal(t, "Please confirm the payer Acme GmbH", msgs[0].Subject)
	mailText := text(t, msgs[0])
	require.Contains(t, mailText, "Hello Ann,")
	token := regexp.MustCompile(`https://panel.example.com/payer-verification\?token=(pv_[A-Z0-9]+)`).FindStringSubmatch(mailText)
	require.NotNil(t, token, "the link: %s", mailText)
	expires := regexp.MustCompile(`until (\d{4}-\d\d-\d\d \d\d:\d\d) UTC`).FindStringSubmatch(mailText)
	require.NotNil(t, expires, mailText)
	at, err := time.Parse("2006-01-02 15:04", expires[1])
	require.NoError(t, err)
	require.WithinDuration(t, time.Now().Add(72*time.Hour), at, 2*time.Minute, "the link works 72 hours")

	status, body = b.doAs("", "POST", "/api/v1/payer-verifications", `{"token": "pv_UNKNOWN"}`)
	require.Equal(t, http.StatusNotFound, status, "%v", body)
	status, body = b.doAs("", "POST", "/api/v1/payer-verifications", `{"token": "`+token[1]+`"}`)
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, "verified", body["verification"])
	status, body = b.do("GET", "/api/v1/customers/"+id+"/payers/"+payer, "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "verified", body["verification"])
	require.NotNil(t, body["verified_at"])
	status, _ = b.doAs("", "POST", "/api/v1/payer-verifications", `{"token": "`+token[1]+`"}`)
	require.Equal(t, http.StatusConflict, status, "a link works once")

	// An expired link verifies nothing.
	status, body = b.doJSON("POST", "/api/v1/customers/"+id+"/payers", map[string]any{"type": "company", "legal_name": "Late GmbH",
		"country": "DE", "tax_id": "DE456"})
	require.Equal(t, http.StatusCreated, status, "%v", body)
	var cust, late int64
	_, _ = fmt.Sscan(id, &cust)
	_, _ = fmt.Sscan(jsonID(body), &late)
	sum := sha256.Sum256([]byte("pv_EXPIRED"))
	_, err = b.store.StartPayerVerification(t.Context(), cust, late, sum[:], time.Now().Add(-time.Second))
	require.NoError(t, err)
	status, body = b.doAs("", "POST", "/api/v1/payer-verifications", `{"token": "pv_EXPIRED"}`)
	require.Equal(t, http.StatusConflict, status, "%v", body)
	require.Contains(t, body["error"].(map[string]any)["message"], "expired")
	p, err := b.store.Payer(t.Context(), cust, late)
	require.NoError(t, err)
	require.Equal(t, billing.PayerPending, p.Verification)
}

// TestPayerVerifiedByStaff: staff verify a payer, or ask for more
// information: every user of the customer gets client_verification_info
// with the comment, once per request; each decision is audited; a body
// that is not exactly one decision is refused.
func TestPayerVerifiedByStaff(t *testing.T) {
	t.Parallel()
	b := setup(t)
	box := newMailbox(t, b.store)
	id, mainEmail, otherEmail := b.customerWithTwoUsers("en")
	status, body := b.doJSON("POST", "/api/v1/customers/"+id+"/payers", map[string]any{"type": "company", "legal_name": "Acme GmbH",
		"country": "DE", "tax_id": "DE123"})
	require.Equal(t, http.StatusCreated, status, "%v", body)
	path := "/api/v1/customers/" + id + "/payers/" + jsonID(body) + "/verify"

	for _, bad := range []string{`{}`, `{"verified": true, "request_info": true}`, `{"request_info": true}`, `{"verified": false}`} {
		status, body = b.do("POST", path, bad)
		require.Equal(t, http.StatusUnprocessableEntity, status, "%s: %v", bad, body)
	}
	status, body = b.doJSON("POST", path, map[string]any{"request_info": true, "comment": "An extract of the trade register"})
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, "info_requested", body["verification"])
	require.Equal(t, "An extract of the trade register", body["verification_comment"])
	msgs := box.deliver(id)
	require.ElementsMatch(t, []string{mainEmail, otherEmail}, recipients(msgs), "all users of the customer")
	for _, m := range msgs {
		require.Equal(t, "More information needed to verify Acme GmbH", m.Subject)
		require.Contains(t, text(t, m), "An extract of the trade register")
		require.Contains(t, text(t, m), "of Acme Example")
	}
	require.Contains(t, text(t, msgs[0])+text(t, msgs[1]), "Hello Bob,")

	status, _ = b.doJSON("POST", path, map[string]any{"request_info": true, "comment": "And a passport copy"})
	require.Equal(t, http.StatusOK, status)
	msgs = box.deliver(id)
	require.Len(t, msgs, 4, "a second request is a second notice")
	require.Contains(t, text(t, msgs[3]), "And a passport copy")

	status, body = b.doJSON("POST", path, map[string]any{"verified": true})
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Equal(t, "verified", body["verification"])
	require.NotNil(t, body["verified_at"])
	require.Len(t, box.deliver(id), 4, "verifying sends nothing")

	status, body = b.do("GET", "/api/v1/audit?action=verifyPayer&customer_id="+id, "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.Len(t, body["items"], 3, "each decision is audited")
	require.Equal(t, "payer", body["items"].([]any)[0].(map[string]any)["object_type"])
}
