package billing

import "time"

// Department is a part of the provider's support (seed 003): technical
// support, sales. Staff members are its members; a member sees and answers
// only the tickets of their departments, an admin every department's.
type Department struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	// ShowInSupport: clients can open tickets in it.
	ShowInSupport bool `json:"show_in_support"`
	// Email is the mailbox address its replies carry (Reply-To) and the
	// incoming mail gateway reads; "" for none.
	Email string `json:"email"`
	// RequiresIncidents: each ticket opened in it takes one of the
	// customer's support incidents; without one it is refused.
	RequiresIncidents bool `json:"requires_incidents"`
	// StaffIDs are its members.
	StaffIDs  []int64   `json:"staff_ids"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// DepartmentInput creates a department or changes the fields that are set.
type DepartmentInput struct {
	Name              *string `json:"name"`
	ShowInSupport     *bool   `json:"show_in_support"`
	Email             *string `json:"email"`
	RequiresIncidents *bool   `json:"requires_incidents"`
}

// Apply returns d with in applied, validated.
func (in DepartmentInput) Apply(d Department) (Department, error) {
	set(&d.Name, in.Name)
	set(&d.ShowInSupport, in.ShowInSupport)
	set(&d.Email, in.Email)
	set(&d.RequiresIncidents, in.RequiresIncidents)
	var v Validator
	v.Text("name", d.Name, 100)
	if d.Email != "" {
		v.Email("email", d.Email)
	}
	return d, v.Err()
}

// Ticket statuses. A client's post opens a ticket (again); a staff answer
// makes it answered, or waiting for the client if staff say so; staff or
// the client close it.
const (
	TicketOpen             = "open"
	TicketAnswered         = "answered"
	TicketWaitingForClient = "waiting_for_client"
	TicketClosed           = "closed"
)

// TicketStatuses lists the ticket statuses.
var TicketStatuses = []string{TicketOpen, TicketAnswered, TicketWaitingForClient, TicketClosed}

// Where a ticket or a message came from.
const (
	SourceAPI   = "api"
	SourceEmail = "email"
)

// Ticket is a customer's conversation with a department.
type Ticket struct {
	ID           int64  `json:"id"`
	CustomerID   int64  `json:"customer_id"`
	DepartmentID int64  `json:"department_id"`
	Subject      string `json:"subject"`
	Status       string `json:"status"`
	// AssigneeID is the staff member of the department it is assigned to.
	AssigneeID      *int64 `json:"assignee_id"`
	OpenedByStaffID *int64 `json:"opened_by_staff_id"`
	OpenedByUserID  *int64 `json:"opened_by_user_id"`
	Source          string `json:"source"`
	// ReplyToken goes into the mails about the ticket so that the incoming
	// mail gateway can thread an answer into it; never shown.
	ReplyToken    string     `json:"-"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	LastMessageAt time.Time  `json:"last_message_at"`
	ClosedAt      *time.Time `json:"closed_at"`
}

// Kinds of ticket messages.
const (
	MessageFromClient = "client"
	MessageFromStaff  = "staff"
	// MessageNote is an internal staff note: clients never see it.
	MessageNote = "note"
)

// TicketMessage is one post in a ticket.
type TicketMessage struct {
	ID            int64  `json:"id"`
	TicketID      int64  `json:"ticket_id"`
	Kind          string `json:"kind"`
	AuthorUserID  *int64 `json:"author_user_id"`
	AuthorStaffID *int64 `json:"author_staff_id"`
	AuthorName    string `json:"author_name"`
	// AuthorEmail is the sender's address of a message that came by mail.
	AuthorEmail string `json:"author_email"`
	Body        string `json:"body"`
	Source      string `json:"source"`
	// MailMessageID is the Message-ID of the mail it came from.
	MailMessageID *string            `json:"mail_message_id"`
	Attachments   []TicketAttachment `json:"attachments"`
	CreatedAt     time.Time          `json:"created_at"`
}

// TicketAttachment is a file attached to a message; its content is served
// on its own route to those who may see the ticket.
type TicketAttachment struct {
	ID          int64     `json:"id"`
	TicketID    int64     `json:"ticket_id"`
	MessageID   int64     `json:"message_id"`
	Name        string    `json:"name"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	SHA256      string    `json:"sha256"`
	CreatedAt   time.Time `json:"created_at"`
}
