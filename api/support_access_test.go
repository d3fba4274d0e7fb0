package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

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
