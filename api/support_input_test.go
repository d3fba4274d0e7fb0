package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
)

// TestSupportRoutesBadInput sends the support center's routes input a
// person gets wrong and checks that each answer is the one error shape, with
// the status and the field that say what to correct: never a 500, never a
// field that names no file, never Go's own words.
func TestSupportRoutesBadInput(t *testing.T) {
	t.Parallel()
	b := setup(t)
	team := b.supportTeam()
	cid, _ := b.newCustomer()
	tech := fmt.Sprint(team.technical.ID)
	john := fmt.Sprint(team.john.ID)
	ticket := func(extra string) string {
		return `{"customer_id": ` + cid + `, "department_id": ` + tech + `, "subject": "s", "body": "b"` + extra + `}`
	}
	settings := "/api/v1/staff/" + john + "/notification-settings"
	for _, tc := range []struct {
		method, path, body string
		status             int
		field, says        string
	}{
		{"POST", "/api/v1/tickets", ticket(`, "attachments": [{"name": "a.txt", "content_type": "text/plain"}]`),
			422, "attachments[0].content", "is required"},
		{"POST", "/api/v1/tickets", ticket(`, "attachments": [{"name": "a.txt", "content_type": "text/plain", "content": "aGk="}, {"name": "", "content_type": "text/plain", "content": "aGk="}]`),
			422, "attachments[1].name", "is required"},
		{"POST", "/api/v1/tickets", ticket(`, "attachments": [{"name": "a.txt", "content": "aGk="}]`),
			422, "attachments[0].content_type", "is required"},
		{"POST", "/api/v1/tickets", ticket(`, "attachments": [{"name": "a.txt", "content_type": "text/plain", "content": "not base64!"}]`),
			422, "attachments[0].content", "base64"},
		{"POST", "/api/v1/tickets", ticket(`, "attachments": {}`), 422, "attachments", "must be an array, not object"},
		{"POST", "/api/v1/tickets/1/messages", `{"body": "b", "attachments": [{"name": "a.txt", "content_type": "text/plain", "content": "@@@"}]}`,
			422, "attachments[0].content", "base64"},
		{"POST", "/api/v1/tickets", ticket(`, "attachments": [{"name": "a.txt", "content_type": "text/plain", "content": "aGk=\n"}]`),
			422, "attachments[0].content", "no line breaks"},
		{"POST", "/api/v1/tasks", `{"department_id": ` + tech + `, "title": "x", "due_at": "tomorrow"}`, 422, "due_at", "RFC 3339"},
		{"POST", "/api/v1/tasks", `{"department_id": ` + tech + `, "title": "x", "due_at": 5}`, 422, "due_at", "RFC 3339 form such as 2026-01-31T00:00:00Z, not a number"},
		{"PUT", settings, `{"events": {"ticket_client_post": null}}`, 422, "events.ticket_client_post", "must not be null"},
		{"PUT", settings, `{}`, 422, "events", "is required"},
		{"PATCH", "/api/v1/staff/" + john, `{"department_ids": [` + tech + `, ` + tech + `]}`, 422, "department_ids", "twice"},
		{"POST", "/api/v1/staff", `{"login": "s` + uniq() + `", "email": "x@staff.example", "department_ids": [` + tech + `, ` + tech + `]}`,
			422, "department_ids", "twice"},
		{"POST", "/api/v1/customers/" + cid + "/incidents", `{"count": -1}`, 422, "count", "no support incidents to take back"},
	} {
		res, raw := b.send(b.token, tc.method, tc.path, tc.body, map[string]string{"Content-Type": "application/json"})
		require.Equal(t, tc.status, res.StatusCode, "%s %s %s: %s", tc.method, tc.path, tc.body, raw)
		fields := errorShape(t, res, raw, billing.EINVALID)
		require.Contains(t, fields, tc.field, "%s %s %s: %s", tc.method, tc.path, tc.body, raw)
		require.Contains(t, fields[tc.field], tc.says, "%s %s %s: %s", tc.method, tc.path, tc.body, raw)
		require.NotContains(t, string(raw), "-0:", "a count of -0")
	}

	// Nothing of those was written: John's settings are all on, his
	// departments one, the customer has no ticket.
	status, out := b.do("GET", settings, "")
	require.Equal(t, http.StatusOK, status, "%v", out)
	for _, it := range out["items"].([]any) {
		require.Equal(t, true, it.(map[string]any)["enabled"], "%v", it)
	}
	st, err := b.store.StaffMember(t.Context(), team.john.ID)
	require.NoError(t, err)
	require.Equal(t, []int64{team.technical.ID}, st.DepartmentIDs)
	require.Empty(t, b.ticketIDs(b.token, "&customer_id="+cid))

	// A staff member refused for an unknown department is not created: the
	// same login is free for the request corrected.
	login := "s" + uniq()
	status, out = b.do("POST", "/api/v1/staff", `{"login": "`+login+`", "email": "`+login+`@staff.example", "department_ids": [999999999]}`)
	require.Equal(t, http.StatusUnprocessableEntity, status, "%v", out)
	_, _, fields := errorOf(t, out)
	require.Contains(t, fields["department_ids"], "department 999999999 does not exist")
	status, out = b.do("POST", "/api/v1/staff", `{"login": "`+login+`", "email": "`+login+`@staff.example", "department_ids": [`+tech+`]}`)
	require.Equal(t, http.StatusCreated, status, "%v", out)
}

