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
	// SubscriptionAwaitingParameters: the order is paid but lacks a required
	// order parameter; it activates once they are supplied.
	SubscriptionAwaitingParameters = "awaiting_parameters"
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
	// UpdatesUntil is a license's updates-until date: the
	// license_updates_expiring notices fall before it. Null for other products.
	UpdatesUntil *time.Time `json:"updates_until"`
	// Parameters are the order parameters given (by the order, or later).
	Parameters map[string]string `json:"parameters"`
}

// SubscriptionCreate orders a product for a customer. AutoRenew defaults to
// the product's setting.
type SubscriptionCreate struct {
	CustomerID int64 `json:"customer_id"`
	ProductID  int64 `json:"product_id"`
	AutoRenew  *bool `json:"auto_renew"`
	// Parameters are the product's order parameters (checked against it).
	Parameters map[string]string `json:"parameters"`
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
