package workflows

import (
	"fmt"
	"slices"
	"time"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/zoneinfo"
)

// event is one milestone the workflow will handle, at At. Notices are
// skippable: due before the period was tracked, they are not sent late.
type event struct {
	Key       string // unique within a period, e.g. "low_money:3"
	Milestone string
	At        time.Time
	Days      int // days before the date the notice is about
	notice    bool
	order     int // among events at the same time
	// reminder: a notice N > 0 days before the paid-until date about the
	// balance or the expiry, which the reminders schedule sends in runs of
	// cycle-cost version 3 (see subscription.batched).
	reminder bool
}

// Event keys of the milestones that change the service.
const (
	keyRenewal     = "renewal"
	keySuspend     = "suspend"
	keyExpire      = "expire"
	keyCancel      = "cancel"
	keyDelete      = "delete"
	keyOrder       = "order"
	keyExpireOrder = "expire_order"
)

// addDays moves t by n "days" of the plan. For products billed in seconds or
// minutes, a day setting counts that unit instead, so that a whole lifecycle
// fits in a demo or a test. Real days are calendar days in the customer's
// time zone, so a notice "3 days before" keeps its wall-clock time across DST.
func addDays(p activities.Plan, t time.Time, n int) time.Time {
	switch p.PeriodUnit {
	case billing.PeriodSecond, billing.PeriodMinute:
		return billing.AddPeriods(t, p.PeriodUnit, n)
	}
	return t.In(location(p)).AddDate(0, 0, n).UTC()
}

// anchorOf is the day of the month t falls on in the customer's time zone,
// for monthly plans (0 for others): the anchor of periods that start at t.
func anchorOf(p activities.Plan, t time.Time) int {
	if p.PeriodUnit != billing.PeriodMonth {
		return 0
	}
	return t.In(location(p)).Day()
}

// periodEnd is when a period of p that starts at from, on anchor, ends.
func periodEnd(p activities.Plan, from time.Time, anchor int) time.Time {
	return billing.AddPeriodsAnchored(from.In(location(p)), p.PeriodUnit, max(p.PeriodCount, 1), anchor).UTC()
}

// location is the customer's time zone (UTC if unknown), from the zone
// database embedded in the binary (package zoneinfo).
func location(p activities.Plan) *time.Location {
	return zoneinfo.Load(p.TimeZone)
}

// graceDays is how long a suspended service is kept before deletion.
func graceDays(p activities.Plan, policy Policy) int {
	if p.GraceDays != nil {
		return *p.GraceDays
	}
	return policy.GraceDays
}

// renewsAutomatically reports whether the service is charged at its
// paid-until date. Incoming days 0 means no automatic payment (seed 002).
func (s *SubscriptionState) renewsAutomatically() bool {
	return s.AutoRenew && s.Plan.IncomingDays > 0 && !s.CancelAtPeriodEnd
}

// events lists what the workflow will do from its state, in time order,
// without what this period already did.
func (s *SubscriptionState) events(policy Policy) []event {
	var out []event
	add := func(e event) {
		if !slices.Contains(s.Done, e.Key) && !(e.notice && e.At.Before(s.PeriodStart)) {
			out = append(out, e)
		}
	}
	d := s.PaidUntil
	switch {
	case s.Status == billing.SubscriptionActive && s.renewsAutomatically():
		add(event{Key: billing.MilestoneIncoming, Milestone: billing.MilestoneIncoming, At: addDays(s.Plan, d, -s.Plan.IncomingDays), Days: s.Plan.IncomingDays, notice: true})
		if !s.Plan.PostPaid && s.Plan.Price > 0 {
			for _, n := range policy.LowMoneyDays {
				add(event{Key: fmt.Sprintf("%s:%d", billing.MilestoneLowMoney, n), Milestone: billing.MilestoneLowMoney, At: addDays(s.Plan, d, -n), Days: n, notice: true, order: 1, reminder: n > 0})
			}
		}
		add(event{Key: keyRenewal, Milestone: billing.MilestoneRenewal, At: d, order: 2})
		if s.RenewalFailed {
			add(event{Key: keySuspend, Milestone: billing.MilestoneSuspended, At: addDays(s.Plan, d, policy.SuspendAfterDays), order: 3})
		}
	case s.Status == billing.SubscriptionActive && s.CancelAtPeriodEnd:
		add(event{Key: keyCancel, Milestone: billing.MilestoneCancelled, At: d, order: 3})
	case s.Status == billing.SubscriptionActive:
		for _, n := range policy.LowMoneyDays {
			add(event{Key: fmt.Sprintf("%s:%d", billing.MilestoneExpiring, n), Milestone: billing.MilestoneExpiring, At: addDays(s.Plan, d, -n), Days: n, notice: true, order: 1, reminder: n > 0})
		}
		add(event{Key: keyExpire, Milestone: billing.MilestoneSuspended, At: d, order: 3})
	case s.Status == billing.SubscriptionUnpaid && policy.UnpaidOrderDays > 0 && !s.OrderedAt.IsZero():
		add(event{Key: keyExpireOrder, Milestone: billing.MilestoneOrderExpired, At: addDays(s.Plan, s.OrderedAt, policy.UnpaidOrderDays), order: 3})
	case s.Status == billing.SubscriptionSuspended && !s.SuspendedByStaff:
		deleteAt := s.deleteAt(policy)
		for _, n := range policy.NearDeleteDays {
			at := addDays(s.Plan, deleteAt, -n)
			if at.After(s.SuspendedAt) {
				add(event{Key: fmt.Sprintf("%s:%d", billing.MilestoneDeleteSoon, n), Milestone: billing.MilestoneDeleteSoon, At: at, Days: n, notice: true})
			}
		}
		add(event{Key: keyDelete, Milestone: billing.MilestoneDeleted, At: deleteAt, order: 3})
	}
	if s.LicenseUpdates && s.Status == billing.SubscriptionActive {
		// Keyed by the date too: a date staff move gets its own notices. Not
		// by the period: one due at a renewal's moment was sent before it.
		for _, n := range policy.LowMoneyDays {
			at := addDays(s.Plan, s.UpdatesUntil, -n)
			if !at.Before(s.UpdatesSetAt) && at.After(s.UpdatesNoticed) {
				add(event{Key: fmt.Sprintf("%s:%s:%d", billing.MilestoneLicenseUpdates, s.UpdatesUntil.UTC().Format("20060102T150405Z"), n),
					Milestone: billing.MilestoneLicenseUpdates, At: at, Days: n, notice: true, order: 1})
			}
		}
	}
	slices.SortStableFunc(out, func(a, b event) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		return a.order - b.order
	})
	return out
}

// deleteAt is when a suspended service is deleted.
func (s *SubscriptionState) deleteAt(policy Policy) time.Time {
	return addDays(s.Plan, s.SuspendedAt, graceDays(s.Plan, policy))
}
