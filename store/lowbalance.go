package store

import (
	"context"
	"errors"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

// LowBalance is a fall of the days a customer's balance in one currency
// lasts, across their daily services, to a lower value of the setting
// low_money_notice_period: what the low_balance notice tells.
type LowBalance struct {
	CustomerID int64
	Currency   string
	Balance    int64 // after the change, in minor units
	DailyCost  int64 // what the customer's daily services in Currency are charged a day (less discounts), summed
	DaysLeft   int64 // the days Balance pays for: Balance / DailyCost, rounded down; 0 for a balance below 0
	Level      int   // the lowest value of low_money_notice_period at or above DaysLeft
	// Crossing counts the customer's low-balance notices in Currency, this
	// one included: the notice's key, so each fall is sent once.
	Crossing int64
}

// LowBalanceNotifier queues the notice of l in tx, the transaction that
// changed the balance or the daily services (activities.QueueLowBalance).
type LowBalanceNotifier func(ctx context.Context, tx *Store, l LowBalance) error

// SetLowBalanceNotifier makes every change of a balance or of a daily
// service watch the days the balance lasts, and call n, in the change's
// transaction, when they fall to a lower value of low_money_notice_period.
// Set it once, before the store is used; without it nothing is watched.
func (s *Store) SetLowBalanceNotifier(n LowBalanceNotifier) { s.lowBalance = n }

// LowBalanceLevel returns the lowest value of period that days is at or
// below, and false if days is above every value.
func LowBalanceLevel(days int64, period []int) (int, bool) {
	level, ok := 0, false
	for _, v := range period {
		if days <= int64(v) && (!ok || v < level) {
			level, ok = v, true
		}
	}
	return level, ok
}

// watchLowBalance recomputes, in the transaction s is bound to and under the
// customer's row lock, the days the customer's balance lasts across their
// daily services (active, renewed automatically, billed every day) at what
// their renewals charge (dailyCosts: the price less the discount), in
// currency (every currency if ""). When they fell to a lower value of
// low_money_notice_period than the last one recorded, it queues one
// low_balance notice, for the lowest value reached. A rise records the
// higher value (or none, above every value), so a later fall is told again.
// Post-paid customers are never told. The cost is one indexed scan of the
// customer's active subscriptions and, with daily services, of their
// discounts and, for a currency with daily services, its balance row.
func (s *Store) watchLowBalance(ctx context.Context, customerID int64, currency string) error {
	if s.lowBalance == nil {
		return nil
	}
	q := s.q
	terms, err := q.CustomerChargeTermsForUpdate(ctx, customerID)
	if err != nil {
		return dbError(err, "customer", customerID)
	}
	services, err := q.LowBalanceDailyServices(ctx, customerID)
	if err != nil {
		return err
	}
	levels, err := q.LowBalanceLevels(ctx, customerID)
	if err != nil || (len(services) == 0 && len(levels) == 0) {
		return err
	}
	cost, err := dailyCosts(ctx, q, customerID, services)
	if err != nil {
		return err
	}
	period, err := lowMoneyNoticePeriod(ctx, q)
	if err != nil {
		return err
	}
	prior := map[string]dbsqlc.LowBalanceLevelsRow{}
	var currencies []string
	for cur := range cost {
		currencies = append(currencies, cur)
	}
	for _, l := range levels {
		prior[l.Currency] = l
		currencies = append(currencies, l.Currency)
	}
	slices.Sort(currencies)
	for _, cur := range slices.Compact(currencies) {
		if currency != "" && cur != currency {
			continue
		}
		was := prior[cur]
		l := LowBalance{CustomerID: customerID, Currency: cur, DailyCost: cost[cur]}
		var level *int
		if !terms.PostPaid && l.DailyCost > 0 {
			if l.Balance, err = lockedBalance(ctx, q, customerID, cur); err != nil {
				return err
			}
			l.DaysLeft = max(l.Balance, 0) / l.DailyCost
			if v, ok := LowBalanceLevel(l.DaysLeft, period); ok {
				level = &v
			}
		}
		if sameLevel(level, was.Level) {
			continue
		}
		fell := level != nil && (was.Level == nil || *level < *was.Level)
		l.Crossing = was.Crossings
		if fell {
			l.Level, l.Crossing = *level, l.Crossing+1
		}
		if err := q.LowBalanceSetLevel(ctx, dbsqlc.LowBalanceSetLevelParams{CustomerID: customerID, Currency: cur,
			Level: level, Crossings: l.Crossing}); err != nil {
			return err
		}
		if fell {
			if err := s.lowBalance(ctx, s, l); err != nil {
				return err
			}
		}
	}
	return nil
}

// lowMoneyNoticePeriod is the stored setting, or its default.
func lowMoneyNoticePeriod(ctx context.Context, q *dbsqlc.Queries) ([]int, error) {
	row, err := q.SettingsGet(ctx)
	if errors.Is(err, pgx.ErrNoRows) {
		return billing.DefaultSettings().LowMoneyNoticePeriod, nil
	}
	return row.LowMoneyNoticePeriod, err
}

func sameLevel(a, b *int) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// dailyCosts sums, per currency, what the daily services are charged a
// day: each price less the customer's discount valid at the start of its
// next period (its paid-until date), chosen as ChargePeriod chooses it
// (billing.BestDiscount). A service discounted to nothing costs nothing. A
// sum beyond int64 (thousands of services at the highest price) is
// MaxInt64: the balance lasts 0 days.
func dailyCosts(ctx context.Context, q *dbsqlc.Queries, customerID int64, services []dbsqlc.LowBalanceDailyServicesRow) (map[string]int64, error) {
	cost := map[string]int64{}
	if len(services) == 0 {
		return cost, nil
	}
	rows, err := q.DiscountList(ctx, customerID)
	if err != nil {
		return nil, err
	}
	discounts := fromRows(rows, discountFromRow)
	now := time.Now()
	for _, sv := range services {
		at := now
		if sv.PaidUntil != nil {
			at = *sv.PaidUntil
		}
		price := sv.Price
		if _, off, ok := billing.BestDiscount(discounts, sv.ProductID, sv.Currency, at, price); ok {
			price -= off
		}
		sum := cost[sv.Currency]
		if price > math.MaxInt64-sum {
			sum = math.MaxInt64
		} else {
			sum += price
		}
		cost[sv.Currency] = sum
	}
	return cost, nil
}
