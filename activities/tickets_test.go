package activities_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"mime/quotedprintable"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/internal/smtptest"
	"github.com/tempobill/billing/mail"
	"github.com/tempobill/billing/notices"
	"github.com/tempobill/billing/store"
)

// support is a support center of seed 003: a customer with two users (Ann,
// Bob), the departments Technical (with a mailbox) and Sales, and the staff
// John (technical), Gary (technical and sales) and Mary (sales); its mail
// goes to a real SMTP server in the test process.
type support struct {
	t                *testing.T
	ctx              context.Context
	st               *store.Store
	acts             *activities.Activities
	smtp             *smtptest.Server
	cust             billing.Customer
	ann, bob         billing.User
	tech, sales      billing.Department
	john, gary, mary billing.Staff
}

func newSupport(t *testing.T) *support {
	t.Helper()
	ctx := t.Context()
	st := store.New(dbtest.Pool(t))
	srv, err := smtptest.Start()
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Close() })
	m, err := mail.NewSMTP(srv.Addr, "", "", "none")
	require.NoError(t, err)
	s := &support{t: t, ctx: ctx, st: st, smtp: srv, acts: &activities.Activities{Store: st, Mail: m, SMS: noSMS{},
		MailFrom: "billing@provider.example", Log: slog.New(slog.DiscardHandler)}}
	u := strings.ToLower(rand.Text()[:10])
	in := billing.CustomerCreate{AccountType: billing.AccountIndividual, Name: "Acme " + u, Country: "DE",
		User: billing.UserCreate{Login: "ann" + u, Email: "ann" + u + "@example.com", FirstName: "Ann", EmailVerified: true}}
	in.Defaults()
	s.cust, s.ann, err = st.CreateCustomer(ctx, in, "x")
	require.NoError(t, err)
	s.bob, err = st.CreateUser(ctx, s.cust.ID, billing.UserCreate{Login: "bob" + u, Email: "bob" + u + "@example.com", FirstName: "Bob",
		EmailVerified: true}, "x")
	require.NoError(t, err)
	staff := func(name string) billing.Staff {
		m, err := st.CreateStaff(ctx, billing.StaffCreate{Login: strings.ToLower(name) + u, Email: strings.ToLower(name) + u + "@staff.example",
			Name: name, Role: billing.RoleStaff, Permissions: []string{}}, "x")
		require.NoError(t, err)
		return m
	}
	s.john, s.gary, s.mary = staff("John"), staff("Gary"), staff("Mary")
	dept := func(name, email string, members ...int64) billing.Department {
		d, err := st.CreateDepartment(ctx, billing.DepartmentInput{Name: &name, Email: &email})
		require.NoError(t, err)
		for _, id := range members {
			ids, err := st.StaffDepartments(ctx, id)
			require.NoError(t, err)
			require.NoError(t, st.SetStaffDepartments(ctx, id, append(ids, d.ID)))
		}
		d, err = st.Department(ctx, d.ID)
		require.NoError(t, err)
		return d
	}
	s.tech = dept("Technical "+u, "support"+u+"@provider.example", s.john.ID, s.gary.ID)
	s.sales = dept("Sales "+u, "", s.gary.ID, s.mary.ID)
	return s
}

// ticket inserts a ticket of the customer in dept (the ticket API is built
// elsewhere).
func (s *support) ticket(dept billing.Department, subject string) billing.Ticket {
	s.t.Helper()
	tk := billing.Ticket{CustomerID: s.cust.ID, DepartmentID: dept.ID, Subject: subject, Status: billing.TicketOpen,
		ReplyToken: strings.ToLower(rand.Text()[:16])}
	require.NoError(s.t, s.st.Pool().QueryRow(s.ctx, `INSERT INTO tickets (customer_id, department_id, subject, reply_token)
		VALUES ($1, $2, $3, $4) RETURNING id`, tk.CustomerID, tk.DepartmentID, tk.Subject, tk.ReplyToken).Scan(&tk.ID))
	return tk
}

