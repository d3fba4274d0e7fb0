package api_test

import (
	"fmt"
	"net/http"
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
