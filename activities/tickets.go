package activities

import (
	"context"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store"
)

// TicketNotice is what happened to a ticket that its notices tell.
type TicketNotice struct {
	Ticket billing.Ticket
	// Message is the new message, if any (a client's post, a staff answer,
	// an internal note).
	Message *billing.TicketMessage
	// Opened: the ticket is new.
	Opened bool
	// Assigned: the ticket was just assigned to Ticket.AssigneeID.
	Assigned bool
	// ByStaffID is the staff member who did it (0: a client or the system):
	// never notified of their own action.
	ByStaffID int64
}

// QueueTicketNotices queues, in tx (the transaction of the change), the
// notices of n: to the client users (new message from provider) and to the
// staff of the ticket's department per their notification settings
// (ticket is assigned, new post from client, new post from provider).
// (The seam the ticket API calls; the notifications work fills it in.)
func QueueTicketNotices(ctx context.Context, tx *store.Store, n TicketNotice, defaultLanguage string) error {
	return nil
}

// QueueTaskCreated queues, in tx (the transaction that created t), the
// new_task notice to every member of t's department but its creator.
// (The seam the task API calls; the notifications work fills it in.)
func QueueTaskCreated(ctx context.Context, tx *store.Store, t billing.Task, defaultLanguage string) error {
	return nil
}
