package api_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"github.com/stretchr/testify/assert"
	"github.com/tempobill/billing"
	"github.com/tempobill/billing/api"
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

// TestTicketAttachmentsThroughTheRoutes: the file limits end to end: two
// files of 5 MiB (10 MiB together, 13.4 MiB of base64) open a ticket and
// come back byte for byte; a file over 5 MiB, or one refused by its type,
// leaves no ticket, no message and no notice.
func TestTicketAttachmentsThroughTheRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	dept := b.department("Files", nil)
	member, memberToken := b.supportStaff("Member", nil, dept)
	cust, _ := b.newCustomer()
	client := b.clientOf(cust)
	tickets := func() int {
		return b.countRows(`SELECT count(*) FROM tickets WHERE customer_id = $1`, mustID(t, cust))
	}
	staffNotices := func() int { return b.countRows(`SELECT count(*) FROM notices WHERE staff_id = $1`, member.ID) }

	big := bytes.Repeat([]byte("log line\n"), (5<<20)/9)
	big = append(big, bytes.Repeat([]byte("x"), 5<<20-len(big))...)
	other := bytes.Repeat([]byte("y"), 5<<20)
	file := func(name string, content []byte) map[string]any {
		return map[string]any{"name": name, "content_type": "text/plain", "content": base64.StdEncoding.EncodeToString(content)}
	}
	status, out := b.doAs(client, "POST", "/api/v1/tickets", mustJSON(map[string]any{"department_id": dept, "subject": "Logs",
		"body": "Attached.", "attachments": []any{file("a.log", big), file("b.txt", other)}}))
	require.Equal(t, http.StatusCreated, status, "%v", out)
	id := jsonID(out)
	files := out["messages"].([]any)[0].(map[string]any)["attachments"].([]any)
	require.Len(t, files, 2)
	for i, want := range [][]byte{big, other} {
		f := files[i].(map[string]any)
		res, raw := b.send(memberToken, "GET", fmt.Sprintf("/api/v1/tickets/%s/attachments/%s", id, jsonID(f)), "", nil)
		require.Equal(t, http.StatusOK, res.StatusCode)
		require.True(t, bytes.Equal(want, raw), "file %d served back as uploaded (%d bytes, %d sent)", i, len(raw), len(want))
		sum := sha256.Sum256(want)
		require.Equal(t, hex.EncodeToString(sum[:]), f["sha256"])
	}
	require.Equal(t, 1, tickets())
	before := staffNotices()

	status, out = b.doAs(client, "POST", "/api/v1/tickets", mustJSON(map[string]any{"department_id": dept, "subject": "Too big",
		"body": "Attached.", "attachments": []any{file("c.log", append(other, 'z'))}}))
	require.Equal(t, http.StatusRequestEntityTooLarge, status, "%v", out)
	status, out = b.doAs(client, "POST", "/api/v1/tickets", mustJSON(map[string]any{"department_id": dept, "subject": "A page",
		"body": "Attached.", "attachments": []any{file("ok.txt", []byte("fine")),
			map[string]any{"name": "page.html", "content_type": "text/html", "content": base64.StdEncoding.EncodeToString([]byte("<html><script>alert(1)</script></html>"))}}}))
	require.Equal(t, http.StatusUnprocessableEntity, status, "%v", out)
	require.Equal(t, 1, tickets(), "a refused file opens no ticket")

	status, out = b.doAs(memberToken, "POST", "/api/v1/tickets/"+id+"/messages", mustJSON(map[string]any{"body": "Here", "status": "closed",
		"attachments": []any{file("ok.txt", []byte("fine")), file("c.log", append(other, 'z'))}}))
	require.Equal(t, http.StatusRequestEntityTooLarge, status, "%v", out)
	status, out = b.doAs(client, "GET", "/api/v1/tickets/"+id, "")
	require.Equal(t, http.StatusOK, status, "%v", out)
	require.Len(t, out["messages"], 1, "a refused file posts no message")
	require.Equal(t, "open", out["status"], "nor changes the status")
	require.Equal(t, before, staffNotices(), "nor tells anyone")
	require.Zero(t, b.countRows(`SELECT count(*) FROM ticket_attachments a JOIN tickets t ON t.id = a.ticket_id
		WHERE t.customer_id = $1 AND a.name IN ('ok.txt', 'c.log', 'page.html')`, mustID(t, cust)))
}

