package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store"
)

// department creates a department through the API as the admin.
func (b *bundle) department(name string, fields map[string]any) int64 {
	b.t.Helper()
	body := map[string]any{"name": name + " " + uniq()}
	for k, v := range fields {
		body[k] = v
	}
	status, out := b.doJSON("POST", "/api/v1/departments", body)
	require.Equal(b.t, http.StatusCreated, status, "%v", out)
	return int64(out["id"].(float64))
}

// supportStaff creates a staff member in departments and returns them with
// a session.
func (b *bundle) supportStaff(name string, perms []string, departments ...int64) (billing.Staff, string) {
	b.t.Helper()
	login := strings.ToLower(name) + uniq()
	st, err := b.store.CreateStaff(b.t.Context(), billing.StaffCreate{Login: login, Email: login + "@staff.example", Name: name,
		Role: billing.RoleStaff, Permissions: append([]string{}, perms...), DepartmentIDs: departments}, "no-password")
	require.NoError(b.t, err)
	return st, b.session(store.Session{Kind: billing.ActorStaff, StaffID: st.ID})
}

// openTicket opens a ticket as token and returns its ID.
func (b *bundle) openTicket(token string, body map[string]any) string {
	b.t.Helper()
	status, out := b.doAs(token, "POST", "/api/v1/tickets", mustJSON(body))
	require.Equal(b.t, http.StatusCreated, status, "%v", out)
	return jsonID(out)
}

// ticketIDs lists the tickets token sees at path (GET /tickets with a query).
func (b *bundle) ticketIDs(token, query string) []string {
	b.t.Helper()
	status, out := b.doAs(token, "GET", "/api/v1/tickets?limit=200"+query, "")
	require.Equal(b.t, http.StatusOK, status, "%v", out)
	ids := []string{}
	for _, it := range out["items"].([]any) {
		ids = append(ids, jsonID(it))
	}
	return ids
}

// TestSeed003SupportCenter is seed 003's example: John is in technical
// support, Gary in technical support and sales. John handles only the
// technical tickets: a sales ticket is not found for him and never listed;
// Gary sees and answers both.
func TestSeed003SupportCenter(t *testing.T) {
	t.Parallel()
	b := setup(t)
	technical := b.department("Technical support", nil)
	sales := b.department("Sales", nil)
	_, john := b.supportStaff("John", nil, technical)
	_, gary := b.supportStaff("Gary", nil, technical, sales)
	cust, _ := b.newCustomer()
	client := b.clientOf(cust)
	techTicket := b.openTicket(client, map[string]any{"department_id": technical, "subject": "Server down", "body": "It is down."})
	salesTicket := b.openTicket(client, map[string]any{"department_id": sales, "subject": "Discount?", "body": "For 3 years?"})

	johnSees := b.ticketIDs(john, "&customer_id="+cust)
	require.Equal(t, []string{techTicket}, johnSees, "John lists only the technical ticket")
	for _, call := range [][2]string{{"GET", ""}, {"PATCH", `{"status": "closed"}`}} {
		status, _ := b.doAs(john, call[0], "/api/v1/tickets/"+salesTicket, call[1])
		require.Equal(t, http.StatusNotFound, status, "%s of the sales ticket as John", call[0])
	}
	status, _ := b.doAs(john, "POST", "/api/v1/tickets/"+salesTicket+"/messages", `{"body": "Hi"}`)
	require.Equal(t, http.StatusNotFound, status, "John can't answer a sales ticket")
	status, out := b.doAs(john, "POST", "/api/v1/tickets/"+techTicket+"/messages", `{"body": "Rebooted it."}`)
	require.Equal(t, http.StatusCreated, status, "%v", out)

	require.ElementsMatch(t, []string{techTicket, salesTicket}, b.ticketIDs(gary, "&customer_id="+cust))
	require.Equal(t, []string{salesTicket}, b.ticketIDs(gary, fmt.Sprintf("&customer_id=%s&department_id=%d", cust, sales)))
	for _, id := range []string{techTicket, salesTicket} {
		status, out := b.doAs(gary, "POST", "/api/v1/tickets/"+id+"/messages", `{"body": "Gary here."}`)
		require.Equal(t, http.StatusCreated, status, "%v", out)
		require.Equal(t, billing.TicketAnswered, out["ticket"].(map[string]any)["status"])
		require.Equal(t, "Gary", out["message"].(map[string]any)["author_name"])
	}
	status, out = b.doAs(gary, "GET", "/api/v1/tickets/"+salesTicket, "")
	require.Equal(t, http.StatusOK, status)
	require.Len(t, out["messages"], 2)
}

