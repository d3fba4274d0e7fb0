package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/store"
)

// usageRate measures the usage ingest through the real API: concurrency
// senders (a switch's connections), each reporting for a service of its
// own, send events in batches of batch. The first round's events are all
// new; in the second, every other event resends one of the first round's.
// It returns events per second of each round, and checks that each counted
// exactly what it should.
func (b *bench) usageRate(events, batch, concurrency int) (fresh, resent float64, err error) {
	if batch < 1 || batch > billing.MaxUsageBatch || events < batch {
		return 0, 0, fmt.Errorf("usage: -batch must be 1 to %d and -events at least -batch", billing.MaxUsageBatch)
	}
	free := int64(0)
	p, err := b.st.CreateProduct(b.ctx, (&billing.ProductInput{Name: "Bench PBX", Price: &free, Currency: "EUR",
		PeriodUnit: billing.PeriodMonth, Resources: []billing.Resource{
			{Name: "minutes", Unit: "min", Included: billing.MaxUsageTotal, OveragePrice: 1},
			{Name: "traffic", Unit: "MB", Included: billing.MaxUsageTotal, OveragePrice: 1}}}).Product())
	if err != nil {
		return 0, 0, err
	}
	customers, err := createCustomers(b.ctx, b.st, concurrency, 0)
	if err != nil {
		return 0, 0, err
	}
	// The services' first periods are charged directly: the ingest is measured, not the workflow.
	subs := make([]int64, concurrency)
	from := time.Now().Add(-time.Minute)
	for i, c := range customers {
		o, err := b.st.CreateSubscription(b.ctx, billing.SubscriptionCreate{CustomerID: c, ProductID: p.ID}, "", 0)
		if err != nil {
			return 0, 0, err
		}
		subs[i] = o.Subscription.ID
		if _, err := b.st.ChargePeriod(b.ctx, store.PeriodCharge{SubscriptionID: subs[i], ProductID: p.ID, Period: 1,
			PeriodFrom: from, PaidUntil: from.AddDate(0, 1, 0), Charge: billing.Charge{CustomerID: c, Currency: "EUR",
				Reason: billing.ReasonCharge, IdempotencyKey: activities.PeriodChargeKey(subs[i], 1)}}); err != nil {
			return 0, 0, err
		}
	}
	batches := events / batch
	round := func(key func(j, i int) string) (float64, int64, error) {
		var accepted atomic.Int64
		start := time.Now()
		err := parallel(batches, concurrency, func(j int) error {
			in := billing.UsageInput{Events: make([]billing.UsageEvent, batch)}
			for i := range in.Events {
				in.Events[i] = billing.UsageEvent{Resource: []string{"minutes", "traffic"}[i%2], Quantity: 1, IdempotencyKey: key(j, i)}
			}
			res, err := b.reportUsage(subs[j%concurrency], in)
			accepted.Add(int64(res.Accepted))
			return err
		})
		return float64(batches*batch) / time.Since(start).Seconds(), accepted.Load(), err
	}
	fmt.Printf("usage: %d events in batches of %d from %d senders, all new...\n", batches*batch, batch, concurrency)
	fresh, n, err := round(func(j, i int) string { return fmt.Sprintf("cdr-%d-%d", j, i) })
	if err == nil && n != int64(batches*batch) {
		err = fmt.Errorf("usage: %d of %d new events counted", n, batches*batch)
	}
	if err != nil {
		return 0, 0, err
	}
	fmt.Printf("usage: the same again, every other event a resend...\n")
	resent, n, err = round(func(j, i int) string {
		if i%2 == 0 {
			return fmt.Sprintf("cdr-%d-%d", j, i) // sent in the first round, to the same service
		}
		return fmt.Sprintf("new-%d-%d", j, i)
	})
	if err == nil && n != int64(batches*(batch/2)) { // the odd-numbered events are new
		err = fmt.Errorf("usage: %d events counted of %d new", n, batches*(batch/2))
	}
	return fresh, resent, err
}

// reportUsage posts one batch of usage events for sub.
func (b *bench) reportUsage(sub int64, in billing.UsageInput) (billing.UsageResult, error) {
	var res billing.UsageResult
	body, err := json.Marshal(in)
	if err != nil {
		return res, err
	}
	req, err := http.NewRequestWithContext(b.ctx, "POST", fmt.Sprintf("%s/api/v1/subscriptions/%d/usage", b.m.URL, sub), bytes.NewReader(body))
	if err != nil {
		return res, err
	}
	req.Header.Set("Authorization", "Bearer "+b.token)
	req.Header.Set("Content-Type", "application/json")
	r, err := b.http.Do(req)
	if err != nil {
		return res, err
	}
	defer r.Body.Close()
	if r.StatusCode != http.StatusOK {
		return res, fmt.Errorf("usage: %s", r.Status)
	}
	return res, json.NewDecoder(r.Body).Decode(&res)
}

// usage is the "usage" phase.
func (b *bench) usage() ([]row, error) {
	fresh, resent, err := b.usageRate(b.f.events, b.f.batch, b.f.concurrency)
	if err != nil {
		return nil, err
	}
	return []row{
		{measure: fmt.Sprintf("usage events counted per second (%d in batches of %d, %d senders; all new)", b.f.events, b.f.batch, b.f.concurrency), billing: fmt.Sprintf("%.0f/s", fresh)},
		{measure: "usage events per second, every other one a resend (duplicate)", billing: fmt.Sprintf("%.0f/s", resent)},
	}, nil
}
