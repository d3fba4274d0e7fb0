package workflows

import (
	"time"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
)

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
	UpdateUpdatesUntil    = "set-updates-until"
	UpdateParameters      = "set-parameters"
)

// Policy holds the system-wide settings a subscription runs with: when its
// notices, suspension, deletion and an unpaid order's expiry fall.
type Policy = billing.Policy

// DefaultPolicy is BILLmanager's defaults: 5 4 3 2 1 0, 7 5 3 1, 14 days of
// grace; and unpaid orders expire after 3 days.
var DefaultPolicy = billing.DefaultSettings().Policy()

// SubscriptionInput starts a subscription's workflow, or continues it as
// new with State carried over.
type SubscriptionInput struct {
	SubscriptionID int64
	CustomerID     int64
	AutoRenew      bool
	// Policy is the settings at the order, until a charge reads newer ones
	// (SubscriptionState.Policy).
	Policy Policy
	State  *SubscriptionState
	// UpdatesUntil is a license's updates-until date, set at the order
	// (zero: none); the license_updates_expiring notices fall before it.
	UpdatesUntil time.Time
	// CycleCost is the cycle-cost version of the run that continued as new
	// into this one (4 or later; 0 for a first run or an older one): this
	// run takes it without asking when it is the newest this code knows
	// (see cycleCost).
	CycleCost int `json:",omitempty"`
}

// SubscriptionState is everything the workflow knows, carried across
// continue-as-new at every period boundary.
type SubscriptionState struct {
	Status string
	// Period is the number of periods charged so far; the next charge is Period+1.
	Period int
	// PeriodStart is when the current period began to be tracked; notices
	// due before it are skipped.
	PeriodStart time.Time
	PaidUntil   time.Time
	// AnchorDay is the day of the month a monthly service is billed on, set
	// by its first charge (and moved by an extension); 0 before that.
	AnchorDay         int
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
	// OrderedAt is when the order was first tried; an unpaid order expires
	// Policy.UnpaidOrderDays after it.
	OrderedAt time.Time
	// RenewalFailed is set when the charge at PaidUntil failed: the service
	// waits for a payment until suspension.
	RenewalFailed bool
	// Done lists the milestones of this period already handled.
	Done           []string
	PaymentPending bool
	Plan           activities.Plan
	// NextPlan is the plan of the next period, read at its first notice and
	// charged at its renewal; nil until then (and after a change of product).
	NextPlan *activities.Plan
	// OpenUsage: a period that counts usage may still be open; its overage
	// is charged when it ends (chargeOverage). False for services whose
	// products declare no resources: they run no overage activity.
	OpenUsage bool
	// UsageTracked: OpenUsage has been kept by every run since the
	// service's periods began, or looked at once (usage-overage version 2).
	UsageTracked bool
	// Policy is the policy of the stored settings, read with the last charge
	// (the order's or a renewal's): the milestones up to the next charge
	// fall by it. Nil: none read yet, the input's Policy holds.
	Policy *Policy
	// LicenseUpdates: the license_updates_expiring notices are scheduled
	// (the "license-updates" change) before UpdatesUntil, those due after
	// UpdatesSetAt (when the date was set: a date moved nearer doesn't send
	// the notices whose days have passed).
	LicenseUpdates bool
	UpdatesUntil   time.Time
	UpdatesSetAt   time.Time
	// UpdatesNoticed is when the last of those notices was due: none up to
	// it is sent again, in this period or the next.
	UpdatesNoticed time.Time
	// AwaitingParameters are the required order parameters a paid order
	// waits for (status awaiting_parameters; the "order-parameters" change).
	AwaitingParameters []billing.OrderParameter
	// ScheduleVersion numbers the live schedules published to the
	// subscription's row (saveSchedule); ScheduleHash is the last one's.
	ScheduleVersion int64
	ScheduleHash    uint64
}

// SubscriptionResult is how a subscription ended.
type SubscriptionResult struct {
	Status  string
	Periods int
}

// Schedule is the live view of a subscription, answered by QuerySchedule.
type Schedule struct {
	Status            string     `json:"status"`
	Period            int        `json:"period"`
	PaidUntil         *time.Time `json:"paid_until"`
	AnchorDay         int        `json:"anchor_day,omitempty"`
	AutoRenew         bool       `json:"auto_renew"`
	CancelAtPeriodEnd bool       `json:"cancel_at_period_end"`
	SuspendReason     string     `json:"suspend_reason,omitempty"`
	WaitingForPayment bool       `json:"waiting_for_payment"`
	NextProductID     int64      `json:"next_product_id,omitempty"`
	Price             int64      `json:"price"`
	Currency          string     `json:"currency"`
	// PriceAnnounced: Price is the next period's, as its notices named it;
	// otherwise it is the current period's, and the product's price now is
	// what the next period will cost.
	PriceAnnounced bool            `json:"price_announced"`
	Next           []ScheduledStep `json:"next"`
	// AwaitingParameters are the required order parameters the paid order
	// waits for before it activates (status awaiting_parameters).
	AwaitingParameters []billing.OrderParameter `json:"awaiting_parameters,omitempty"`
}

// ScheduledStep is a milestone the workflow will reach, and when.
type ScheduledStep struct {
	Milestone string    `json:"milestone"`
	At        time.Time `json:"at"`
	Detail    string    `json:"detail,omitempty"`
	// SentBy names who sends a notice other than the workflow: "reminders",
	// the reminders schedule (RemindersWorkflow).
	SentBy string `json:"sent_by,omitempty"`
}

// SentByReminders: a step the reminders schedule sends (ScheduledStep.SentBy).
const SentByReminders = "reminders"

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
	// SetUpdatesUntilInput sets a license's updates-until date.
	SetUpdatesUntilInput struct{ At time.Time }
	// SetParametersInput tells the workflow which order parameters the
	// subscription has now (their values are in its row). With Checked,
	// Missing are the required parameters of its product, as it is now,
	// still lacking: one staff dropped from the product is no longer waited for.
	SetParametersInput struct {
		Given   []string
		Missing []string
		Checked bool
	}
	// PaymentReceived is the signal that the customer's balance was credited.
	PaymentReceived struct{ PaymentID int64 }
)

// Action is a staff or client action on a subscription, sent to its
// workflow as the update UpdateName names: SuspendInput, ResumeInput,
// CancelInput, RenewNowInput, ChangeProductInput, SetAutoRenewInput or
// ExtendInput, SetUpdatesUntilInput or SetParametersInput.
type Action interface {
	UpdateName() string
}

// UpdateName returns UpdateSuspend.
func (SuspendInput) UpdateName() string { return UpdateSuspend }

// UpdateName returns UpdateResume.
func (ResumeInput) UpdateName() string { return UpdateResume }

// UpdateName returns UpdateCancel.
func (CancelInput) UpdateName() string { return UpdateCancel }

// UpdateName returns UpdateRenewNow.
func (RenewNowInput) UpdateName() string { return UpdateRenewNow }

// UpdateName returns UpdateChangeProduct.
func (ChangeProductInput) UpdateName() string { return UpdateChangeProduct }

// UpdateName returns UpdateSetAutoRenew.
func (SetAutoRenewInput) UpdateName() string { return UpdateSetAutoRenew }

// UpdateName returns UpdateExtend.
func (ExtendInput) UpdateName() string { return UpdateExtend }

// UpdateName returns UpdateUpdatesUntil.
func (SetUpdatesUntilInput) UpdateName() string { return UpdateUpdatesUntil }

// UpdateName returns UpdateParameters.
func (SetParametersInput) UpdateName() string { return UpdateParameters }