// TestTicketRoutesForStaffOfAnotherDepartment: a staff member with every
// permission who is not a member of a ticket's department gets 404 on every
// ticket route, never sees it in a list, and can't open a ticket there.
func TestTicketRoutesForStaffOfAnotherDepartment(t *testing.T) {
	t.Parallel()
	b := setup(t)
	dept := b.department("Billing", nil)
	other := b.department("Other", nil)
	_, outsider := b.supportStaff("Olga", billing.Permissions, other)
	cust, _ := b.newCustomer()
	id := b.openTicket(b.clientOf(cust), map[string]any{"department_id": dept, "subject": "Invoice", "body": "Wrong VAT"})
	for _, call := range [][3]string{
		{"GET", "/api/v1/tickets/" + id, ""},
		{"PATCH", "/api/v1/tickets/" + id, `{"status": "closed"}`},
		{"PATCH", "/api/v1/tickets/" + id, fmt.Sprintf(`{"department_id": %d}`, other)},
		{"POST", "/api/v1/tickets/" + id + "/messages", `{"body": "Hello"}`},
		{"POST", "/api/v1/tickets/" + id + "/messages", `{"body": "Note", "internal": true}`},
	} {
		status, out := b.doAs(outsider, call[0], call[1], call[2])
		require.Equal(t, http.StatusNotFound, status, "%s %s %s: %v", call[0], call[1], call[2], out)
	}
	require.Empty(t, b.ticketIDs(outsider, "&customer_id="+cust))
	require.Empty(t, b.ticketIDs(outsider, fmt.Sprintf("&department_id=%d", dept)))
	status, out := b.doAs(outsider, "POST", "/api/v1/tickets", fmt.Sprintf(`{"customer_id": %s, "department_id": %d, "subject": "S", "body": "B"}`,
		cust, dept))
	require.Equal(t, http.StatusForbidden, status, "%v", out)
	require.Equal(t, []string{id}, b.ticketIDs(b.token, "&customer_id="+cust), "an admin sees every department's")
}

// TestTicketConversation: what a client and staff see and do. The client
// sees only the departments of the support center (not their mailbox or
// staff) and can't open a ticket in a hidden one; staff notes are never
// shown to the client; a client's post reopens a closed ticket; a client
// may only close or reopen; the assignee must be an active member of the
// department, and a move drops one who isn't a member there.
func TestTicketConversation(t *testing.T) {
	t.Parallel()
	b := setup(t)
	shown := b.department("Support", map[string]any{"email": "support@provider.example"})
	hidden := b.department("Internal", map[string]any{"show_in_support": false})
	moveTo := b.department("Escalation", nil)
	agent, agentToken := b.supportStaff("Agent", nil, shown)
	_, outsider := b.supportStaff("Outsider", nil, moveTo)
	cust, _ := b.newCustomer()
	client := b.clientOf(cust)

	status, out := b.doAs(client, "GET", "/api/v1/departments", "")
	require.Equal(t, http.StatusOK, status)
	raw := mustJSON(out)
	require.Contains(t, raw, fmt.Sprintf(`"id":%d`, shown))
	require.NotContains(t, raw, fmt.Sprintf(`"id":%d,`, hidden))
	require.NotContains(t, raw, "support@provider.example")
	require.NotContains(t, raw, "staff_ids")
	status, out = b.doAs(client, "POST", "/api/v1/tickets", mustJSON(map[string]any{"department_id": hidden, "subject": "S", "body": "B"}))
	require.Equal(t, http.StatusUnprocessableEntity, status, "%v", out)
	_, _, fields := errorOf(t, out)
	require.Contains(t, fields, "department_id")

	id := b.openTicket(client, map[string]any{"department_id": shown, "subject": "Mail bounces", "body": "Since today.",
		"attachments": []map[string]any{{"name": "log.txt", "content_type": "text/plain", "content": "aGVsbG8="}}})
	status, out = b.doAs(agentToken, "POST", "/api/v1/tickets/"+id+"/messages", `{"body": "SECRET-NOTE: client is on the old plan", "internal": true}`)
	require.Equal(t, http.StatusCreated, status, "%v", out)
	require.Equal(t, billing.MessageNote, out["message"].(map[string]any)["kind"])
	require.Equal(t, billing.TicketOpen, out["ticket"].(map[string]any)["status"], "a note changes no status")
	status, out = b.doAs(agentToken, "POST", "/api/v1/tickets/"+id+"/messages", `{"body": "Fixed.", "status": "closed"}`)
	require.Equal(t, http.StatusCreated, status, "%v", out)
	require.Equal(t, billing.TicketClosed, out["ticket"].(map[string]any)["status"])

	status, out = b.doAs(client, "GET", "/api/v1/tickets/"+id, "")
	require.Equal(t, http.StatusOK, status)
	require.NotContains(t, mustJSON(out), "SECRET-NOTE", "a client never sees a note")
	require.Len(t, out["messages"], 2)
	status, out = b.doAs(agentToken, "GET", "/api/v1/tickets/"+id, "")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, mustJSON(out), "SECRET-NOTE")

	status, out = b.doAs(client, "POST", "/api/v1/tickets/"+id+"/messages", `{"body": "Still bouncing", "internal": true}`)
	require.Equal(t, http.StatusForbidden, status, "%v", out)
	status, out = b.doAs(client, "POST", "/api/v1/tickets/"+id+"/messages", `{"body": "Still bouncing"}`)
	require.Equal(t, http.StatusCreated, status, "%v", out)
	require.Equal(t, billing.TicketOpen, out["ticket"].(map[string]any)["status"], "a client's post reopens")
	status, out = b.doAs(client, "PATCH", "/api/v1/tickets/"+id, `{"status": "answered"}`)
	require.Equal(t, http.StatusUnprocessableEntity, status, "%v", out)
	status, out = b.doAs(client, "PATCH", "/api/v1/tickets/"+id, fmt.Sprintf(`{"assignee_id": %d}`, agent.ID))
	require.Equal(t, http.StatusForbidden, status, "%v", out)
	status, out = b.doAs(client, "PATCH", "/api/v1/tickets/"+id, `{"status": "closed"}`)
	require.Equal(t, http.StatusOK, status, "%v", out)
	require.Equal(t, billing.TicketClosed, out["status"])

	// Assignment and moves.
	status, out = b.doAs(agentToken, "PATCH", "/api/v1/tickets/"+id, `{"assignee_id": 999999999}`)
	require.Equal(t, http.StatusUnprocessableEntity, status, "%v", out)
	require.Contains(t, b.ticketIDs(agentToken, "&unassigned=true&customer_id="+cust), id)
	status, out = b.doAs(agentToken, "PATCH", "/api/v1/tickets/"+id, fmt.Sprintf(`{"assignee_id": %d}`, agent.ID))
	require.Equal(t, http.StatusOK, status, "%v", out)
	require.Equal(t, float64(agent.ID), out["assignee_id"])
	require.Equal(t, []string{id}, b.ticketIDs(agentToken, fmt.Sprintf("&assignee_id=%d", agent.ID)))
	require.Empty(t, b.ticketIDs(agentToken, "&unassigned=true&customer_id="+cust))
	status, out = b.doAs(agentToken, "PATCH", "/api/v1/tickets/"+id, fmt.Sprintf(`{"department_id": %d}`, moveTo))
	require.Equal(t, http.StatusForbidden, status, "a move only to a department of one's own: %v", out)
	status, out = b.do("PATCH", "/api/v1/tickets/"+id, fmt.Sprintf(`{"department_id": %d}`, moveTo))
	require.Equal(t, http.StatusOK, status, "%v", out)
	require.Nil(t, out["assignee_id"], "the assignee is not a member of the new department")
	status, _ = b.doAs(agentToken, "GET", "/api/v1/tickets/"+id, "")
	require.Equal(t, http.StatusNotFound, status, "moved out of the agent's department")
	status, _ = b.doAs(outsider, "GET", "/api/v1/tickets/"+id, "")
	require.Equal(t, http.StatusOK, status, "moved into the outsider's department")
	status, out = b.do("PATCH", "/api/v1/tickets/"+id, `{"assignee_id": null}`)
	require.Equal(t, http.StatusOK, status, "%v", out)
}

