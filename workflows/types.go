package workflows

import (
	"fmt"
	"time"

	"github.com/tempobill/billing/activities"
)

// SubscriptionWorkflowID is the workflow ID of subscription id.
func SubscriptionWorkflowID(id int64) string {
	return fmt.Sprintf("subscription-%d", id)
}

// Names of the subscription workflow's signal, query and updates.
const (
	SignalPaymentReceived = "payment-received"
	QuerySchedule         = "schedule"
	UpdateSuspend         = "suspend"
	UpdateResume          = "resume"
	UpdateCancel          = "cancel"
	UpdateRenewNow        = "renew-now"
	UpdateChangeProduct   = "change-product"
	UpdateSetAutoRenew    = "set-auto-renew"
	UpdateExtend          = "extend"
)

// Milestones of a subscription's life. Notices, custom steps and the
// deduplication of sends are keyed by them.
const (
	MilestoneActivated  = "activated"
	MilestoneIncoming   = "incoming"             // product payment state (seed 002)
	MilestoneLowMoney   = "insufficient_funds"   // auto-renewing, balance below the price
	MilestoneExpiring   = "expiring"             // no automatic renewal, the period ends soon
	MilestoneRenewal    = "renewal"              // the charge for the next period
	MilestoneApproved   = "approved"             // product payment state: charged
	MilestoneNSF        = "non_sufficient_funds" // product payment state: not enough balance
	MilestoneDeclined   = "declined"             // product payment state: refused otherwise
	MilestoneRenewed    = "renewed"
	MilestoneSuspended  = "suspended"
	MilestoneResumed    = "resumed"
	MilestoneDeleteSoon = "delete_soon"
	MilestoneDeleted    = "deleted"
	MilestoneCancelled  = "cancelled"
)

// ServiceMilestones are the milestones whose notices use the service
// templates (built-in defaults staff can replace), and where custom steps can run.
var ServiceMilestones = []string{MilestoneActivated, MilestoneLowMoney, MilestoneExpiring, MilestoneRenewed,
	MilestoneSuspended, MilestoneResumed, MilestoneDeleteSoon, MilestoneDeleted, MilestoneCancelled}

// Policy holds the system-wide settings a subscription runs with, fixed at
// its start so that its workflow stays deterministic.
type Policy struct {
	// LowMoneyDays: days before the paid-until date on which "insufficient
	// funds" or "going to expire" notices go out (LowMoneyExpirePeriod).
	LowMoneyDays []int
	// NearDeleteDays: days before deletion on which "will be deleted soon"
	// notices go out (NearDeletePeriod).
	NearDeleteDays []int
	// GraceDays: days a suspended service is kept before deletion, unless
	// its product says otherwise.
	GraceDays int
	// SuspendAfterDays: days after a failed renewal before suspension; a
	// payment in between renews the service.
	SuspendAfterDays int
}

// DefaultPolicy is BILLmanager's defaults: 5 4 3 2 1 0, 7 5 3 1, and 14 days of grace.
var DefaultPolicy = Policy{LowMoneyDays: []int{5, 4, 3, 2, 1, 0}, NearDeleteDays: []int{7, 5, 3, 1}, GraceDays: 14, SuspendAfterDays: 1}

// SubscriptionInput starts a subscription's workflow, or continues it as
// new with State carried over.
type SubscriptionInput struct {
	SubscriptionID int64
	CustomerID     int64
	AutoRenew      bool
	Policy         Policy
	State          *SubscriptionState
}

// SubscriptionState is everything the workflow knows, carried across
// continue-as-new at every period boundary.
type SubscriptionState struct {
	Status string
	// Period is the number of periods charged so far; the next charge is Period+1.
	Period int
	// PeriodStart is when the current period began to be tracked; notices
	// due before it are skipped.
	PeriodStart       time.Time
	PaidUntil         time.Time
	AutoRenew         bool
	CancelAtPeriodEnd bool
	NextProductID     int64
	SuspendedAt       time.Time
	SuspendReason     string
	SuspendedByStaff  bool
	// Expired: suspended at the end of a period without automatic renewal;
	// a payment alone does not bring it back, "renew now" does.
	Expired bool
	// Cycle counts suspensions, resumptions and extensions within the
	// period; notice keys carry it (see cycleKey).
	Cycle int
	// Followups are notices and custom steps an action left to do.
	Followups []Followup
	// RenewalFailed is set when the charge at PaidUntil failed: the service
	// waits for a payment until suspension.
	RenewalFailed bool
	// Done lists the milestones of this period already handled.
	Done           []string
	PaymentPending bool
	Plan           activities.Plan
}

// SubscriptionResult is how a subscription ended.
type SubscriptionResult struct {
	Status  string
	Periods int
}

// Schedule is the live view of a subscription, answered by QuerySchedule.
type Schedule struct {
	Status            string          `json:"status"`
	Period            int             `json:"period"`
	PaidUntil         *time.Time      `json:"paid_until"`
	AutoRenew         bool            `json:"auto_renew"`
	CancelAtPeriodEnd bool            `json:"cancel_at_period_end"`
	SuspendReason     string          `json:"suspend_reason,omitempty"`
	WaitingForPayment bool            `json:"waiting_for_payment"`
	NextProductID     int64           `json:"next_product_id,omitempty"`
	Price             int64           `json:"price"`
	Currency          string          `json:"currency"`
	Next              []ScheduledStep `json:"next"`
}

// ScheduledStep is a milestone the workflow will reach, and when.
type ScheduledStep struct {
	Milestone string    `json:"milestone"`
	At        time.Time `json:"at"`
	Detail    string    `json:"detail,omitempty"`
}

// Update inputs and results: one struct each, so fields can be added.
type (
	// SuspendInput suspends an active service.
	SuspendInput struct{ Reason string }
	// ResumeInput resumes a suspended service.
	ResumeInput struct{}
	// CancelInput cancels now or at the end of the paid period.
	CancelInput struct{ AtPeriodEnd bool }
	// RenewNowInput charges the next period now. Period, if set, is the
	// number of the period to charge: a repeated request for a period
	// already charged is rejected instead of charging one more.
	RenewNowInput struct{ Period int }
	// ChangeProductInput switches the product from the next period.
	ChangeProductInput struct{ ProductID int64 }
	// SetAutoRenewInput turns automatic renewal on or off.
	SetAutoRenewInput struct{ Enabled bool }
	// ExtendInput moves the paid-until date on by Days, free.
	ExtendInput struct{ Days int }
	// PaymentReceived is the signal that the customer's balance was credited.
	PaymentReceived struct{ PaymentID int64 }
)