// post inserts a message: by a user (kind client) or a staff member.
func (s *support) post(tk billing.Ticket, kind string, userID, staffID int64, body, mailID string) *billing.TicketMessage {
	s.t.Helper()
	m := &billing.TicketMessage{TicketID: tk.ID, Kind: kind, Body: body, Source: billing.SourceAPI}
	if userID != 0 {
		m.AuthorUserID = &userID
	}
	if staffID != 0 {
		m.AuthorStaffID = &staffID
	}
	if mailID != "" {
		m.MailMessageID, m.Source = &mailID, billing.SourceEmail
	}
	require.NoError(s.t, s.st.Pool().QueryRow(s.ctx, `INSERT INTO ticket_messages (ticket_id, kind, author_user_id, author_staff_id,
		body, source, mail_message_id) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, tk.ID, kind, m.AuthorUserID,
		m.AuthorStaffID, body, m.Source, m.MailMessageID).Scan(&m.ID))
	return m
}

// mailText is m's body, decoded (quoted-printable).
func mailText(t *testing.T, m smtptest.Message) string {
	t.Helper()
	if m.Header.Get("Content-Transfer-Encoding") != "quoted-printable" {
		return m.Body
	}
	b, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(m.Body)))
	require.NoError(t, err)
	return strings.ReplaceAll(string(b), "\r\n", "\n")
}

// queue queues n's notices in a transaction, as the ticket API does.
func (s *support) queue(n activities.TicketNotice) {
	s.t.Helper()
	n.PanelURL, n.MailFrom = "https://panel.provider.example", s.acts.MailFrom
	require.NoError(s.t, s.st.Tx(s.ctx, func(tx *store.Store) error {
		return activities.QueueTicketNotices(s.ctx, tx, n, "en")
	}))
}

// queued lists "event -> recipient" of the notices about ticket (or task)
// id queued after the notice after, in ID order.
func (s *support) queued(objectType string, id int64, after int64) []string {
	s.t.Helper()
	rows, err := s.st.Pool().Query(s.ctx, `SELECT event || ' -> ' || recipient FROM notices
		WHERE object_type = $1 AND object_id = $2 AND id > $3 ORDER BY id`, objectType, fmt.Sprint(id), after)
	require.NoError(s.t, err)
	var out []string
	for rows.Next() {
		var v string
		require.NoError(s.t, rows.Scan(&v))
		out = append(out, v)
	}
	require.NoError(s.t, rows.Err())
	return out
}

// last is the ID of the newest notice.
func (s *support) last() int64 {
	s.t.Helper()
	var id int64
	require.NoError(s.t, s.st.Pool().QueryRow(s.ctx, `SELECT coalesce(max(id), 0) FROM notices`).Scan(&id))
	return id
}

// deliver sends the queued notices of the support's staff and customer, as
// the redelivery schedule would, and returns the messages received by to.
func (s *support) deliver(to string) []smtptest.Message {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, time.Minute)
	defer cancel()
	for _, in := range []activities.RedeliverInput{{CustomerID: s.cust.ID}, {StaffID: s.john.ID}, {StaffID: s.gary.ID},
		{StaffID: s.mary.ID}} {
		_, err := s.acts.RedeliverNotices(ctx, in)
		require.NoError(s.t, err)
	}
	var out []smtptest.Message
	for _, m := range s.smtp.Messages() {
		if m.To == to {
			out = append(out, m)
		}
	}
	return out
}

// TestTicketNoticesWhoGetsWhat: seed 000's support notices, per seed 003's
// John (technical) and Gary (technical and sales): a new ticket tells its
// department's members (not Mary, of sales); a staff answer tells the client
// users who posted (Bob, not Ann) and the other members, never its author;
// an internal note tells staff only; an assignment tells the assignee, and
// from then on only the assignee hears of posts; a member who turned an
// event off hears nothing of it, nor does a disabled member; nothing is
// queued twice.
func TestTicketNoticesWhoGetsWhat(t *testing.T) {
	t.Parallel()
	s := newSupport(t)
	tk := s.ticket(s.tech, "The VPS does not boot")
	mark := s.last()
	first := s.post(tk, billing.MessageFromClient, s.bob.ID, 0, "It hangs at the bootloader.", "")
	s.queue(activities.TicketNotice{Ticket: tk, Message: first, Opened: true})
	require.Equal(t, []string{"ticket_assigned -> " + s.john.Email, "ticket_assigned -> " + s.gary.Email},
		s.queued("ticket", tk.ID, mark), "the technical department's members; not Mary; the client is not told of their own post")
	s.queue(activities.TicketNotice{Ticket: tk, Message: first, Opened: true})
	require.Len(t, s.queued("ticket", tk.ID, mark), 2, "once per event, ticket, message and recipient")

	mark = s.last()
	answer := s.post(tk, billing.MessageFromStaff, 0, s.gary.ID, "Please boot the rescue system.", "")
	s.queue(activities.TicketNotice{Ticket: tk, Message: answer, ByStaffID: s.gary.ID})
	require.Equal(t, []string{"ticket_reply -> " + s.bob.Email, "ticket_staff_post -> " + s.john.Email},
		s.queued("ticket", tk.ID, mark), "the user who posted (not Ann), and the other member (not Gary, the author)")

	mark = s.last()
	note := s.post(tk, billing.MessageNote, 0, s.gary.ID, "Node 4 again.", "")
	s.queue(activities.TicketNotice{Ticket: tk, Message: note, ByStaffID: s.gary.ID})
	require.Equal(t, []string{"ticket_staff_post -> " + s.john.Email}, s.queued("ticket", tk.ID, mark),
		"a client is never told of an internal note")
	var bodies []string
	for _, m := range s.deliver(s.john.Email) {
		bodies = append(bodies, mailText(t, m))
	}
	require.Len(t, bodies, 3)
	require.True(t, slices.ContainsFunc(bodies, func(b string) bool {
		return strings.Contains(b, "Gary posted an internal note") && strings.Contains(b, "Node 4 again.")
	}), "staff see notes in ticket_staff_post: %q", bodies)

	mark = s.last()
	tk.AssigneeID = &s.john.ID
	s.queue(activities.TicketNotice{Ticket: tk, Assigned: true, ByStaffID: s.gary.ID})
	require.Equal(t, []string{"ticket_assigned -> " + s.john.Email}, s.queued("ticket", tk.ID, mark))

	mark = s.last()
	again := s.post(tk, billing.MessageFromClient, s.ann.ID, 0, "Still hangs.", "")
	s.queue(activities.TicketNotice{Ticket: tk, Message: again})
	require.Equal(t, []string{"ticket_client_post -> " + s.john.Email}, s.queued("ticket", tk.ID, mark),
		"assigned: only the assignee hears of the client's posts")

	mark = s.last()
	reply := s.post(tk, billing.MessageFromStaff, 0, s.john.ID, "Fixed.", "")
	s.queue(activities.TicketNotice{Ticket: tk, Message: reply, ByStaffID: s.john.ID})
	require.Equal(t, []string{"ticket_reply -> " + s.ann.Email, "ticket_reply -> " + s.bob.Email}, s.queued("ticket", tk.ID, mark),
		"both users posted now; the assignee wrote it himself")

	require.NoError(t, s.st.SetStaffNotifications(s.ctx, s.john.ID, map[string]bool{notices.EventTicketClientPost: false}))
	mark = s.last()
	s.queue(activities.TicketNotice{Ticket: tk, Message: s.post(tk, billing.MessageFromClient, s.bob.ID, 0, "Thanks!", "")})
	require.Empty(t, s.queued("ticket", tk.ID, mark), "John turned new posts from clients off")

	// A ticket of sales nobody is assigned: Gary is disabled, Mary hears.
	_, err := s.st.Pool().Exec(s.ctx, `UPDATE staff SET status = 'disabled' WHERE id = $1`, s.gary.ID)
	require.NoError(t, err)
	sale := s.ticket(s.sales, "A quote for 10 servers")
	s.queue(activities.TicketNotice{Ticket: sale, Message: s.post(sale, billing.MessageFromClient, s.ann.ID, 0, "Price?", ""), Opened: true})
	require.Equal(t, []string{"ticket_assigned -> " + s.mary.Email}, s.queued("ticket", sale.ID, 0))
}

// TestTicketMailThreading: the mails about a ticket carry what threads
// them for the mail gateway, read at a real SMTP server: Subject "[Ticket
// #id] ...", Reply-To the department's mailbox, a Message-ID of their own,
// In-Reply-To the client's mail they answer (the ticket's root id if the
// client wrote by the API), References the root id and that mail, and the
// reply token in the body; an email whose outcome was unknown is sent
// again with the same headers.
func TestTicketMailThreading(t *testing.T) {
	t.Parallel()
	s := newSupport(t)
	tk := s.ticket(s.tech, "Disk full")
	root := fmt.Sprintf("<ticket-%d.%s@provider.example>", tk.ID, tk.ReplyToken)
	byMail := s.post(tk, billing.MessageFromClient, s.bob.ID, 0, "No space left.", "<CA1234@mail.client.example>")
	s.queue(activities.TicketNotice{Ticket: tk, Message: byMail, Opened: true})
	answer := s.post(tk, billing.MessageFromStaff, 0, s.gary.ID, "Cleaned /tmp.", "")

	s.smtp.SetFault(smtptest.DropDuringData)
	s.queue(activities.TicketNotice{Ticket: tk, Message: answer, ByStaffID: s.gary.ID})
	first := s.deliver(s.bob.Email)
	require.Len(t, first, 1, "kept, the outcome unknown to the sender")
	s.smtp.SetFault(smtptest.Accept)
	_, err := s.st.Pool().Exec(s.ctx, `UPDATE notices SET next_attempt_at = now() WHERE customer_id = $1`, s.cust.ID)
	require.NoError(t, err)
	both := s.deliver(s.bob.Email)
	require.Len(t, both, 2, "sent again")
	for _, m := range both {
		require.Equal(t, fmt.Sprintf("[Ticket #%d] Disk full", tk.ID), m.Subject)
		require.Equal(t, "<"+s.tech.Email+">", m.Header.Get("Reply-To"))
		require.True(t, strings.HasPrefix(m.Header.Get("Message-ID"), fmt.Sprintf("<ticket-%d.%s.", tk.ID, tk.ReplyToken)), m.Header.Get("Message-ID"))
		require.Equal(t, "<CA1234@mail.client.example>", m.Header.Get("In-Reply-To"), "the client's mail it answers")
		require.Equal(t, root+" <CA1234@mail.client.example>", m.Header.Get("References"))
		require.Contains(t, mailText(t, m), fmt.Sprintf("Ticket reference: #%d-%s", tk.ID, tk.ReplyToken))
		require.Contains(t, mailText(t, m), "Cleaned /tmp.")
	}
	require.Equal(t, both[0].Header.Get("Message-ID"), both[1].Header.Get("Message-ID"), "the same Message-ID again")

	johns := s.deliver(s.john.Email)
	require.Len(t, johns, 2, "the new ticket, then Gary's answer")
	slices.SortFunc(johns, func(a, b smtptest.Message) int { return strings.Compare(b.Subject, a.Subject) }) // one run: any order
	require.Equal(t, fmt.Sprintf("[Ticket #%d] Ticket is assigned: Disk full", tk.ID), johns[0].Subject)
	require.Equal(t, fmt.Sprintf("[Ticket #%d] New post from provider: Disk full", tk.ID), johns[1].Subject)
	require.Contains(t, mailText(t, johns[0]), "No space left.")
	require.NotEqual(t, johns[0].Header.Get("Message-ID"), johns[1].Header.Get("Message-ID"), "each mail its own Message-ID")
	require.NotEqual(t, both[0].Header.Get("Message-ID"), johns[1].Header.Get("Message-ID"))

	// A client's post by the API answers nothing that has a Message-ID: the root.
	api := s.post(tk, billing.MessageFromClient, s.bob.ID, 0, "Full again.", "")
	s.queue(activities.TicketNotice{Ticket: tk, Message: api})
	johns = s.deliver(s.john.Email)
	require.Len(t, johns, 3)
	require.Equal(t, root, johns[2].Header.Get("In-Reply-To"))
	require.Equal(t, root, johns[2].Header.Get("References"))

	// The sales department has no mailbox: no Reply-To is set.
	sale := s.ticket(s.sales, "Quote")
	s.queue(activities.TicketNotice{Ticket: sale, Message: s.post(sale, billing.MessageFromClient, s.ann.ID, 0, "Price?", ""), Opened: true})
	marys := s.deliver(s.mary.Email)
	require.Len(t, marys, 1)
	require.Empty(t, marys[0].Header.Get("Reply-To"))
}

// TestTaskCreatedNotice: a new task tells every active member of its
// department but its creator, per their settings, once.
func TestTaskCreatedNotice(t *testing.T) {
	t.Parallel()
	s := newSupport(t)
	due := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	task := billing.Task{ID: 900000 + int64(time.Now().UnixNano()%100000), DepartmentID: s.tech.ID, Title: "Replace a disk",
		Description: "Node 4's RAID reports a failing disk.", DueAt: &due, Status: billing.TaskOpen, CreatedByID: s.gary.ID}
	for range 2 {
		require.NoError(t, s.st.Tx(s.ctx, func(tx *store.Store) error { return activities.QueueTaskCreated(s.ctx, tx, task, "en") }))
	}
	require.Equal(t, []string{"task_created -> " + s.john.Email}, s.queued("task", task.ID, 0))
	m := s.deliver(s.john.Email)
	require.Len(t, m, 1)
	require.Equal(t, "New task: Replace a disk", m[0].Subject)
	require.Contains(t, mailText(t, m[0]), "Hello John,")
	require.Contains(t, mailText(t, m[0]), "Gary created task")
	require.Contains(t, mailText(t, m[0]), "due 2026-12-01 10:00 UTC")

	require.NoError(t, s.st.SetStaffNotifications(s.ctx, s.mary.ID, map[string]bool{notices.EventTaskCreated: false}))
	task.ID, task.DepartmentID, task.CreatedByID = task.ID+1, s.sales.ID, s.john.ID
	require.NoError(t, s.st.Tx(s.ctx, func(tx *store.Store) error { return activities.QueueTaskCreated(s.ctx, tx, task, "en") }))
	require.Equal(t, []string{"task_created -> " + s.gary.Email}, s.queued("task", task.ID, 0), "Mary turned new tasks off")
}

// TestTicketNoticesConcurrently: the same post told by two transactions at
// once is queued once per recipient.
func TestTicketNoticesConcurrently(t *testing.T) {
	t.Parallel()
	s := newSupport(t)
	tk := s.ticket(s.tech, "Twice")
	m := s.post(tk, billing.MessageFromClient, s.bob.ID, 0, "Hello?", "")
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = s.st.Tx(s.ctx, func(tx *store.Store) error {
				return activities.QueueTicketNotices(s.ctx, tx, activities.TicketNotice{Ticket: tk, Message: m}, "en")
			})
		}()
	}
	wg.Wait()
	for _, err := range errs {
		require.NoError(t, err)
	}
	got := s.queued("ticket", tk.ID, 0)
	slices.Sort(got)
	require.Equal(t, []string{"ticket_client_post -> " + s.gary.Email, "ticket_client_post -> " + s.john.Email}, got)
}
