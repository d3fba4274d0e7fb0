package store_test

import (
	"crypto/rand"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store"
)

// newDepartment adds a department with a unique name.
func (b bundle) newDepartment(t *testing.T) billing.Department {
	t.Helper()
	name := "Dept " + rand.Text()[:10]
	d, err := b.store.CreateDepartment(b.ctx, billing.DepartmentInput{Name: &name})
	require.NoError(t, err)
	return d
}

// TestTicketFromMail is what the mail gateway will do: open a ticket from a
// mail, and post a reply that came by mail twice (a mailbox that doesn't
// mark mails read). The reply is stored once; the second post is Duplicate
// and returns the message stored the first time.
func TestTicketFromMail(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newCustomer(t)
	d := b.newDepartment(t)
	mailID := "<" + rand.Text() + "@mail.example>"
	opened, err := b.store.OpenTicket(b.ctx, store.NewTicket{CustomerID: c.ID, DepartmentID: d.ID, Subject: "Server down",
		Body: "Help", Author: billing.TicketAuthor{Source: billing.SourceEmail, Email: "ann@example.com", Name: "Ann", MailMessageID: mailID}})
	require.NoError(t, err)
	require.False(t, opened.Duplicate)
	require.Equal(t, billing.SourceEmail, opened.Ticket.Source)
	require.Equal(t, billing.TicketOpen, opened.Ticket.Status)
	require.NotEmpty(t, opened.Ticket.ReplyToken)
	require.Equal(t, billing.MessageFromClient, opened.Message.Kind)
	require.Equal(t, "ann@example.com", opened.Message.AuthorEmail)

	again, err := b.store.OpenTicket(b.ctx, store.NewTicket{CustomerID: c.ID, DepartmentID: d.ID, Subject: "Server down",
		Body: "Help", Author: billing.TicketAuthor{Source: billing.SourceEmail, Email: "ann@example.com", MailMessageID: mailID}})
	require.NoError(t, err)
	require.True(t, again.Duplicate, "the same mail opens no second ticket")
	require.Equal(t, opened.Ticket.ID, again.Ticket.ID)

	replyID := "<" + rand.Text() + "@mail.example>"
	reply := store.NewTicketMessage{TicketID: opened.Ticket.ID, Kind: billing.MessageFromClient, Body: "Still down",
		Author: billing.TicketAuthor{Source: billing.SourceEmail, Email: "ann@example.com", MailMessageID: replyID}}
	first, err := b.store.PostTicketMessage(b.ctx, reply, nil)
	require.NoError(t, err)
	require.False(t, first.Duplicate)
	second, err := b.store.PostTicketMessage(b.ctx, reply, nil)
	require.NoError(t, err)
	require.True(t, second.Duplicate)
	require.Equal(t, first.Message.ID, second.Message.ID, "the existing message is returned")

	view, err := b.store.Ticket(b.ctx, opened.Ticket.ID)
	require.NoError(t, err)
	require.Len(t, view.Messages, 2, "one mail, one message")
	require.Equal(t, replyID, *view.Messages[1].MailMessageID)
}

// TestTicketMailPostedConcurrently posts one mail from many goroutines at
// once: it is stored once.
func TestTicketMailPostedConcurrently(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newCustomer(t)
	d := b.newDepartment(t)
	opened, err := b.store.OpenTicket(b.ctx, store.NewTicket{CustomerID: c.ID, DepartmentID: d.ID, Subject: "S", Body: "B",
		Author: billing.TicketAuthor{Source: billing.SourceEmail, Email: "ann@example.com"}})
	require.NoError(t, err)
	mailID := "<" + rand.Text() + "@mail.example>"
	var wg sync.WaitGroup
	dups := make([]bool, 8)
	for i := range dups {
		wg.Go(func() {
			ch, err := b.store.PostTicketMessage(b.ctx, store.NewTicketMessage{TicketID: opened.Ticket.ID, Kind: billing.MessageFromClient,
				Body: "again", Author: billing.TicketAuthor{Source: billing.SourceEmail, Email: "ann@example.com", MailMessageID: mailID}}, nil)
			require.NoError(t, err)
			dups[i] = ch.Duplicate
		})
	}
	wg.Wait()
	stored := 0
	for _, d := range dups {
		if !d {
			stored++
		}
	}
	require.Equal(t, 1, stored)
	view, err := b.store.Ticket(b.ctx, opened.Ticket.ID)
	require.NoError(t, err)
	require.Len(t, view.Messages, 2)
}

