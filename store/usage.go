package store

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

// writeResources replaces a product's resources.
func writeResources(ctx context.Context, q *dbsqlc.Queries, productID int64, rs []billing.Resource) ([]billing.Resource, error) {
	if err := q.ProductResourcesDelete(ctx, productID); err != nil {
		return nil, err
	}
	for i, r := range rs {
		if err := q.ProductResourceInsert(ctx, dbsqlc.ProductResourceInsertParams{ProductID: productID, Position: i,
			Name: r.Name, Unit: r.Unit, Included: r.Included, OveragePrice: r.OveragePrice}); err != nil {
			return nil, err
		}
	}
	if rs == nil {
		rs = []billing.Resource{}
	}
	return rs, nil
}

// resourcesOf reads the resources of products, by product.
func resourcesOf(ctx context.Context, q *dbsqlc.Queries, ids ...int64) (map[int64][]billing.Resource, error) {
	rows, err := q.ProductResourceList(ctx, ids)
	out := map[int64][]billing.Resource{}
	for _, id := range ids {
		out[id] = []billing.Resource{}
	}
	for _, r := range rows {
		out[r.ProductID] = append(out[r.ProductID], billing.Resource{Name: r.Name, Unit: r.Unit, Included: r.Included,
			OveragePrice: r.OveragePrice})
	}
	return out, err
}

// usagePeriod is a period of a subscription as usage sees it.
type usagePeriod struct {
	dbsqlc.UsagePeriod
	resources []billing.Resource
}

func periodFromRow(r dbsqlc.UsagePeriod) usagePeriod {
	p := usagePeriod{UsagePeriod: r}
	// Written by UsagePeriodInsert from product_resources' columns.
	_ = json.Unmarshal(r.Resources, &p.resources)
	return p
}

func (p usagePeriod) resource(name string) (billing.Resource, bool) {
	i := slices.IndexFunc(p.resources, func(r billing.Resource) bool { return r.Name == name })
	if i < 0 {
		return billing.Resource{}, false
	}
	return p.resources[i], true
}

