package billing

import (
	"encoding/json"
	"slices"
	"strings"
)

// TicketCreate opens a ticket through the API: a client for their own
// customer (CustomerID left out), staff for the customer they name.
type TicketCreate struct {
	CustomerID   *int64             `json:"customer_id"`
	DepartmentID int64              `json:"department_id"`
	Subject      string             `json:"subject"`
	Body         string             `json:"body"`
	Attachments  []AttachmentUpload `json:"attachments"`
}

// Validate reports every invalid field of in.
func (in *TicketCreate) Validate() error {
	var v Validator
	v.Check(in.DepartmentID > 0, "department_id", "is required")
	v.Text("subject", in.Subject, 200)
	validateBody(&v, in.Body)
	validateUploads(&v, in.Attachments)
	return v.Err()
}

func validateBody(v *Validator, body string) {
	v.Check(strings.TrimSpace(body) != "", "body", "is required")
	v.LongText("body", body, MaxTicketBody)
}

// MaxTicketBody is the longest message body, in characters.
const MaxTicketBody = 50000

// TicketPost is a message posted to a ticket through the API. Internal and
// Status are for staff only: an internal note, and the status the ticket
// takes after a staff answer (answered if left out).
type TicketPost struct {
	Body        string             `json:"body"`
	Internal    bool               `json:"internal"`
	Status      *string            `json:"status"`
	Attachments []AttachmentUpload `json:"attachments"`
}

// Validate reports every invalid field of in.
func (in *TicketPost) Validate() error {
	var v Validator
	validateBody(&v, in.Body)
	if in.Status != nil {
		v.OneOf("status", *in.Status, TicketAnswered, TicketWaitingForClient, TicketClosed)
		v.Check(!in.Internal, "status", "a note changes no status; leave it out")
	}
	validateUploads(&v, in.Attachments)
	return v.Err()
}

// validateUploads checks what every attachment sent through the API needs
// whatever the limits (which AddAttachments enforces): a name, a content
// type and its content, each error naming its file (attachments[2].name).
func validateUploads(v *Validator, files []AttachmentUpload) {
	for i, f := range files {
		v.Text(field(i, "name"), f.Name, maxTicketAttachmentName)
		v.Text(field(i, "content_type"), f.ContentType, 255)
		v.Check(f.Content != nil, field(i, "content"), "is required: the file's bytes, base64-encoded")
	}
}

// TicketUpdate changes a ticket: staff set any of the fields (AssigneeIDSet
// says assignee_id was given, possibly null); a client only closes the
// ticket or opens it again.
type TicketUpdate struct {
	Status        *string `json:"status"`
	AssigneeID    *int64  `json:"assignee_id"`
	AssigneeIDSet bool    `json:"-"`
	DepartmentID  *int64  `json:"department_id"`
}

// UnmarshalJSON tells "assignee_id": null (unassign) from no assignee_id.
func (up *TicketUpdate) UnmarshalJSON(b []byte) error {
	type plain TicketUpdate
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return err
	}
	_, up.AssigneeIDSet = fields["assignee_id"]
	return json.Unmarshal(b, (*plain)(up))
}

// Validate reports every invalid field of up, for a client if client (who
// may only close the ticket or open it again).
func (up *TicketUpdate) Validate(client bool) error {
	var v Validator
	if up.Status != nil {
		if client {
			v.OneOf("status", *up.Status, TicketOpen, TicketClosed)
		} else {
			v.OneOf("status", *up.Status, TicketStatuses...)
		}
	}
	return v.Err()
}

// TicketAuthor is who writes a ticket's message: a client user, a staff
// member, or (by mail) a sender known by address. The mail gateway sets
// Source email and the mail's Message-ID, so that a mail read twice is
// stored once.
type TicketAuthor struct {
	UserID        int64
	StaffID       int64
	Name          string
	Email         string
	Source        string // SourceAPI if empty
	MailMessageID string
}

// TicketFilter selects tickets to list. Departments, when not nil, limits
// the list to those departments (staff who are not admins see only theirs).
type TicketFilter struct {
	Departments  []int64
	DepartmentID *int64
	Status       string
	AssigneeID   *int64
	Unassigned   bool
	CustomerID   *int64
	PageRequest
}

// TicketView is a ticket with its messages, as GET /tickets/{id} shows it.
type TicketView struct {
	Ticket
	Messages []TicketMessage `json:"messages"`
}

// ForClient returns v without what a client never sees: internal notes and
// their attachments.
func (v TicketView) ForClient() TicketView {
	v.Messages = slices.DeleteFunc(slices.Clone(v.Messages), func(m TicketMessage) bool { return m.Kind == MessageNote })
	return v
}

// PublicDepartment is what a client sees of a department of the support
// center: not its mailbox or its staff.
type PublicDepartment struct {
	ID                int64  `json:"id"`
	Name              string `json:"name"`
	RequiresIncidents bool   `json:"requires_incidents"`
}
