package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
)

// TestNotificationLogKeepsTicketsToTheirDepartments: the notification log
// (GET /notifications) is no way around the department rule. John, in
// technical support with subscriptions.read, never lists the notices about
// a sales ticket or a sales task (their subjects carry the ticket's subject
// and the task's title), not the client's and not a sales member's, not even
// naming that member (staff_id); an admin lists them all.
func TestNotificationLogKeepsTicketsToTheirDepartments(t *testing.T) {
	t.Parallel()
	b := setup(t)
	technical := b.department("Technical support", nil)
	sales := b.department("Sales", nil)
	_, john := b.supportStaff("John", []string{billing.PermSubsRead}, technical)
	gary, garyToken := b.supportStaff("Gary", nil, technical, sales)
	sam, _ := b.supportStaff("Sam", nil, sales)
	cust, _ := b.newCustomer()
	client := b.clientOf(cust)
	marker := "SALESSECRET" + uniq()
	salesTicket := b.openTicket(client, map[string]any{"department_id": sales, "subject": "Discount " + marker, "body": "For 3 years?"})
	status, out := b.doAs(garyToken, "POST", "/api/v1/tickets/"+salesTicket+"/messages", `{"body": "Gary here."}`)
	require.Equal(t, http.StatusCreated, status, "%v", out)
	status, out = b.doAs(garyToken, "POST", "/api/v1/tasks", fmt.Sprintf(`{"department_id": %d, "title": "Call back %s"}`, sales, marker))
	require.Equal(t, http.StatusCreated, status, "%v", out)
	techTicket := b.openTicket(client, map[string]any{"department_id": technical, "subject": "Server down", "body": "It is down."})

	for _, query := range []string{"", "&customer_id=" + cust, fmt.Sprint("&staff_id=", gary.ID), fmt.Sprint("&staff_id=", sam.ID),
		"&event=ticket_reply", "&event=ticket_assigned", "&event=task_created"} {
		status, raw := b.raw(john, "GET", "/api/v1/notifications?limit=200"+query, "")
		require.Equal(t, http.StatusOK, status, raw)
		require.NotContains(t, raw, marker, "John lists a notice about sales (query %q)", query)
		require.NotContains(t, raw, `"object_id":"`+salesTicket+`","object_type":"ticket"`, "John lists a notice about the sales ticket (query %q)", query)
	}
	status, raw := b.raw(john, "GET", fmt.Sprint("/api/v1/notifications?limit=200&staff_id=", gary.ID), "")
	require.Equal(t, http.StatusOK, status, raw)
	require.Contains(t, raw, `"object_id":"`+techTicket+`","object_type":"ticket"`, "John still lists the notices about technical tickets")

	status, raw = b.raw(b.token, "GET", "/api/v1/notifications?limit=200&customer_id="+cust, "")
	require.Equal(t, http.StatusOK, status, raw)
	require.Contains(t, raw, marker, "an admin lists the client's notice about the sales ticket")
	status, raw = b.raw(b.token, "GET", fmt.Sprint("/api/v1/notifications?limit=200&staff_id=", sam.ID), "")
	require.Equal(t, http.StatusOK, status, raw)
	require.Contains(t, raw, "Call back "+marker, "an admin lists Sam's notice of the sales task")
}

// TestInternalNoteLeavesTheTicketAsTheClientSeesIt: a client learns nothing
// of an internal note, not from the ticket's updated_at either.
func TestInternalNoteLeavesTheTicketAsTheClientSeesIt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	dept := b.department("Technical support", nil)
	_, john := b.supportStaff("John", nil, dept)
	cust, _ := b.newCustomer()
	client := b.clientOf(cust)
	id := b.openTicket(client, map[string]any{"department_id": dept, "subject": "Server down", "body": "It is down."})
	status, before := b.doAs(client, "GET", "/api/v1/tickets/"+id, "")
	require.Equal(t, http.StatusOK, status, "%v", before)
	status, out := b.doAs(john, "POST", "/api/v1/tickets/"+id+"/messages", `{"body": "The customer is rude", "internal": true}`)
	require.Equal(t, http.StatusCreated, status, "%v", out)
	status, after := b.doAs(client, "GET", "/api/v1/tickets/"+id, "")
	require.Equal(t, http.StatusOK, status, "%v", after)
	require.Equal(t, before, after, "the client's view of the ticket changed with an internal note")
	status, raw := b.raw(client, "GET", "/api/v1/tickets?limit=200", "")
	require.Equal(t, http.StatusOK, status, raw)
	require.Contains(t, raw, fmt.Sprintf(`"updated_at":%q`, before["updated_at"]), "the client's list shows the note's time")
}

