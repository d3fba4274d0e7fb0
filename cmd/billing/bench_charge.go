package main

import (
	"fmt"
	"slices"
	"time"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store"
)

// chargeRounds is how many charges each customer of the "charge" phase gets.
const chargeRounds = 200

// charge is the "charge" phase: a charge for a customer with a long ledger
// (-ledger entries) against one with a short ledger (10 entries). Both are
// charged through store.ChargePeriod, the ChargePeriod activity's write
// (discount, ledger entry, invoice, the subscription's row, usage period,
// low balance watch), alternating A and B so that the machine's noise falls
// on both alike.
func (b *bench) charge() ([]row, error) {
	p, err := b.product(billing.PeriodMonth, 1, 1)
	if err != nil {
		return nil, err
	}
	const seeded = 1_000_000_000 // far more than the charges take
	ids, err := b.customers(2, seeded)
	if err != nil {
		return nil, err
	}
	short, long := ids[0], ids[1]
	subs := map[int64]int64{}
	for _, c := range ids {
		o, err := b.st.CreateSubscription(b.ctx, billing.SubscriptionCreate{CustomerID: c, ProductID: p.ID}, "", 0)
		if err != nil {
			return nil, err
		}
		subs[c] = o.Subscription.ID
	}
	// The seed's top-up is one entry: each customer gets the rest of its
	// entries as the ledger of past months, alternately a payment (credit)
	// and the period charge it paid (debit), keyed as the real ones are.
	began := time.Now()
	for c, n := range map[int64]int{short: 10 - 1, long: b.f.ledger - 1} {
		if _, err := b.m.Pool.Exec(b.ctx, `INSERT INTO ledger_entries (customer_id, kind, amount, currency, reason, reference, idempotency_key, created_at)
			SELECT $1::bigint, CASE WHEN g % 2 = 1 THEN 'credit' ELSE 'debit' END, 100, 'EUR',
				CASE WHEN g % 2 = 1 THEN 'payment' ELSE 'charge' END,
				CASE WHEN g % 2 = 1 THEN 'bench payment ' || g ELSE 'subscription ' || $2::bigint || ', period ' || g / 2 || ': past' END,
				CASE WHEN g % 2 = 1 THEN 'bench-payment:' || $1::bigint || ':' || g ELSE 'subscription:' || $2::bigint || ':period:' || g / 2 END,
				now() - (($3::int - g) * interval '1 minute')
			FROM generate_series(1, $3::int) g`, c, subs[c], n); err != nil {
			return nil, err
		}
	}
	fmt.Printf("charge: ledgers of 10 and %d entries written in %s\n", b.f.ledger, time.Since(began).Round(time.Millisecond))
	if _, err := b.m.Pool.Exec(b.ctx, `ANALYZE ledger_entries`); err != nil {
		return nil, err
	}

	// Periods above any seeded one: every charge is a new, fresh one.
	period := b.f.ledger
	from := time.Now().UTC()
	chargeOnce := func(c int64) (time.Duration, error) {
		period++
		start := time.Now()
		e, err := b.st.ChargePeriod(b.ctx, store.PeriodCharge{SubscriptionID: subs[c], ProductID: p.ID,
			PaidUntil: from.AddDate(0, 1, 0), AnchorDay: from.Day(), PeriodFrom: from, Period: period,
			Charge: billing.Charge{CustomerID: c, Amount: p.Price, Currency: p.Currency, Reason: billing.ReasonCharge,
				Reference:      fmt.Sprintf("subscription %d, period %d: %s", subs[c], period, p.Name),
				IdempotencyKey: fmt.Sprintf("subscription:%d:period:%d", subs[c], period)}})
		d := time.Since(start)
		if err == nil && e.ID == 0 {
			err = fmt.Errorf("charge of customer %d, period %d wrote nothing", c, period)
		}
		return d, err
	}
	for range 10 { // warm up the pool, the plans and the caches
		for _, c := range ids {
			if _, err := chargeOnce(c); err != nil {
				return nil, err
			}
		}
	}
	times := map[int64][]time.Duration{}
	for range chargeRounds {
		for _, c := range ids {
			d, err := chargeOnce(c)
			if err != nil {
				return nil, err
			}
			times[c] = append(times[c], d)
		}
	}
	shortMed, shortP90 := quantiles(times[short])
	longMed, longP90 := quantiles(times[long])
	ratio := float64(longMed) / float64(shortMed)
	fmt.Printf("charge: 10 entries: median %s p90 %s; %d entries: median %s p90 %s; ratio of medians %.2f\n",
		shortMed, shortP90, b.f.ledger, longMed, longP90, ratio)
	return []row{{
		measure: fmt.Sprintf("a charge (store.ChargePeriod) for a customer with %d ledger entries vs one with 10 (%d alternating charges each; median, p90)",
			b.f.ledger, chargeRounds),
		billing: fmt.Sprintf("%s, %s", longMed.Round(10*time.Microsecond), longP90.Round(10*time.Microsecond)),
		bare:    fmt.Sprintf("%s, %s (10 entries)", shortMed.Round(10*time.Microsecond), shortP90.Round(10*time.Microsecond)),
		ratio:   fmt.Sprintf("%.2f", ratio),
		target:  "<= 1.2",
	}}, nil
}

// quantiles returns the median and the 90th percentile of ds.
func quantiles(ds []time.Duration) (median, p90 time.Duration) {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2], s[len(s)*9/10]
}
