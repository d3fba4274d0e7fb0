package billing

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
	// MilestoneOrderExpired: an order not paid within Policy.UnpaidOrderDays
	// is cancelled.
	MilestoneOrderExpired = "order_expired"
	// MilestoneLicenseUpdates: a license's update subscription ends soon
	// (its updates-until date), on each day of low_money_expire_period before it.
	MilestoneLicenseUpdates = "license_updates_expiring"
	// MilestoneParametersNeeded: a paid order lacks required order
	// parameters; it activates once they are supplied.
	MilestoneParametersNeeded = "order_parameters_needed"
)

// ServiceMilestones are the milestones whose notices use the service
// templates (built-in defaults staff can replace), and where custom steps can run.
var ServiceMilestones = []string{MilestoneActivated, MilestoneLowMoney, MilestoneExpiring, MilestoneRenewed,
	MilestoneSuspended, MilestoneResumed, MilestoneDeleteSoon, MilestoneDeleted, MilestoneCancelled, MilestoneOrderExpired}