// TestRemovedMemberIsToldNothingMore: a staff member taken out of a
// department is no longer told of its tickets by mail (which carry the
// client's message), even of a ticket still assigned to them; the
// department's members are told instead.
func TestRemovedMemberIsToldNothingMore(t *testing.T) {
	t.Parallel()
	b := setup(t)
	technical := b.department("Technical support", nil)
	sales := b.department("Sales", nil)
	john, _ := b.supportStaff("John", nil, technical, sales)
	gary, _ := b.supportStaff("Gary", nil, technical)
	cust, _ := b.newCustomer()
	client := b.clientOf(cust)
	id := b.openTicket(client, map[string]any{"department_id": technical, "subject": "Server down", "body": "It is down."})
	status, out := b.do("PATCH", "/api/v1/tickets/"+id, fmt.Sprintf(`{"assignee_id": %d}`, john.ID))
	require.Equal(t, http.StatusOK, status, "%v", out)
	status, out = b.do("PATCH", fmt.Sprint("/api/v1/staff/", john.ID), fmt.Sprintf(`{"department_ids": [%d]}`, sales))
	require.Equal(t, http.StatusOK, status, "%v", out)

	secret := "SECRET" + uniq()
	status, out = b.doAs(client, "POST", "/api/v1/tickets/"+id+"/messages", `{"body": "My password is `+secret+`"}`)
	require.Equal(t, http.StatusCreated, status, "%v", out)
	status, raw := b.raw(b.token, "GET", fmt.Sprint("/api/v1/notifications?limit=200&event=ticket_client_post&staff_id=", john.ID), "")
	require.Equal(t, http.StatusOK, status, raw)
	require.NotContains(t, raw, `"object_id":"`+id+`","object_type":"ticket"`, "John, no longer in technical support, is told of its ticket's post")
	status, raw = b.raw(b.token, "GET", fmt.Sprint("/api/v1/notifications?limit=200&event=ticket_client_post&staff_id=", gary.ID), "")
	require.Equal(t, http.StatusOK, status, raw)
	require.True(t, strings.Contains(raw, `"object_id":"`+id+`","object_type":"ticket"`), "Gary, of the department, is told instead: %s", raw)
}

// TestResendKeepsTicketsToTheirDepartments: a notice about another
// department's ticket is not found for staff who may resend notices
// (notices.write): the answer would show the ticket's subject, and the
// resend mail its message. An admin resends it.
func TestResendKeepsTicketsToTheirDepartments(t *testing.T) {
	t.Parallel()
	b := setup(t)
	technical := b.department("Technical support", nil)
	sales := b.department("Sales", nil)
	_, john := b.supportStaff("John", []string{billing.PermNoticesWrite, billing.PermSubsRead}, technical)
	_, gary := b.supportStaff("Gary", nil, sales)
	cust, _ := b.newCustomer()
	client := b.clientOf(cust)
	ticket := b.openTicket(client, map[string]any{"department_id": sales, "subject": "Discount", "body": "For 3 years?"})
	status, out := b.doAs(gary, "POST", "/api/v1/tickets/"+ticket+"/messages", `{"body": "Gary here."}`)
	require.Equal(t, http.StatusCreated, status, "%v", out)
	var id int64
	require.NoError(t, b.store.Pool().QueryRow(t.Context(), `UPDATE notices SET status = 'failed'
		WHERE event = 'ticket_reply' AND object_type = 'ticket' AND object_id = $1 RETURNING id`, ticket).Scan(&id))

	status, out = b.doAs(john, "POST", fmt.Sprint("/api/v1/notifications/", id, "/resend"), "")
	require.Equal(t, http.StatusNotFound, status, "John resends a notice about a sales ticket: %v", out)
	status, out = b.do("POST", fmt.Sprint("/api/v1/notifications/", id, "/resend"), "")
	require.Equal(t, http.StatusAccepted, status, "%v", out)
}
