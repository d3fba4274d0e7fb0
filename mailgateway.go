package billing

import "time"

// Kinds of mail gateways (seed 003): an external mail server the provider
// reaches over the network, or a local one on the billing system's host.
const (
	GatewayExternal = "external"
	GatewayLocal    = "local"
)

// What a gateway does with a mail it has turned into a ticket (seed 003's
// note: some POP3 servers don't keep the read flag).
const (
	AfterProcessingMarkRead = "mark_read"
	AfterProcessingDelete   = "delete"
)

// MailGateway is an incoming mail gateway: a mailbox polled for unread mail
// that becomes tickets of its department.
type MailGateway struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"` // external, local
	// Protocol is imap or pop3; Security implicit, starttls or none (none
	// only for a local gateway).
	Protocol string `json:"protocol"`
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Security string `json:"security"`
	Login    string `json:"login"`
	// Password is stored encrypted (MAIL_GATEWAY_KEY), never returned or logged.
	Password string `json:"-"`
	// Address is the gateway's own mailbox address: only mail whose To or
	// Cc holds it is taken.
	Address      string `json:"address"`
	DepartmentID int64  `json:"department_id"`
	// PollSeconds is how often the mailbox is read.
	PollSeconds     int    `json:"poll_seconds"`
	AfterProcessing string `json:"after_processing"`
	// MaxMessageBytes bounds the size of a mail taken.
	MaxMessageBytes int64      `json:"max_message_bytes"`
	Paused          bool       `json:"paused"`
	LastPollAt      *time.Time `json:"last_poll_at"`
	LastError       string     `json:"last_error"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
}

// Why a mail went to Incoming emails.
const (
	IncomingUnknownSender = "unknown_sender"
	IncomingNotUnique     = "not_unique"
	IncomingMalformed     = "malformed"
	IncomingTooLarge      = "too_large"
)

// IncomingEmail is a mail a gateway could not turn into a ticket by itself;
// staff turn it into a ticket for a chosen customer, or discard it.
type IncomingEmail struct {
	ID           int64      `json:"id"`
	GatewayID    int64      `json:"gateway_id"`
	DepartmentID int64      `json:"department_id"`
	FromAddress  string     `json:"from_address"`
	FromName     string     `json:"from_name"`
	Subject      string     `json:"subject"`
	Body         string     `json:"body"`
	MessageID    *string    `json:"message_id"`
	Reason       string     `json:"reason"`
	Detail       string     `json:"detail"`
	Status       string     `json:"status"` // new, ticket, discarded
	TicketID     *int64     `json:"ticket_id"`
	CustomerID   *int64     `json:"customer_id"`
	HandledBy    *int64     `json:"handled_by"`
	HandledAt    *time.Time `json:"handled_at"`
	CreatedAt    time.Time  `json:"created_at"`
}
