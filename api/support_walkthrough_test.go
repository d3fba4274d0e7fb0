package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/api"
	"github.com/tempobill/billing/internal/smtptest"
)

// deliverStaff sends staff member id's queued notices, as the redelivery
// schedule would within a minute, and returns the messages sent to email.
func (m *mailbox) deliverStaff(id int64, email string) []smtptest.Message {
	m.t.Helper()
	ctx, cancel := context.WithTimeout(m.t.Context(), time.Minute)
	defer cancel()
	_, err := m.acts.RedeliverNotices(ctx, activities.RedeliverInput{StaffID: id})
	require.NoError(m.t, err)
	var out []smtptest.Message
	for _, msg := range m.smtp.Messages() {
		if msg.To == email {
			out = append(out, msg)
		}
	}
	return out
}

// TestSupportCenterWalkThrough is the README's walk-through of seed 003's
// support center, request by request, with every answer checked: two
// departments, John in technical support and Gary in technical support and
// sales, a pre-defined reply for technical support, a client's tickets in
// both, John seeing only the technical one, John answering with the reply
// filled for the ticket, the client told by mail (threaded, Reply-To the
// department), the client answering and both members told.
func TestSupportCenterWalkThrough(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *api.Options) {
		o.MailFrom, o.PublicURL = "billing@provider.example", "https://panel.provider.example/"
	})
	box := newMailbox(t, b.store)
	u := uniq()

	// Ann, a client with a password (the README's first walk-through).
	ann := "ann" + u
	status, body := b.doJSON("POST", "/api/v1/customers", map[string]any{"account_type": "individual", "name": "Ann Example",
		"country": "DE", "user": map[string]any{"login": ann, "email": ann + "@example.com", "password": "ann-secret-123",
			"first_name": "Ann", "last_name": "Example"}})
	require.Equal(t, http.StatusCreated, status, "%v", body)
	customerID := jsonID(body["customer"])

	// Two departments.
	status, body = b.do("POST", "/api/v1/departments", `{"name": "Technical support `+u+`", "email": "support@provider.example"}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	tech := jsonID(body)
	require.Equal(t, true, body["show_in_support"], "shown in the support center by default")
	status, body = b.do("POST", "/api/v1/departments", `{"name": "Sales `+u+`", "email": "sales@provider.example"}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	sales := jsonID(body)

	// John in technical support; Gary (support.manage) in both.
	john, gary := "john"+u, "gary"+u
	status, body = b.do("POST", "/api/v1/staff", fmt.Sprintf(`{"login": %q, "email": "%s@provider.example", "name": "John Smith",
		"password": "john-secret-123", "department_ids": [%s]}`, john, john, tech))
	require.Equal(t, http.StatusCreated, status, "%v", body)
	johnID := int64(body["id"].(float64))
	require.Equal(t, []any{float64(mustInt(t, tech))}, body["department_ids"])
	status, body = b.do("POST", "/api/v1/staff", fmt.Sprintf(`{"login": %q, "email": "%s@provider.example", "name": "Gary Stark",
		"password": "gary-secret-123", "permissions": ["support.manage"], "department_ids": [%s, %s]}`, gary, gary, tech, sales))
	require.Equal(t, http.StatusCreated, status, "%v", body)
	garyID := int64(body["id"].(float64))
	johnToken := b.signIn("/api/v1/auth/staff/login", john, "john-secret-123")
	garyToken := b.signIn("/api/v1/auth/staff/login", gary, "gary-secret-123")

	// Gary writes a pre-defined reply for technical support.
	status, body = b.doAs(garyToken, "POST", "/api/v1/predefined-replies", `{"name": "Restart", "department_id": `+tech+`,
		"body": "Dear [USER_NAME], please restart your server from the panel; if \"[TICKET_SUBJECT]\" persists, answer this ticket. [STAFF_NAME], [DEPARTMENT]"}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	require.Equal(t, "department", body["scope"])

	// Ann opens a ticket in each department.
	annToken := b.signIn("/api/v1/auth/login", ann, "ann-secret-123")
	status, body = b.doAs(annToken, "GET", "/api/v1/departments", "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	require.NotContains(t, mustJSON(body), "support@provider.example", "a client sees no department's address")
	status, body = b.doAs(annToken, "POST", "/api/v1/tickets", `{"department_id": `+tech+`, "subject": "Server down", "body": "My VPS does not answer since 9:00."}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	tech1 := jsonID(body)
	require.Equal(t, "open", body["status"])
	status, body = b.doAs(annToken, "POST", "/api/v1/tickets", `{"department_id": `+sales+`, "subject": "Price question", "body": "Is there a yearly price?"}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	sales1 := jsonID(body)

	// John sees the technical ticket only; Gary sees both.
	require.Equal(t, []string{tech1}, b.ticketIDs(johnToken, ""))
	require.ElementsMatch(t, []string{tech1, sales1}, b.ticketIDs(garyToken, ""))
	status, _ = b.doAs(johnToken, "GET", "/api/v1/tickets/"+sales1, "")
	require.Equal(t, http.StatusNotFound, status, "John can't see a sales ticket")

	// Both members were told of the new technical ticket; only Gary of the sales one.
	johnMail := box.deliverStaff(johnID, john+"@provider.example")
	garyMail := box.deliverStaff(garyID, gary+"@provider.example")
	require.Len(t, johnMail, 1, "John: the technical ticket")
	require.Contains(t, johnMail[0].Subject, "Server down")
	require.Len(t, garyMail, 2, "Gary: both tickets")

	// John answers with the reply, filled for the ticket.
	status, body = b.doAs(johnToken, "GET", "/api/v1/tickets/"+tech1+"/predefined-replies", "")
	require.Equal(t, http.StatusOK, status, "%v", body)
	var filled string
	for _, it := range body["items"].([]any) {
		if r := it.(map[string]any); r["name"] == "Restart" {
			filled = r["body"].(string)
		}
	}
	want := `Dear Ann, please restart your server from the panel; if "Server down" persists, answer this ticket. John Smith, Technical support ` + u
	require.Equal(t, want, filled)
	status, body = b.doAs(johnToken, "POST", "/api/v1/tickets/"+tech1+"/messages", mustJSON(map[string]any{"body": filled}))
	require.Equal(t, http.StatusCreated, status, "%v", body)
	require.Equal(t, "answered", body["ticket"].(map[string]any)["status"])

	// Ann is told by mail, threaded, with the department's address to answer to.
	toAnn := func() []smtptest.Message {
		var out []smtptest.Message
		for _, m := range box.deliver(customerID) {
			if m.To == ann+"@example.com" {
				out = append(out, m)
			}
		}
		return out
	}
	msgs := toAnn()
	require.Len(t, msgs, 1, "one ticket_reply: %v", recipients(msgs))
	m := msgs[0]
	require.Equal(t, ann+"@example.com", m.To)
	require.Equal(t, "[Ticket #"+tech1+"] Server down", m.Subject)
	require.Equal(t, "support@provider.example", strings.Trim(m.Header.Get("Reply-To"), "<>"))
	require.True(t, strings.HasPrefix(m.Header.Get("In-Reply-To"), "<ticket-"+tech1+"."), m.Header.Get("In-Reply-To"))
	require.True(t, strings.HasSuffix(m.MessageID, "@provider.example>"), m.MessageID)
	require.Contains(t, text(t, m), want)
	require.Contains(t, text(t, m), "Ticket reference: #"+tech1+"-")
	require.Contains(t, text(t, m), "at https://panel.provider.example/tickets/"+tech1+",", "[TICKET_URL] from PUBLIC_URL")

	// Ann answers: the ticket is open again and both members are told
	// (nobody is assigned); John is never told of his own answer.
	status, body = b.doAs(annToken, "POST", "/api/v1/tickets/"+tech1+"/messages", `{"body": "Restarted, it works. Thank you!"}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	require.Equal(t, "open", body["ticket"].(map[string]any)["status"])
	johnMail = box.deliverStaff(johnID, john+"@provider.example")
	require.Len(t, johnMail, 2, "John: the new ticket, Ann's answer")
	require.Contains(t, text(t, johnMail[1]), "Restarted, it works.")
	garyMail = box.deliverStaff(garyID, gary+"@provider.example")
	require.Len(t, garyMail, 4, "Gary: both tickets, John's answer, Ann's answer")
	require.Len(t, toAnn(), 1, "Ann is not told of her own post")
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	_, err := fmt.Sscan(s, &n)
	require.NoError(t, err)
	return n
}