func (p usagePeriod) names() string {
	names := make([]string, len(p.resources))
	for i, r := range p.resources {
		names[i] = r.Name
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// Crossing is a resource whose use in a period reached the notify percentage
// of its included amount with this ingest: its threshold notice is due.
type Crossing struct {
	Period                  int
	PeriodFrom, PeriodUntil time.Time
	ProductName             string
	Resource                billing.Resource
	Used                    int64
	Percent                 int64
}

// Ingested is what IngestUsage counted, and the thresholds it crossed.
type Ingested struct {
	billing.UsageResult
	Crossings []Crossing
}

// eventError refuses a batch for its event i.
func eventError(code string, i int, field, msg string) error {
	f := fmt.Sprintf("events[%d].%s", i, field)
	return &billing.Error{Code: code, Message: fmt.Sprintf("%s %s; nothing of the batch was counted", f, msg),
		Fields: map[string]string{f: msg}}
}

// IngestUsage counts a batch of a subscription's usage events in one
// transaction: each in the period that began last at or before its time
// (now if not given), once per idempotency key; a key counted before is a
// duplicate. An event for a resource its period's product does not declare
// (EINVALID), or in a closed period, or before any period (ECONFLICT),
// refuses the whole batch, naming the event. The per-period totals are kept
// in the same transaction; an addition that makes a total reach pct percent
// of the included amount is returned as a Crossing (exactly one addition
// can: the total's row is locked).
func (s *Store) IngestUsage(ctx context.Context, subscriptionID int64, events []billing.UsageEvent, now time.Time, pct int) (Ingested, error) {
	out := Ingested{UsageResult: billing.UsageResult{DuplicateIndexes: []int{}}}
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		if err := q.UsageCustomerShare(ctx, subscriptionID); err != nil {
			return err
		}
		rows, err := q.UsagePeriodsForIngest(ctx, subscriptionID)
		if err != nil {
			return err
		}
		if len(rows) == 0 {
			if _, err := q.SubscriptionGet(ctx, subscriptionID); err != nil {
				return dbError(err, "subscription", subscriptionID)
			}
			return billing.Errorf(billing.ECONFLICT, "subscription %d has no charged period yet: usage is counted from its first charge", subscriptionID)
		}
		periods := fromRows(rows, periodFromRow)
		sub, err := q.SubscriptionGet(ctx, subscriptionID)
		if err != nil {
			return err
		}
		keys := make([]string, len(events))
		for i, e := range events {
			keys[i] = e.IdempotencyKey
		}
		counted, err := q.UsageEventsCounted(ctx, dbsqlc.UsageEventsCountedParams{SubscriptionID: subscriptionID, Keys: keys})
		if err != nil {
			return err
		}
		before := map[string]bool{} // resent: a duplicate, whatever its period is now
		for _, k := range counted {
			before[k] = true
		}
		in := make([]int, len(events)) // the index in periods of each event's period
		ats := make([]time.Time, len(events))
		for i, e := range events {
			ats[i] = now
			if e.At != nil {
				ats[i] = *e.At
			}
			if before[e.IdempotencyKey] {
				continue
			}
			if ats[i].After(now.Add(billing.UsageClockSkew)) {
				return eventError(billing.EINVALID, i, "at", fmt.Sprintf("is after now (%s): usage is reported once used", now.UTC().Format(time.RFC3339)))
			}
			if sub.PaidUntil != nil && !ats[i].Before(*sub.PaidUntil) {
				// Not the ended period's: the next one is not charged yet.
				return eventError(billing.ECONFLICT, i, "at", fmt.Sprintf("is at or after the end of the service's paid time (%s): the next period is not charged yet; send it again once it is",
					sub.PaidUntil.UTC().Format(time.RFC3339)))
			}
			j := -1
			for k, p := range periods {
				if !p.PeriodFrom.After(ats[i]) {
					j = k
				}
			}
			if j < 0 || periods[j].ClosedAt != nil {
				msg := "is before the periods open for usage"
				if j >= 0 {
					msg = fmt.Sprintf("falls in period %d, which is closed: its overage was charged", periods[j].Period)
				}
				return eventError(billing.ECONFLICT, i, "at", msg)
			}
			if _, ok := periods[j].resource(e.Resource); !ok {
				return eventError(billing.EINVALID, i, "resource", fmt.Sprintf("is %q, which the product of period %d does not declare; it declares: %s",
					e.Resource, periods[j].Period, periods[j].names()))
			}
			in[i] = j
		}
		// Sorted by key: concurrent batches take the keys' locks in one order.
		order := make([]int, len(events))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return strings.Compare(events[a].IdempotencyKey, events[b].IdempotencyKey) })
		p := dbsqlc.UsageEventsInsertParams{SubscriptionID: subscriptionID}
		for _, i := range order {
			p.Keys = append(p.Keys, events[i].IdempotencyKey)
			p.Periods = append(p.Periods, periods[in[i]].Period)
			p.Resources = append(p.Resources, events[i].Resource)
			p.Quantities = append(p.Quantities, events[i].Quantity)
			p.Ats = append(p.Ats, ats[i])
		}
		written, err := q.UsageEventsInsert(ctx, p)
		if err != nil {
			return err
		}
		fresh := map[string]bool{}
		for _, k := range written {
			fresh[k] = true
		}
		type group struct {
			period   int
			resource string
		}
		added := map[group]int64{}
		var groups []group
		for _, i := range order { // the first of a key repeated in the batch counts
			if !fresh[events[i].IdempotencyKey] {
				out.DuplicateIndexes = append(out.DuplicateIndexes, i)
				continue
			}
			delete(fresh, events[i].IdempotencyKey)
			out.Accepted++
			g := group{periods[in[i]].Period, events[i].Resource}
			if _, ok := added[g]; !ok {
				groups = append(groups, g)
			}
			added[g] += events[i].Quantity // at most MaxUsageBatch × MaxUsageQuantity
		}
		slices.Sort(out.DuplicateIndexes)
		out.Duplicates = len(out.DuplicateIndexes)
		// One order for the totals' row locks too.
		slices.SortFunc(groups, func(a, b group) int {
			return cmp.Or(cmp.Compare(a.period, b.period), strings.Compare(a.resource, b.resource))
		})
		for _, g := range groups {
			j := slices.IndexFunc(periods, func(p usagePeriod) bool { return p.Period == g.period })
			r, _ := periods[j].resource(g.resource)
			used, err := q.UsageTotalAdd(ctx, dbsqlc.UsageTotalAddParams{SubscriptionID: subscriptionID, Period: g.period,
				Resource: g.resource, Added: added[g]})
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "23514" {
				return billing.Errorf(billing.EINVALID, "the use of %s in period %d would exceed %d %s, the most a period counts; nothing of the batch was counted",
					g.resource, g.period, int64(billing.MaxUsageTotal), r.Unit)
			}
			if err != nil {
				return err
			}
			// Under the total's row lock exactly one addition sees it cross;
			// every term is at most MaxUsageTotal × 100.
			threshold := r.Included * int64(pct)
			if r.Included > 0 && pct > 0 && (used-added[g])*100 < threshold && used*100 >= threshold {
				product, err := q.ProductGet(ctx, periods[j].ProductID)
				if err != nil {
					return err
				}
				out.Crossings = append(out.Crossings, Crossing{Period: g.period, PeriodFrom: periods[j].PeriodFrom,
					PeriodUntil: periods[j].PeriodUntil, ProductName: product.Name, Resource: r, Used: used,
					Percent: used * 100 / r.Included})
			}
		}
		// A period's overage must stay chargeable (at most MaxAmount).
		for j, p := range periods {
			if slices.ContainsFunc(groups, func(g group) bool { return g.period == p.Period }) {
				if _, err := usageOf(ctx, q, periods[j]); err != nil {
					return billing.Errorf(billing.ErrorCode(err), "%v; nothing of the batch was counted", billing.ErrorMessage(err))
				}
			}
		}
		return nil
	})
	return out, dbError(err, "usage", subscriptionID)
}

