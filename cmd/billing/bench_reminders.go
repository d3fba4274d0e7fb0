package main

import (
	"encoding/json"
	"fmt"
	"time"

	"go.temporal.io/sdk/client"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/workflows"
)

// reminders is the "reminders" phase: -reminders subscriptions with an
// insufficient_funds reminder due at the same moment (the day after a
// migration that put every renewal on the 1st), their balances short, sent
// by one run of the reminders schedule's workflow (RemindersWorkflow, its
// default shards and batches) on the bench's worker: reminders a second,
// each one email claimed, sent and recorded.
func (b *bench) reminders() ([]row, error) {
	n := b.f.reminders
	stop, err := b.newWorker()
	if err != nil {
		return nil, err
	}
	defer stop()
	p, err := b.product(billing.PeriodMonth, 1, 3)
	if err != nil {
		return nil, err
	}
	ids, err := b.customers(n, 0)
	if err != nil {
		return nil, err
	}
	paid := time.Now().Add(5 * 24 * time.Hour).UTC().Truncate(time.Second)
	at := time.Now().Add(-time.Minute).UTC().Truncate(time.Second)
	schedule := []byte(`{"status":"active","period":1}`)
	err = parallel(n, b.f.concurrency, func(i int) error {
		o, err := b.st.CreateSubscription(b.ctx, billing.SubscriptionCreate{CustomerID: ids[i], ProductID: p.ID}, "", 0)
		if err != nil {
			return err
		}
		rs, err := json.Marshal([]activities.Reminder{{At: at, Milestone: billing.MilestoneLowMoney, Key: "insufficient_funds:5", Days: 5,
			Period: 1, PaidUntil: paid, BelowPrice: true}})
		if err != nil {
			return err
		}
		return b.st.SaveSubscriptionSchedule(b.ctx, o.Subscription.ID, 1, schedule, rs)
	})
	if err != nil {
		return nil, err
	}
	began := time.Now()
	run, err := b.tc.ExecuteWorkflow(b.ctx, client.StartWorkflowOptions{ID: "bench-reminders", TaskQueue: b.m.Config.TaskQueue},
		workflows.RemindersWorkflow, workflows.RemindersInput{})
	if err != nil {
		return nil, err
	}
	var res workflows.RemindersResult
	if err := run.Get(b.ctx, &res); err != nil {
		return nil, err
	}
	took := time.Since(began)
	var sent int
	if err := b.m.Pool.QueryRow(b.ctx, `SELECT count(*) FROM notices WHERE event = 'insufficient_funds' AND status = 'sent'`).Scan(&sent); err != nil {
		return nil, err
	}
	fmt.Printf("reminders: %d subscriptions in %d batches, %d sent, in %s\n", res.Subscriptions, res.Batches, sent, took.Round(time.Millisecond))
	if sent != n {
		return nil, fmt.Errorf("reminders: %d of %d sent", sent, n)
	}
	return []row{{measure: fmt.Sprintf("%d reminders due at once, sent by one run of the reminders schedule (%d batches): reminders a second", n, res.Batches),
		billing: fmt.Sprintf("%.0f/s (%s)", float64(n)/took.Seconds(), took.Round(time.Millisecond)), target: "stated"}}, nil
}