// TestTicketStatusRules: a staff answer makes the ticket answered (or the
// status asked), a note changes neither the status nor last_message_at, a
// client's post reopens a closed ticket.
func TestTicketStatusRules(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newCustomer(t)
	d := b.newDepartment(t)
	staff, err := b.store.CreateStaff(b.ctx, billing.StaffCreate{Login: "s" + rand.Text()[:8], Email: rand.Text()[:8] + "@staff.example",
		Role: billing.RoleStaff, Permissions: []string{}}, "hash")
	require.NoError(t, err)
	opened, err := b.store.OpenTicket(b.ctx, store.NewTicket{CustomerID: c.ID, DepartmentID: d.ID, Subject: "S", Body: "B",
		Author: billing.TicketAuthor{Email: "ann@example.com"}})
	require.NoError(t, err)
	id := opened.Ticket.ID
	post := func(kind, status string) billing.Ticket {
		t.Helper()
		a := billing.TicketAuthor{StaffID: staff.ID}
		if kind == billing.MessageFromClient {
			a = billing.TicketAuthor{Email: "ann@example.com"}
		}
		ch, err := b.store.PostTicketMessage(b.ctx, store.NewTicketMessage{TicketID: id, Kind: kind, Body: "x", Status: status, Author: a}, nil)
		require.NoError(t, err)
		return ch.Ticket
	}
	answered := post(billing.MessageFromStaff, "")
	require.Equal(t, billing.TicketAnswered, answered.Status)
	require.True(t, answered.LastMessageAt.After(opened.Ticket.LastMessageAt))
	noted := post(billing.MessageNote, "")
	require.Equal(t, billing.TicketAnswered, noted.Status)
	require.Equal(t, answered.LastMessageAt, noted.LastMessageAt, "a note doesn't move last_message_at")
	closed := post(billing.MessageFromStaff, billing.TicketClosed)
	require.Equal(t, billing.TicketClosed, closed.Status)
	require.NotNil(t, closed.ClosedAt)
	reopened := post(billing.MessageFromClient, "")
	require.Equal(t, billing.TicketOpen, reopened.Status)
	require.Nil(t, reopened.ClosedAt)
}

// TestTicketAssignAndMoveConcurrently assigns a ticket to a member of its
// department while another request moves it to a department that member is
// not in. Under the ticket's row lock either order ends the same: the
// ticket in the new department, assigned to nobody (the move drops the
// assignee, or the assignment after the move is refused).
func TestTicketAssignAndMoveConcurrently(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newCustomer(t)
	from, to := b.newDepartment(t), b.newDepartment(t)
	agent, err := b.store.CreateStaff(b.ctx, billing.StaffCreate{Login: "s" + rand.Text()[:8], Email: rand.Text()[:8] + "@staff.example",
		Role: billing.RoleStaff, Permissions: []string{}, DepartmentIDs: []int64{from.ID}}, "hash")
	require.NoError(t, err)
	for range 10 {
		opened, err := b.store.OpenTicket(b.ctx, store.NewTicket{CustomerID: c.ID, DepartmentID: from.ID, Subject: "S", Body: "B",
			Author: billing.TicketAuthor{Email: "ann@example.com"}})
		require.NoError(t, err)
		id := opened.Ticket.ID
		var wg sync.WaitGroup
		wg.Go(func() {
			_, err := b.store.UpdateTicket(b.ctx, id, billing.TicketUpdate{AssigneeID: &agent.ID, AssigneeIDSet: true}, nil)
			if err != nil {
				require.Equal(t, billing.EINVALID, billing.ErrorCode(err), "%v", err)
			}
		})
		wg.Go(func() {
			_, err := b.store.UpdateTicket(b.ctx, id, billing.TicketUpdate{DepartmentID: &to.ID}, nil)
			require.NoError(t, err)
		})
		wg.Wait()
		view, err := b.store.Ticket(b.ctx, id)
		require.NoError(t, err)
		require.Equal(t, to.ID, view.DepartmentID)
		require.Nil(t, view.AssigneeID)
	}
}