// usageOf is a period's usage from its row and totals.
func usageOf(ctx context.Context, q *dbsqlc.Queries, p usagePeriod) (billing.Usage, error) {
	u := billing.Usage{SubscriptionID: p.SubscriptionID, Period: p.Period, PeriodFrom: p.PeriodFrom, PeriodUntil: p.PeriodUntil,
		Currency: p.Currency, Closed: p.ClosedAt != nil, Resources: []billing.ResourceUsage{}}
	totals, err := q.UsageTotals(ctx, dbsqlc.UsageTotalsParams{SubscriptionID: p.SubscriptionID, Period: p.Period})
	if err != nil {
		return u, err
	}
	used := map[string]int64{}
	for _, t := range totals {
		used[t.Resource] = t.Used
	}
	for _, r := range p.resources {
		ru := billing.ResourceUsage{Resource: r.Name, Unit: r.Unit, Used: used[r.Name], Included: r.Included, OveragePrice: r.OveragePrice}
		if err := ru.Measure(); err != nil {
			return u, err
		}
		u.Resources = append(u.Resources, ru)
		u.OverageAmount += ru.OverageAmount // at most MaxResources × MaxAmount
	}
	if u.OverageAmount > billing.MaxAmount {
		return u, billing.Errorf(billing.EINVALID, "the overage of period %d, %d, is beyond the largest amount (%d)", p.Period, u.OverageAmount, billing.MaxAmount)
	}
	return u, nil
}

// Usage returns a subscription's usage in period (0: the current period,
// the one that began last).
func (s *Store) Usage(ctx context.Context, subscriptionID int64, period int) (billing.Usage, error) {
	var row dbsqlc.UsagePeriod
	var err error
	if period == 0 {
		row, err = s.q.UsagePeriodCurrent(ctx, subscriptionID)
	} else {
		row, err = s.q.UsagePeriodGet(ctx, dbsqlc.UsagePeriodGetParams{SubscriptionID: subscriptionID, Period: period})
	}
	if errors.Is(err, pgx.ErrNoRows) && period == 0 {
		return billing.Usage{}, billing.Errorf(billing.ENOTFOUND, "subscription %d has no charged period yet", subscriptionID)
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return billing.Usage{}, billing.Errorf(billing.ENOTFOUND, "subscription %d has no charged period %d", subscriptionID, period)
	}
	if err != nil {
		return billing.Usage{}, dbError(err, "usage", subscriptionID)
	}
	u, err := usageOf(ctx, s.q, periodFromRow(row))
	return u, dbError(err, "usage", subscriptionID)
}

// UsagePeriodsToClose lists the subscription's open periods that ended by
// before, or all of them.
func (s *Store) UsagePeriodsToClose(ctx context.Context, subscriptionID int64, before time.Time, all bool) ([]int, error) {
	ps, err := s.q.UsagePeriodsToClose(ctx, dbsqlc.UsagePeriodsToCloseParams{SubscriptionID: subscriptionID, Before: before, Every: all})
	return ps, dbError(err, "usage", subscriptionID)
}