// TestTicketFromMailThreadsTheAnswer: a ticket that came from a client's
// mail is answered through the API with In-Reply-To that mail's Message-ID
// (References the ticket's root and it); the answer, refused by the
// client's server and resent by staff, keeps its Message-ID and threading
// headers.
func TestTicketFromMailThreadsTheAnswer(t *testing.T) {
	t.Parallel()
	b := setup(t, func(o *api.Options) { o.MailFrom = "billing@provider.example" })
	box := newMailbox(t, b.store)
	dept := b.department("Mail desk", map[string]any{"email": "desk@provider.example"})
	_, johnToken := b.supportStaff("John", nil, dept)
	cust, login := b.newCustomer()
	var userID int64
	require.NoError(t, b.store.Pool().QueryRow(t.Context(), `SELECT id FROM users WHERE login = $1`, login).Scan(&userID))
	ch, err := b.store.OpenTicket(t.Context(), store.NewTicket{CustomerID: mustID(t, cust), DepartmentID: dept, Subject: "By mail",
		Body: "Sent from my phone.", Author: billing.TicketAuthor{UserID: userID, Source: billing.SourceEmail,
			MailMessageID: "<CA77@mail.client.example>"}})
	require.NoError(t, err)
	id := fmt.Sprint(ch.Ticket.ID)
	root := fmt.Sprintf("<ticket-%s.%s@provider.example>", id, ch.Ticket.ReplyToken)

	box.smtp.SetFault(smtptest.Reject)
	status, out := b.doAs(johnToken, "POST", "/api/v1/tickets/"+id+"/messages", `{"body": "Got it."}`)
	require.Equal(t, http.StatusCreated, status, "%v", out)
	box.deliver(cust)
	var noticeID int64
	var messageID string
	require.NoError(t, b.store.Pool().QueryRow(t.Context(), `SELECT id, message_id FROM notices
		WHERE event = 'ticket_reply' AND object_id = $1 AND status = 'rejected'`, id).Scan(&noticeID, &messageID))
	box.smtp.SetFault(smtptest.Accept)
	status, out = b.do("POST", fmt.Sprintf("/api/v1/notifications/%d/resend", noticeID), "")
	require.Equal(t, http.StatusAccepted, status, "%v", out)
	var got []smtptest.Message
	for _, m := range box.deliver(cust) {
		if strings.Contains(m.Subject, "By mail") {
			got = append(got, m)
		}
	}
	require.Len(t, got, 1, "the resent answer")
	require.Equal(t, messageID, got[0].Header.Get("Message-ID"))
	require.Equal(t, "<CA77@mail.client.example>", got[0].Header.Get("In-Reply-To"))
	require.Equal(t, root+" <CA77@mail.client.example>", got[0].Header.Get("References"))
	require.Equal(t, "<desk@provider.example>", got[0].Header.Get("Reply-To"))
}

