package billing

import (
	"strconv"
	"time"
)

// SubscriptionWorkflowID is the ID of subscription id's Temporal workflow:
// the one place it is built.
func SubscriptionWorkflowID(id int64) string {
	return "subscription-" + strconv.FormatInt(id, 10)
}

// Subscription statuses. unpaid: ordered, first period not paid yet; active:
// paid until PaidUntil; suspended: unpaid or expired (or by staff), kept until
// deletion; cancelled and deleted are final.
const (
	SubscriptionUnpaid    = "unpaid"
	SubscriptionActive    = "active"
	SubscriptionSuspended = "suspended"
	SubscriptionCancelled = "cancelled"
	SubscriptionDeleted   = "deleted"
)

// Subscription is a customer's service: one product, renewed each period by
// its Temporal workflow, which owns its life. The row mirrors the workflow's
// state for lists and filters.
type Subscription struct {
	ID         int64      `json:"id"`
	CustomerID int64      `json:"customer_id"`
	ProductID  int64      `json:"product_id"`
	Status     string     `json:"status"`
	PaidUntil  *time.Time `json:"paid_until"`
	// AnchorDay is the day of the month a monthly service is billed on (its
	// order's day in the customer's time zone); a short month clamps only the
	// period that ends in it. Null for other units and before the first charge.
	AnchorDay     *int      `json:"anchor_day"`
	AutoRenew     bool      `json:"auto_renew"`
	SuspendReason string    `json:"suspend_reason"`
	WorkflowID    string    `json:"workflow_id"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// SubscriptionCreate orders a product for a customer. AutoRenew defaults to
// the product's setting.
type SubscriptionCreate struct {
	CustomerID int64 `json:"customer_id"`
	ProductID  int64 `json:"product_id"`
	AutoRenew  *bool `json:"auto_renew"`
}

// Validate reports every invalid field of s.
func (s *SubscriptionCreate) Validate() error {
	var v Validator
	v.Check(s.CustomerID > 0, "customer_id", "is required")
	v.Check(s.ProductID > 0, "product_id", "is required")
	return v.Err()
}

// SubscriptionFilter selects subscriptions for a list.
type SubscriptionFilter struct {
	CustomerID *int64
	ProductID  *int64
	Status     string
	PageRequest
}

// Notice is the record of one message sent (or tried) to one recipient.
type Notice struct {
	ID                int64  `json:"id"`
	SubscriptionID    *int64 `json:"subscription_id"`
	CustomerID        int64  `json:"customer_id"`
	Period            int    `json:"period"`
	Milestone         string `json:"milestone"`
	Channel           string `json:"channel"`
	Recipient         string `json:"recipient"`
	Template          string `json:"template"`
	Subject           string `json:"subject"`
	Status            string `json:"status"`
	ProviderMessageID string `json:"provider_message_id"`
	Error             string `json:"error"`
	Attempts          int    `json:"attempts"`
	// RetryUntil is how long a notice that failed is sent again: until the
	// moment it is about (a renewal, a deletion), else a day.
	RetryUntil *time.Time `json:"retry_until"`
	CreatedAt  time.Time  `json:"created_at"`
	// Key, Body, SenderName and ReplyTo are kept to send it again (with the
	// same Message-ID, made from Key); not shown.
	Key        string `json:"-"`
	Body       string `json:"-"`
	SenderName string `json:"-"`
	ReplyTo    string `json:"-"`
}

// Notice channels and statuses (the README's "Notices" says what each means).
const (
	ChannelEmail = "email"
	ChannelSMS   = "sms"
	// NoticeSending: claimed by an attempt that has not recorded its outcome
	// yet; one that stays so (a crashed worker) is treated as unknown.
	NoticeSending = "sending"
	// NoticeSent: the server took it (250 after DATA; Twilio created it).
	NoticeSent = "sent"
	// NoticeFailed: not taken (refused connection, 4xx, no time left): sent
	// again until its retry horizon.
	NoticeFailed = "failed"
	// NoticeUnknown: the connection was lost after the whole message went
	// out: an email is sent again with the same Message-ID; an SMS is not
	// (Twilio can't deduplicate), it stays unknown.
	NoticeUnknown = "unknown"
	// NoticeRejected: refused for good (5xx, an invalid number): not sent again.
	NoticeRejected = "rejected"
	// NoticeExpired: not delivered before its moment passed: not sent late.
	NoticeExpired = "expired"
)

// NoticeTemplate is the text of a service notice (activated, renewed, ...).
// Built-in defaults exist for each; staff can replace them.
type NoticeTemplate struct {
	Milestone string `json:"milestone"`
	Subject   string `json:"subject"`
	Body      string `json:"body"`
	SMSBody   string `json:"sms_body"`
	Custom    bool   `json:"custom"` // false: the built-in default
}

// Validate reports every invalid field of t.
func (t *NoticeTemplate) Validate() error {
	var v Validator
	v.Text("subject", t.Subject, 300)
	v.LongText("body", t.Body, 20000)
	v.Check(t.Body != "", "body", "is required")
	v.LongText("sms_body", t.SMSBody, 1600)
	return v.Err()
}