// UsagePeriodMetered reports whether a subscription's period counts usage:
// its product declared resources when it was charged.
func (s *Store) UsagePeriodMetered(ctx context.Context, subscriptionID int64, period int) (bool, error) {
	m, err := s.q.UsagePeriodMetered(ctx, dbsqlc.UsagePeriodMeteredParams{SubscriptionID: subscriptionID, Period: period})
	return m, dbError(err, "usage", subscriptionID)
}

// UsagePeriodsOpen counts a subscription's periods not closed yet.
func (s *Store) UsagePeriodsOpen(ctx context.Context, subscriptionID int64) (int, error) {
	n, err := s.q.UsagePeriodsOpen(ctx, subscriptionID)
	return int(n), dbError(err, "usage", subscriptionID)
}

// OverageCharge is what closing a period charged: its usage, and the ledger
// entry (ID 0 if there was no overage).
type OverageCharge struct {
	Usage       billing.Usage
	Entry       billing.LedgerEntry
	ProductName string
	// Written: this call wrote the charge (false for a replay, or a period
	// without overage).
	Written bool
}

// ChargeOverage closes a period of a subscription for usage and charges its
// overage, the sum over its resources of the units beyond the included
// amount times their price, in one transaction keyed by
// billing.OverageChargeKey: a retry, or a second caller, finds the period
// closed and returns the charge made. The usage was consumed: the charge is
// taken even if the balance doesn't cover it (into debt) and whatever the
// customer's status; only the balance cap (±MaxBalance) refuses it. With
// auto_invoicing on, the invoice shows one line per resource with an
// overage.
func (s *Store) ChargeOverage(ctx context.Context, subscriptionID, customerID int64, period int) (OverageCharge, error) {
	var out OverageCharge
	err := s.inTxStore(ctx, func(tx *Store) error {
		q := tx.q
		if err := q.CustomerLock(ctx, customerID); err != nil {
			return err
		}
		row, err := q.UsagePeriodLock(ctx, dbsqlc.UsagePeriodLockParams{SubscriptionID: subscriptionID, Period: period})
		if err != nil {
			return err
		}
		p := periodFromRow(row)
		if out.Usage, err = usageOf(ctx, q, p); err != nil {
			return err
		}
		product, err := q.ProductGet(ctx, p.ProductID)
		if err != nil {
			return err
		}
		out.ProductName = product.Name
		key := billing.OverageChargeKey(subscriptionID, period)
		e := billing.LedgerEntry{CustomerID: customerID, Kind: billing.Debit, Amount: out.Usage.OverageAmount,
			Currency: p.Currency, Reason: billing.ReasonCharge, IdempotencyKey: key,
			Reference: fmt.Sprintf("subscription %d, period %d: %s, overage", subscriptionID, period, product.Name)}
		if p.ClosedAt != nil {
			if out.Usage.OverageAmount > 0 {
				out.Entry, err = entryByKey(ctx, q, e)
			}
			return err
		}
		if out.Usage.OverageAmount > 0 {
			if out.Entry, err = insertEntry(ctx, q, e, nil); err != nil {
				return err
			}
			out.Written = true
			var lines []billing.InvoiceLine
			for _, r := range out.Usage.Resources {
				if r.Overage > 0 {
					lines = append(lines, billing.InvoiceLine{Name: fmt.Sprintf("%s: %s overage", product.Name, r.Resource),
						Description: fmt.Sprintf("%d %s used, %d %s included", r.Used, r.Unit, r.Included, r.Unit),
						PeriodFrom:  p.PeriodFrom.UTC(), PeriodUntil: p.PeriodUntil.UTC(), Quantity: r.Overage,
						UnitPrice: r.OveragePrice, Total: r.OverageAmount})
				}
			}
			if err := issueInvoice(ctx, q, PeriodCharge{SubscriptionID: subscriptionID, ProductID: p.ProductID,
				PeriodFrom: p.PeriodFrom, PaidUntil: p.PeriodUntil, Lines: lines}, out.Entry, nil); err != nil {
				return err
			}
			if err := tx.watchLowBalance(ctx, customerID, p.Currency); err != nil {
				return err
			}
		}
		out.Usage.Closed = true
		return q.UsagePeriodClose(ctx, dbsqlc.UsagePeriodCloseParams{SubscriptionID: subscriptionID, Period: period,
			Overage: &out.Usage.OverageAmount})
	})
	return out, dbError(err, "usage period", fmt.Sprintf("%d/%d", subscriptionID, period))
}
