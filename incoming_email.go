package billing

// The statuses of an incoming email: waiting for staff, made a ticket, or
// discarded.
const (
	IncomingNew       = "new"
	IncomingTicket    = "ticket"
	IncomingDiscarded = "discarded"
)

// IncomingStatuses and IncomingReasons list the values of an incoming
// email's status and reason.
var (
	IncomingStatuses = []string{IncomingNew, IncomingTicket, IncomingDiscarded}
	IncomingReasons  = []string{IncomingUnknownSender, IncomingNotUnique, IncomingMalformed, IncomingTooLarge}
)

// IncomingEmailView is an incoming email as staff see it: HasRaw says
// whether the mail as received is kept (GET /incoming-emails/{id}/raw).
// In a list, Body holds the first 300 characters of the text.
type IncomingEmailView struct {
	IncomingEmail
	HasRaw bool `json:"has_raw"`
}

// IncomingEmailFilter selects incoming emails to list. Departments, when
// not nil, limits the list to those departments (staff who are not admins
// see only theirs).
type IncomingEmailFilter struct {
	Departments  []int64
	DepartmentID *int64
	GatewayID    *int64
	Status       string
	Reason       string
	PageRequest
}

// IncomingEmailToTicket is staff's choice of whose ticket an incoming email
// becomes: a customer, the department (the email's if nil) and, if given,
// which of the customer's users the mail is from.
type IncomingEmailToTicket struct {
	CustomerID   int64  `json:"customer_id"`
	DepartmentID *int64 `json:"department_id"`
	UserID       *int64 `json:"user_id"`
}

// Validate checks the request's fields.
func (in IncomingEmailToTicket) Validate() error {
	var v Validator
	v.Check(in.CustomerID > 0, "customer_id", "is required: the customer the ticket is for")
	v.Check(in.DepartmentID == nil || *in.DepartmentID > 0, "department_id", "must be a department's id")
	v.Check(in.UserID == nil || *in.UserID > 0, "user_id", "must be a user's id")
	return v.Err()
}