// TestRefusedTicketLeavesNothing: a ticket refused for one of its files, in
// a department that requires incidents, leaves no ticket, no message and
// its incident unused; a post refused so leaves the ticket as it was.
func TestRefusedTicketLeavesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	dept := b.department("Paid", map[string]any{"show_in_support": true, "requires_incidents": true})
	cid, _ := b.newCustomer()
	client := b.clientOf(cid)
	status, out := b.do("POST", "/api/v1/customers/"+cid+"/incidents", `{"count": 1}`)
	require.Equal(t, http.StatusCreated, status, "%v", out)

	html := `{"name": "page.txt", "content_type": "text/plain", "content": "PGh0bWw+PGJvZHk+aGk8L2JvZHk+PC9odG1sPg=="}`
	big := `{"name": "big.txt", "content_type": "text/plain", "content": "` + strings.Repeat("QUFB", (5<<20)/3+1) + `"}`
	for _, tc := range []struct {
		files  string
		status int
	}{
		{html, http.StatusUnprocessableEntity},
		{big, http.StatusRequestEntityTooLarge},
		{`{"name": "a.txt", "content_type": "text/plain"}`, http.StatusUnprocessableEntity},
	} {
		body := `{"department_id": ` + fmt.Sprint(dept) + `, "subject": "s", "body": "b", "attachments": [{"name": "ok.txt", "content_type": "text/plain", "content": "aGk="}, ` + tc.files + `]}`
		status, out := b.doAs(client, "POST", "/api/v1/tickets", body)
		require.Equal(t, tc.status, status, "%v", out)
		require.Contains(t, out["error"].(map[string]any)["fields"], "attachments[1].content", "%v", out)
		require.Empty(t, b.ticketIDs(client, ""), "no ticket")
		require.Equal(t, 1.0, b.incidentsOf(cid)["balance"], "the incident unused")
	}

	id := b.openTicket(client, map[string]any{"department_id": dept, "subject": "s", "body": "b"})
	require.Equal(t, 0.0, b.incidentsOf(cid)["balance"])
	status, before := b.doAs(client, "GET", "/api/v1/tickets/"+id, "")
	require.Equal(t, http.StatusOK, status, "%v", before)
	status, out = b.doAs(client, "POST", "/api/v1/tickets/"+id+"/messages",
		`{"body": "more", "attachments": [{"name": "ok.txt", "content_type": "text/plain", "content": "aGk="}, `+html+`]}`)
	require.Equal(t, http.StatusUnprocessableEntity, status, "%v", out)
	status, after := b.doAs(client, "GET", "/api/v1/tickets/"+id, "")
	require.Equal(t, http.StatusOK, status, "%v", after)
	require.Equal(t, before, after, "the refused post changed nothing")
}

