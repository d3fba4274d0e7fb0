package billing

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// Reasons of support incident entries: staff grant incidents or correct the
// balance, a subscription's period charge buys them (a product's
// support_incidents), a ticket in a department that requires incidents
// uses one, and a refund of a period charge takes back what is left of
// what it bought.
const (
	IncidentGrant      = "grant"
	IncidentPurchase   = "purchase"
	IncidentTicket     = "ticket"
	IncidentCorrection = "correction"
	IncidentRefund     = "refund"
)

// MaxIncidentGrant bounds one staff grant or correction (either way).
const MaxIncidentGrant = 1000

// SupportIncident is one entry of a customer's support incidents ledger:
// Delta incidents added (a grant or purchase) or taken (a ticket, a
// correction, a refund: 0 when none was left). The balance is the sum and
// never goes below 0.
type SupportIncident struct {
	ID         int64  `json:"id"`
	CustomerID int64  `json:"customer_id"`
	Delta      int    `json:"delta"`
	Reason     string `json:"reason"`
	// TicketID is the ticket that used it (reason ticket).
	TicketID *int64 `json:"ticket_id"`
	// SubscriptionID and Period are the period charge that bought it
	// (reason purchase) or whose refund took it back (reason refund).
	SubscriptionID *int64 `json:"subscription_id"`
	Period         *int   `json:"period"`
	// StaffID and Note: who granted or corrected, and why. Clients see
	// neither (ForClient).
	StaffID   *int64    `json:"staff_id"`
	Note      string    `json:"note"`
	CreatedAt time.Time `json:"created_at"`
}

// ForClient is e as a client sees it: without staff's name and note.
func (e SupportIncident) ForClient() SupportIncident {
	e.StaffID, e.Note = nil, ""
	return e
}

// Incidents is a customer's support incident balance and a page of the
// entries that make it up, newest first.
type Incidents struct {
	CustomerID int64 `json:"customer_id"`
	Balance    int64 `json:"balance"`
	Page[SupportIncident]
}

// IncidentGrantInput is staff's grant (Count > 0) or correction (Count < 0)
// of a customer's support incidents.
type IncidentGrantInput struct {
	Count int    `json:"count"`
	Note  string `json:"note"`
}

// Validate reports every invalid field of in.
func (in IncidentGrantInput) Validate() error {
	var v Validator
	v.Check(in.Count != 0 && in.Count >= -MaxIncidentGrant && in.Count <= MaxIncidentGrant, "count",
		fmt.Sprintf("must be 1 to %d to grant incidents, or -1 to -%d to take some back", MaxIncidentGrant, MaxIncidentGrant))
	v.OptionalText("note", in.Note, 500)
	return v.Err()
}

// Reason is the entry reason of in: a grant, or a correction when it takes
// incidents back.
func (in IncidentGrantInput) Reason() string {
	if in.Count < 0 {
		return IncidentCorrection
	}
	return IncidentGrant
}

// incidentRequired begins the message of ErrIncidentRequired; the mail
// gateway answers the same situation with its "a support incident is
// required" notice.
const incidentRequired = "a support incident is required"

// ErrIncidentRequired is the refusal of a ticket in a department that
// requires support incidents when the customer has none left (ECONFLICT),
// saying how to get one.
func ErrIncidentRequired(customerID int64, department string) *Error {
	return &Error{Code: ECONFLICT, Message: fmt.Sprintf("%s to open a ticket in %q, and customer %d has none left: "+
		"order a product that includes support incidents, or ask the provider's staff to grant some", incidentRequired, department, customerID),
		Fields: map[string]string{"department_id": "requires a support incident; the customer has none left"}}
}

// IsIncidentRequired reports whether err is ErrIncidentRequired's refusal.
func IsIncidentRequired(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Code == ECONFLICT && strings.HasPrefix(e.Message, incidentRequired)
}