// TestTicketMovedNotices: a ticket moved to another department before its
// queued notices went out: the members of the department it left, who no
// longer see it, are not sent its client's post (an admin still is); the
// members of the department it joined are told of it (ticket_assigned),
// but not the staff member who moved it.
func TestTicketMovedNotices(t *testing.T) {
	t.Parallel()
	b := setup(t)
	box := newMailbox(t, b.store)
	first := b.department("First line", nil)
	second := b.department("Second line", nil)
	john, _ := b.supportStaff("John", nil, first)
	gary, garyToken := b.supportStaff("Gary", nil, first, second)
	mary, _ := b.supportStaff("Mary", nil, second)
	admin, err := b.store.CreateStaff(t.Context(), billing.StaffCreate{Login: "adm" + uniq(), Email: "adm" + uniq() + "@staff.example",
		Name: "Ada", Role: billing.RoleAdmin, Permissions: []string{}, DepartmentIDs: []int64{first}}, "no-password")
	require.NoError(t, err)
	cust, _ := b.newCustomer()
	client := b.clientOf(cust)
	to := func(s billing.Staff) []string {
		return subjectsTo(box.deliverStaff(s.ID, s.Email), s.Email)
	}

	id := b.openTicket(client, map[string]any{"department_id": first, "subject": "Escalate me", "body": "It is broken."})
	require.Len(t, to(john), 1, "the new ticket")
	status, out := b.doAs(client, "POST", "/api/v1/tickets/"+id+"/messages", `{"body": "Still broken, and here is my password."}`)
	require.Equal(t, http.StatusCreated, status, "%v", out)
	status, out = b.doAs(garyToken, "PATCH", "/api/v1/tickets/"+id, fmt.Sprintf(`{"department_id": %d}`, second))
	require.Equal(t, http.StatusOK, status, "%v", out)

	require.Len(t, to(john), 1, "John no longer sees the ticket: not sent the post queued before the move")
	require.Len(t, to(admin), 2, "an admin sees every ticket: the new ticket and the post")
	require.Equal(t, []string{"[Ticket #" + id + "] Ticket is assigned: Escalate me"}, to(mary), "Mary's department has a new ticket")
	require.Len(t, to(gary), 2, "Gary, in both: the new ticket and the post; not his own move")
}

// TestTicketStatusUnderConcurrentPosts: client posts, staff answers that
// close the ticket and notes, all at once: every post is stored, the
// status is what the last post (in the ticket's order) makes it, and each
// answer tells the client once.
func TestTicketStatusUnderConcurrentPosts(t *testing.T) {
	t.Parallel()
	b := setup(t)
	dept := b.department("Busy", nil)
	_, agent := b.supportStaff("Agent", nil, dept)
	cust, _ := b.newCustomer()
	client := b.clientOf(cust)
	id := b.openTicket(client, map[string]any{"department_id": dept, "subject": "Race", "body": "Go"})
	posts := []struct{ token, body string }{}
	for i := range 6 {
		posts = append(posts, struct{ token, body string }{client, fmt.Sprintf(`{"body": "client %d"}`, i)},
			struct{ token, body string }{agent, fmt.Sprintf(`{"body": "staff %d", "status": "closed"}`, i)})
		if i%2 == 0 {
			posts = append(posts, struct{ token, body string }{agent, fmt.Sprintf(`{"body": "note %d", "internal": true}`, i)})
		}
	}
	var wg sync.WaitGroup
	for _, p := range posts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			status, out := b.doAs(p.token, "POST", "/api/v1/tickets/"+id+"/messages", p.body)
			assert.Equal(t, http.StatusCreated, status, "%v", out)
		}()
	}
	wg.Wait()
	status, out := b.doAs(agent, "GET", "/api/v1/tickets/"+id, "")
	require.Equal(t, http.StatusOK, status, "%v", out)
	msgs := out["messages"].([]any)
	require.Len(t, msgs, 1+len(posts))
	want := ""
	for _, m := range msgs {
		switch m.(map[string]any)["kind"] {
		case billing.MessageFromClient:
			want = billing.TicketOpen
		case billing.MessageFromStaff:
			want = billing.TicketClosed
		}
	}
	require.Equal(t, want, out["status"])
	b.lastMessageIsLatest(id)
	require.Equal(t, 6, b.countRows(`SELECT count(*) FROM notices WHERE event = 'ticket_reply' AND object_id = $1`, id))
}

