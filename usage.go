package billing

import (
	"fmt"
	"regexp"
	"time"
)

// Bounds of usage: a batch, one event's quantity, and a period's total of a
// resource (the column's check), so that no sum or product overflows.
const (
	MaxUsageBatch    = 1000
	MaxUsageQuantity = 1_000_000_000_000
	MaxUsageTotal    = 1_000_000_000_000_000
	MaxResources     = 20
)

// UsageClockSkew is how far after now an event's time may be (a reporting
// clock a little ahead); a later one is refused.
const UsageClockSkew = 5 * time.Minute

// Resource is something a product's service consumes and that is counted
// per period: an amount is included, each unit beyond costs OveragePrice
// (minor units of the product's currency).
type Resource struct {
	Name         string `json:"name"`
	Unit         string `json:"unit"`
	Included     int64  `json:"included"`
	OveragePrice int64  `json:"overage_price"`
}

var resourceNameRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,49}$`)

// validateResources checks a product's resources.
func validateResources(v *Validator, rs []Resource) {
	v.Check(len(rs) <= MaxResources, "resources", fmt.Sprintf("must be at most %d", MaxResources))
	seen := map[string]bool{}
	for i, r := range rs {
		f := fmt.Sprintf("resources[%d]", i)
		v.Check(resourceNameRE.MatchString(r.Name), f+".name", "must be 1 to 50 lower-case letters, digits or _, starting with a letter (disk, traffic, minutes)")
		v.Check(!seen[r.Name], f+".name", "is declared twice")
		seen[r.Name] = true
		v.Text(f+".unit", r.Unit, 20)
		v.Check(r.Included >= 0 && r.Included <= MaxUsageTotal, f+".included", fmt.Sprintf("must be 0 to %d units", int64(MaxUsageTotal)))
		v.Check(r.OveragePrice >= 0 && r.OveragePrice <= MaxAmount, f+".overage_price", fmt.Sprintf("must be 0 to %d minor units", MaxAmount))
	}
}

// UsageEvent is one measurement a service reports: Quantity units of
// Resource used at At. IdempotencyKey makes a resent event count once per
// subscription.
type UsageEvent struct {
	Resource       string     `json:"resource"`
	Quantity       int64      `json:"quantity"`
	IdempotencyKey string     `json:"idempotency_key"`
	At             *time.Time `json:"at"`
}

// UsageInput is a batch of events of one subscription.
type UsageInput struct {
	Events []UsageEvent `json:"events"`
}

// Validate checks the shape of every event; what depends on the
// subscription (its resources, its periods) the store checks.
func (u *UsageInput) Validate() error {
	var v Validator
	v.Check(len(u.Events) >= 1 && len(u.Events) <= MaxUsageBatch, "events", fmt.Sprintf("must hold 1 to %d events", MaxUsageBatch))
	for i, e := range u.Events {
		f := fmt.Sprintf("events[%d]", i)
		v.Check(e.Resource != "", f+".resource", "is required")
		v.Check(e.Quantity >= 0, f+".quantity", "must not be negative")
		v.Check(e.Quantity <= MaxUsageQuantity, f+".quantity", fmt.Sprintf("must be at most %d", int64(MaxUsageQuantity)))
		v.Text(f+".idempotency_key", e.IdempotencyKey, 200)
	}
	return v.Err()
}

// UsageResult is what an ingest counted: Accepted events are new, Duplicates
// were counted before (their indexes in the batch).
type UsageResult struct {
	Accepted         int   `json:"accepted"`
	Duplicates       int   `json:"duplicates"`
	DuplicateIndexes []int `json:"duplicate_indexes"`
}

// ResourceUsage is a period's usage of one resource. Overage is the units
// beyond Included; OverageAmount what they cost; Percent is Used of
// Included (0 when nothing is included).
type ResourceUsage struct {
	Resource      string `json:"resource"`
	Unit          string `json:"unit"`
	Used          int64  `json:"used"`
	Included      int64  `json:"included"`
	Overage       int64  `json:"overage"`
	OveragePrice  int64  `json:"overage_price"`
	OverageAmount int64  `json:"overage_amount"`
	Percent       int64  `json:"percent"`
}

// Usage is a subscription's usage in one period.
type Usage struct {
	SubscriptionID int64     `json:"subscription_id"`
	Period         int       `json:"period"`
	PeriodFrom     time.Time `json:"period_from"`
	PeriodUntil    time.Time `json:"period_until"`
	Currency       string    `json:"currency"`
	// Closed: the overage was charged; no more usage is counted.
	Closed        bool            `json:"closed"`
	OverageAmount int64           `json:"overage_amount"`
	Resources     []ResourceUsage `json:"resources"`
}

// Measure fills in a resource's overage and percent from its use, checked:
// Used and Included are at most MaxUsageTotal, the price at most MaxAmount,
// and an amount beyond MaxAmount is refused.
func (r *ResourceUsage) Measure() error {
	r.Overage = max(0, r.Used-r.Included)
	if r.Included > 0 {
		r.Percent = r.Used * 100 / r.Included
	}
	if r.Overage > 0 && r.OveragePrice > MaxAmount/r.Overage {
		return Errorf(EINVALID, "the overage of %s, %d %s at %d, is beyond the largest amount (%d)", r.Resource, r.Overage, r.Unit, r.OveragePrice, MaxAmount)
	}
	r.OverageAmount = r.Overage * r.OveragePrice
	return nil
}

// OverageChargeKey is the idempotency key of the overage charge of a
// subscription's period.
func OverageChargeKey(subscriptionID int64, period int) string {
	return fmt.Sprintf("subscription:%d:period:%d:overage", subscriptionID, period)
}
