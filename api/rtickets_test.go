package api_test

import (
	"fmt"
	"github.com/tempobill/billing"
	"github.com/tempobill/billing/internal/smtptest"
	"github.com/tempobill/billing/store"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// countRows counts the rows of sql (with args) in the test database.
func (b *bundle) countRows(sql string, args ...any) int {
	b.t.Helper()
	var n int
	require.NoError(b.t, b.store.Pool().QueryRow(b.t.Context(), sql, args...).Scan(&n))
	return n
}

// TestTicketIncidentsThroughTheRoute: in a department that requires
// incidents, a client without one is refused (409) and nothing is left: no
// ticket, message, file or notice; with N incidents, more concurrent opens
// make exactly N tickets; staff opening one for the customer use none.
func TestTicketIncidentsThroughTheRoute(t *testing.T) {
	t.Parallel()
	b := setup(t)
	dept := b.department("Per incident", map[string]any{"requires_incidents": true})
	member, _ := b.supportStaff("Member", nil, dept)
	_, memberToken := b.supportStaff("Opener", nil, dept)
	cust, _ := b.newCustomer()
	client := b.clientOf(cust)
	open := map[string]any{"department_id": dept, "subject": "Help", "body": "Please",
		"attachments": []map[string]any{{"name": "log.txt", "content_type": "text/plain", "content": "aGVsbG8="}}}

	status, out := b.doAs(client, "POST", "/api/v1/tickets", mustJSON(open))
	require.Equal(t, http.StatusConflict, status, "%v", out)
	require.Zero(t, b.countRows(`SELECT count(*) FROM tickets WHERE customer_id = $1`, mustID(t, cust)))
	require.Zero(t, b.countRows(`SELECT count(*) FROM ticket_messages m JOIN tickets t ON t.id = m.ticket_id WHERE t.customer_id = $1`, mustID(t, cust)))
	require.Zero(t, b.countRows(`SELECT count(*) FROM notices WHERE staff_id = $1`, member.ID))

	// Staff open one for the customer: no incident needed, none taken.
	b.openTicket(memberToken, map[string]any{"department_id": dept, "customer_id": mustID(t, cust), "subject": "From us", "body": "Hello"})
	require.Equal(t, float64(0), b.incidentsOf(cust)["balance"])

	const n, tries = 3, 8
	status, out = b.do("POST", "/api/v1/customers/"+cust+"/incidents", `{"count": 3}`)
	require.Equal(t, http.StatusCreated, status, "%v", out)
	var wg sync.WaitGroup
	codes := make([]int, tries)
	for i := range tries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i], _ = b.doAs(client, "POST", "/api/v1/tickets", mustJSON(map[string]any{"department_id": dept,
				"subject": fmt.Sprint("At once ", i), "body": "Please"}))
		}()
	}
	wg.Wait()
	created := 0
	for _, c := range codes {
		require.Contains(t, []int{http.StatusCreated, http.StatusConflict}, c, "%v", codes)
		if c == http.StatusCreated {
			created++
		}
	}
	require.Equal(t, n, created, "%v", codes)
	require.Equal(t, n+1, b.countRows(`SELECT count(*) FROM tickets WHERE customer_id = $1`, mustID(t, cust)))
	require.Equal(t, float64(0), b.incidentsOf(cust)["balance"])
}

// userSessions returns a session for each user of customer cid, by email.
func (b *bundle) userSessions(cid string) map[string]string {
	b.t.Helper()
	status, users := b.do("GET", "/api/v1/customers/"+cid+"/users", "")
	require.Equal(b.t, http.StatusOK, status, "%v", users)
	out := map[string]string{}
	for _, it := range users["items"].([]any) {
		u := it.(map[string]any)
		out[u["email"].(string)] = b.session(store.Session{Kind: billing.ActorClient, UserID: int64(u["id"].(float64)),
			CustomerID: mustID(b.t, cid)})
	}
	return out
}

// subjectsTo returns the subjects of the mails msgs sent to email.
func subjectsTo(msgs []smtptest.Message, email string) []string {
	out := []string{}
	for _, m := range msgs {
		if m.To == email && !strings.HasPrefix(m.Subject, "Welcome") {
			out = append(out, m.Subject)
		}
	}
	slices.Sort(out)
	return out
}

// TestTicketNoticesThroughTheRoutes: seed 000's support notices, each once
// and to the right people, through the real ticket routes: a ticket staff
// open tells all the client's users; once a user posted, only that user;
// staff are told per event and never of their own post; an assignment
// tells the assignee, every time the ticket is assigned to them.
func TestTicketNoticesThroughTheRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	box := newMailbox(t, b.store)
	dept := b.department("Helpdesk", map[string]any{"email": "help@provider.example"})
	john, johnToken := b.supportStaff("John", nil, dept)
	gary, garyToken := b.supportStaff("Gary", nil, dept)
	cust, ann, bob := b.customerWithTwoUsers("en")
	users := b.userSessions(cust)
	all := func() []smtptest.Message {
		box.deliver(cust)
		box.deliverStaff(john.ID, john.Email)
		box.deliverStaff(gary.ID, gary.Email)
		return box.smtp.Messages()
	}

	id := b.openTicket(garyToken, map[string]any{"department_id": dept, "customer_id": mustID(t, cust), "subject": "Your server",
		"body": "We restarted it."})
	msgs := all()
	require.Len(t, subjectsTo(msgs, ann), 1, "staff opened it: every user is told")
	require.Len(t, subjectsTo(msgs, bob), 1, "staff opened it: every user is told")
	require.Len(t, subjectsTo(msgs, john.Email), 1, "John: the new ticket")
	require.Empty(t, subjectsTo(msgs, gary.Email), "Gary opened it")

	status, out := b.doAs(users[bob], "POST", "/api/v1/tickets/"+id+"/messages", `{"body": "Thanks, what happened?"}`)
	require.Equal(t, http.StatusCreated, status, "%v", out)
	status, out = b.doAs(johnToken, "POST", "/api/v1/tickets/"+id+"/messages", `{"body": "A kernel panic."}`)
	require.Equal(t, http.StatusCreated, status, "%v", out)
	msgs = all()
	require.Len(t, subjectsTo(msgs, ann), 1, "Ann never posted: only the first")
	require.Len(t, subjectsTo(msgs, bob), 2, "Bob posted: John's answer")
	require.Len(t, subjectsTo(msgs, john.Email), 2, "John: Bob's post, not his own answer")
	require.Len(t, subjectsTo(msgs, gary.Email), 2, "Gary: Bob's post and John's answer")

	assign := func(token string, staffID int64) {
		status, out := b.doAs(token, "PATCH", "/api/v1/tickets/"+id, fmt.Sprintf(`{"assignee_id": %d}`, staffID))
		require.Equal(t, http.StatusOK, status, "%v", out)
	}
	assign(b.token, john.ID)
	assign(b.token, gary.ID)
	assign(b.token, john.ID)
	msgs = all()
	require.Len(t, subjectsTo(msgs, john.Email), 4, "John was assigned the ticket twice: %v", subjectsTo(msgs, john.Email))
	require.Len(t, subjectsTo(msgs, gary.Email), 3, "Gary was assigned it once")
}