// TestTicketPostsWhenTheAssigneeLeft: a client's post goes to the
// assignee, but to the department's members when the assignee is no longer
// an active member of it (removed from the department, or disabled): never
// to someone who can't see the ticket, and never to nobody.
func TestTicketPostsWhenTheAssigneeLeft(t *testing.T) {
	t.Parallel()
	b := setup(t)
	box := newMailbox(t, b.store)
	dept := b.department("Desk", nil)
	john, _ := b.supportStaff("John", nil, dept)
	gary, _ := b.supportStaff("Gary", nil, dept)
	mary, _ := b.supportStaff("Mary", nil, dept)
	cust, _ := b.newCustomer()
	client := b.clientOf(cust)
	posts := func(s billing.Staff) int {
		n := 0
		for _, sub := range subjectsTo(box.deliverStaff(s.ID, s.Email), s.Email) {
			if strings.Contains(sub, "New post from client") {
				n++
			}
		}
		return n
	}
	id := b.openTicket(client, map[string]any{"department_id": dept, "subject": "Who answers?", "body": "Hello"})
	status, out := b.do("PATCH", "/api/v1/tickets/"+id, fmt.Sprintf(`{"assignee_id": %d}`, john.ID))
	require.Equal(t, http.StatusOK, status, "%v", out)
	require.NoError(t, b.store.SetStaffDepartments(t.Context(), john.ID, []int64{}))
	status, out = b.doAs(client, "POST", "/api/v1/tickets/"+id+"/messages", `{"body": "Anyone?"}`)
	require.Equal(t, http.StatusCreated, status, "%v", out)
	require.Equal(t, 0, posts(john), "John left the department: he can't see the ticket")
	require.Equal(t, 1, posts(gary))
	require.Equal(t, 1, posts(mary))

	status, out = b.do("PATCH", "/api/v1/tickets/"+id, fmt.Sprintf(`{"assignee_id": %d}`, gary.ID))
	require.Equal(t, http.StatusOK, status, "%v", out)
	_, err := b.store.Pool().Exec(t.Context(), `UPDATE staff SET status = 'disabled' WHERE id = $1`, gary.ID)
	require.NoError(t, err)
	status, out = b.doAs(client, "POST", "/api/v1/tickets/"+id+"/messages", `{"body": "Hello again?"}`)
	require.Equal(t, http.StatusCreated, status, "%v", out)
	require.Equal(t, 2, posts(mary), "Gary is disabled: the department hears")
}

// lastMessageIsLatest checks that ticket id's last_message_at is its latest
// post's time.
func (b *bundle) lastMessageIsLatest(id string) {
	b.t.Helper()
	require.Equal(b.t, 1, b.countRows(`SELECT count(*) FROM tickets t WHERE t.id = $1
		AND t.last_message_at = (SELECT max(created_at) FROM ticket_messages WHERE ticket_id = t.id AND kind <> 'note')`, mustID(b.t, id)),
		"last_message_at is the latest post's time, whichever transaction began first")
}

// TestTicketLastMessageNeverGoesBack: a post whose transaction began
// before another post's, and waited for the ticket's lock, doesn't take
// last_message_at back to its own (earlier) start: the ticket stays listed
// by its latest post.
func TestTicketLastMessageNeverGoesBack(t *testing.T) {
	t.Parallel()
	b := setup(t)
	dept := b.department("Slow", nil)
	_, agent := b.supportStaff("Agent", nil, dept)
	cust, login := b.newCustomer()
	client := b.clientOf(cust)
	var userID int64
	require.NoError(t, b.store.Pool().QueryRow(t.Context(), `SELECT id FROM users WHERE login = $1`, login).Scan(&userID))
	id := b.openTicket(client, map[string]any{"department_id": dept, "subject": "Order", "body": "First"})

	began, proceed := make(chan struct{}), make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- b.store.Tx(t.Context(), func(tx *store.Store) error {
			close(began) // BEGIN was sent: now() is this moment
			<-proceed
			_, err := tx.PostTicketMessage(t.Context(), store.NewTicketMessage{TicketID: mustID(t, id), Kind: billing.MessageFromClient,
				Body: "Began first, posted last", Author: billing.TicketAuthor{UserID: userID}}, nil)
			return err
		})
	}()
	<-began
	status, out := b.doAs(agent, "POST", "/api/v1/tickets/"+id+"/messages", `{"body": "Began last, posted first"}`)
	require.Equal(t, http.StatusCreated, status, "%v", out)
	close(proceed)
	require.NoError(t, <-errc)
	b.lastMessageIsLatest(id)
}
