package billing

import "time"

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
	ID            int64      `json:"id"`
	CustomerID    int64      `json:"customer_id"`
	ProductID     int64      `json:"product_id"`
	Status        string     `json:"status"`
	PaidUntil     *time.Time `json:"paid_until"`
	AutoRenew     bool       `json:"auto_renew"`
	SuspendReason string     `json:"suspend_reason"`
	WorkflowID    string     `json:"workflow_id"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
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
	ID                int64     `json:"id"`
	SubscriptionID    *int64    `json:"subscription_id"`
	CustomerID        int64     `json:"customer_id"`
	Period            int       `json:"period"`
	Milestone         string    `json:"milestone"`
	Channel           string    `json:"channel"`
	Recipient         string    `json:"recipient"`
	Template          string    `json:"template"`
	Subject           string    `json:"subject"`
	Status            string    `json:"status"`
	ProviderMessageID string    `json:"provider_message_id"`
	Error             string    `json:"error"`
	CreatedAt         time.Time `json:"created_at"`
}

// Notice channels and statuses. "sending" is claimed but not confirmed: a
// crash mid-send leaves it so, and it is not sent again.
const (
	ChannelEmail  = "email"
	ChannelSMS    = "sms"
	NoticeSending = "sending"
	NoticeSent    = "sent"
	NoticeFailed  = "failed"
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