// TestTicketTakesAnIncident is the incident rule through the API: a
// client's ticket in a department that requires incidents takes one; with
// none left it is refused (409 on department_id, "a support incident is
// required" and how to get one) and leaves no ticket; staff opening one for
// the customer use none; a department that doesn't require them takes none.
func TestTicketTakesAnIncident(t *testing.T) {
	t.Parallel()
	b := setup(t)
	paid := b.department("Paid", map[string]any{"requires_incidents": true})
	free := b.department("Free", nil)
	_, staffToken := b.supportStaff("Agent", nil, paid)
	cid, _ := b.newCustomer()
	client := b.clientOf(cid)
	status, out := b.do("POST", "/api/v1/customers/"+cid+"/incidents", `{"count": 1}`)
	require.Equal(t, http.StatusCreated, status, "%v", out)

	b.openTicket(client, map[string]any{"department_id": paid, "subject": "first", "body": "b"})
	require.Equal(t, 0.0, b.incidentsOf(cid)["balance"], "the ticket took the incident")

	status, out = b.doAs(client, "POST", "/api/v1/tickets", mustJSON(map[string]any{"department_id": paid, "subject": "second", "body": "b"}))
	require.Equal(t, http.StatusConflict, status, "%v", out)
	code, msg, fields := errorOf(t, out)
	require.Equal(t, billing.ECONFLICT, code)
	require.True(t, strings.HasPrefix(msg, "a support incident is required"), msg)
	require.Contains(t, msg, "order a product that includes support incidents")
	require.Contains(t, fields, "department_id")
	require.Len(t, b.ticketIDs(client, ""), 1, "the refused ticket left nothing")

	b.openTicket(staffToken, map[string]any{"customer_id": mustInt(t, cid), "department_id": paid, "subject": "by staff", "body": "b"})
	b.openTicket(client, map[string]any{"department_id": free, "subject": "free", "body": "b"})
	require.Equal(t, 0.0, b.incidentsOf(cid)["balance"])
	require.Len(t, b.ticketIDs(client, ""), 3)
	items := b.incidentsOf(cid)["items"].([]any)
	require.Len(t, items, 2, "the grant and the one ticket's use: %v", items)
}

// TestDepartmentDeletion: a department without tickets or tasks is deleted
// with its pre-defined replies; one with a ticket or a task is kept (409,
// saying to hide it instead).
func TestDepartmentDeletion(t *testing.T) {
	t.Parallel()
	b := setup(t)
	empty := b.department("Empty", nil)
	status, reply := b.doJSON("POST", "/api/v1/predefined-replies", map[string]any{"name": "Hi", "body": "Hello", "department_id": empty})
	require.Equal(t, http.StatusCreated, status, "%v", reply)
	status, out := b.do("DELETE", fmt.Sprint("/api/v1/departments/", empty), "")
	require.Equal(t, http.StatusNoContent, status, "%v", out)
	status, out = b.do("GET", "/api/v1/predefined-replies/"+jsonID(reply), "")
	require.Equal(t, http.StatusNotFound, status, "the department's reply went with it: %v", out)

	withTicket := b.department("Tickets", nil)
	cid, _ := b.newCustomer()
	b.openTicket(b.token, map[string]any{"customer_id": mustInt(t, cid), "department_id": withTicket, "subject": "s", "body": "b"})
	withTask := b.department("Tasks", nil)
	status, out = b.doJSON("POST", "/api/v1/tasks", map[string]any{"department_id": withTask, "title": "t"})
	require.Equal(t, http.StatusCreated, status, "%v", out)
	for _, d := range []int64{withTicket, withTask} {
		status, out = b.do("DELETE", fmt.Sprint("/api/v1/departments/", d), "")
		require.Equal(t, http.StatusConflict, status, "%v", out)
		_, msg, _ := errorOf(t, out)
		require.Contains(t, msg, "show_in_support: false")
		status, out = b.do("GET", fmt.Sprint("/api/v1/departments/", d), "")
		require.Equal(t, http.StatusOK, status, "%v", out)
	}
}