// TestStaffDepartments: department_ids on staff members, and "nobody grants
// what they don't hold": a non-admin manager adds members to, or removes
// them from, only their own departments.
func TestStaffDepartments(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tech := b.department("Tech", nil)
	sales := b.department("Sales", nil)
	_, manager := b.supportStaff("Manager", []string{billing.PermStaffManage}, tech)

	login := "n" + uniq()
	status, out := b.doAs(manager, "POST", "/api/v1/staff", mustJSON(map[string]any{"login": login, "email": login + "@staff.example",
		"department_ids": []int64{sales}}))
	require.Equal(t, http.StatusForbidden, status, "%v", out)
	_, _, fields := errorOf(t, out)
	require.Contains(t, fields, "department_ids")
	status, out = b.doAs(manager, "POST", "/api/v1/staff", mustJSON(map[string]any{"login": login, "email": login + "@staff.example",
		"department_ids": []int64{tech}}))
	require.Equal(t, http.StatusCreated, status, "%v", out)
	newID := jsonID(out)
	require.Equal(t, []any{float64(tech)}, out["department_ids"])

	status, out = b.doAs(manager, "PATCH", "/api/v1/staff/"+newID, mustJSON(map[string]any{"department_ids": []int64{tech, sales}}))
	require.Equal(t, http.StatusForbidden, status, "%v", out)
	status, out = b.do("PATCH", "/api/v1/staff/"+newID, mustJSON(map[string]any{"department_ids": []int64{tech, sales}}))
	require.Equal(t, http.StatusOK, status, "an admin adds anyone anywhere: %v", out)
	status, out = b.doAs(manager, "PATCH", "/api/v1/staff/"+newID, mustJSON(map[string]any{"department_ids": []int64{tech}}))
	require.Equal(t, http.StatusForbidden, status, "removing from sales, which the manager is not in: %v", out)
	status, out = b.doAs(manager, "PATCH", "/api/v1/staff/"+newID, mustJSON(map[string]any{"department_ids": []int64{sales}}))
	require.Equal(t, http.StatusOK, status, "removing from tech, the manager's own: %v", out)
	require.Equal(t, []any{float64(sales)}, out["department_ids"])
	status, out = b.do("GET", "/api/v1/staff/"+newID, "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, []any{float64(sales)}, out["department_ids"])
	status, out = b.do("PATCH", "/api/v1/staff/"+newID, `{"department_ids": [999999999]}`)
	require.Equal(t, http.StatusUnprocessableEntity, status, "%v", out)
}
