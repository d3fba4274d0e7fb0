package main

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/workflows"
)

// storm is the "storm" phase: N subscriptions due in the same second against
// N bare timer-plus-one-activity workflows.
func (b *bench) storm() ([]row, error) {
	bareBurst, err := b.bareBurst(b.f.storm, b.f.concurrency)
	if err != nil {
		return nil, err
	}
	billingBurst, err := b.renewalBurst(b.f.storm, b.f.concurrency)
	if err != nil {
		return nil, err
	}
	return []row{{measure: fmt.Sprintf("%d due at the same second: time until all charged vs all timer+activity done", b.f.storm),
		billing: billingBurst.Round(10 * time.Millisecond).String(), bare: bareBurst.Round(10 * time.Millisecond).String(),
		ratio: fmt.Sprintf("%.2f", billingBurst.Seconds()/bareBurst.Seconds()), target: "<= 1.5"}}, nil
}

// stormKilled is the "kill" phase: the storm with the worker killed twice.
func (b *bench) stormKilled() ([]row, error) {
	return nil, nil // TODO(issue 15): bench helper
}

// BenchTimerActivity is the bare workflow of the burst: a timer to a given
// moment, then one activity.
func BenchTimerActivity(ctx workflow.Context, at time.Time) error {
	if err := workflow.Sleep(ctx, at.Sub(workflow.Now(ctx))); err != nil {
		return err
	}
	ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute})
	return workflow.ExecuteActivity(ctx, BenchNoop).Get(ctx, nil)
}

// lastNoop is when the latest BenchNoop ran, in Unix nanoseconds.
var lastNoop atomic.Int64

// BenchNoop is the bare activity; it notes when it ran, as a charge's ledger
// entry notes when it was written.
func BenchNoop(context.Context) error {
	now := time.Now().UnixNano()
	for {
		last := lastNoop.Load()
		if now <= last || lastNoop.CompareAndSwap(last, now) {
			return nil
		}
	}
}

// bareBurst times n timer-plus-one-activity workflows all due at one moment.
func (b *bench) bareBurst(n, concurrency int) (time.Duration, error) {
	stop, err := b.newWorker()
	if err != nil {
		return 0, err
	}
	defer stop()
	at := time.Now().Add(time.Duration(n/100+20) * time.Second).Truncate(time.Second)
	runs := make([]client.WorkflowRun, n)
	err = parallel(n, concurrency, func(i int) error {
		var err error
		runs[i], err = b.tc.ExecuteWorkflow(b.ctx, client.StartWorkflowOptions{ID: fmt.Sprintf("bench-burst-%d", i), TaskQueue: "bench",
			WorkflowIDConflictPolicy: enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL}, BenchTimerActivity, at)
		return err
	})
	executions := make([]execution, n)
	for i, r := range runs {
		executions[i] = execution{r.GetID(), r.GetRunID()}
	}
	if err != nil {
		return 0, err
	}
	if time.Now().After(at) {
		return 0, fmt.Errorf("starting took too long; the burst moment passed")
	}
	for _, r := range runs {
		if err := r.Get(b.ctx, nil); err != nil {
			return 0, err
		}
	}
	// From the due moment to the last activity's run, as the billing side
	// counts to the last charge's ledger entry: how long waiting took
	// doesn't count on either side.
	d := time.Unix(0, lastNoop.Load()).Sub(at)
	fmt.Printf("bare burst: %d activities ran by %s after their moment%s\n", n, d.Round(time.Millisecond), b.hiccups(executions))
	return d, nil
}

// renewalBurst times n subscriptions whose renewal is due at one moment: it
// starts their workflows as a continued period (the shape continue-as-new
// carries) with paid-until at that moment, and waits for every charge.
func (b *bench) renewalBurst(n, concurrency int) (time.Duration, error) {
	stop, err := b.newWorker()
	if err != nil {
		return 0, err
	}
	defer stop()
	p, err := b.product(billing.PeriodMonth, 1, 3)
	if err != nil {
		return 0, err
	}
	ids, err := b.customers(n, 1000)
	if err != nil {
		return 0, err
	}
	at := time.Now().Add(time.Duration(n/100+20) * time.Second).Truncate(time.Second)
	plan := activities.Plan{ProductID: p.ID, ProductName: p.Name, Price: p.Price, Currency: p.Currency, PeriodUnit: p.PeriodUnit,
		PeriodCount: p.PeriodCount, IncomingDays: p.IncomingDays, AutoRenew: true, TimeZone: "UTC"}
	runs := make([]execution, n)
	err = parallel(n, concurrency, func(i int) error {
		order, err := b.st.CreateSubscription(b.ctx, billing.SubscriptionCreate{CustomerID: ids[i], ProductID: p.ID}, "", 0)
		if err != nil {
			return err
		}
		state := &workflows.SubscriptionState{Status: billing.SubscriptionActive, Period: 1, PeriodStart: time.Now(), PaidUntil: at,
			AutoRenew: true, Plan: plan, Done: []string{"incoming", "insufficient_funds:1", "insufficient_funds:0"},
			// A service of today's code, whose runs kept track of usage (a run
			// from before usage-overage looks for open periods once more).
			UsageTracked: true}
		runs[i].id = billing.SubscriptionWorkflowID(order.Subscription.ID)
		runs[i].run, err = b.m.Workflows.Start(b.ctx, workflows.SubscriptionInput{SubscriptionID: order.Subscription.ID, CustomerID: ids[i],
			AutoRenew: true, Policy: b.m.Config.Settings.Policy(), State: state}, p)
		return err
	})
	if err != nil {
		return 0, err
	}
	if time.Now().After(at) {
		return 0, fmt.Errorf("starting took too long; the burst moment passed")
	}
	var last time.Time
	for {
		var charged int
		if err := b.m.Pool.QueryRow(b.ctx, `SELECT count(*), coalesce(max(created_at), now()) FROM ledger_entries
			WHERE idempotency_key LIKE 'subscription:%:period:2' AND customer_id = ANY($1)`, ids).Scan(&charged, &last); err != nil {
			return 0, err
		}
		if charged == n {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	d := last.Sub(at)
	fmt.Printf("renewal burst: %d charged %s after their due moment%s\n", n, d.Round(time.Millisecond), b.hiccups(runs))
	return d, nil
}

// execution names a workflow run.
type execution struct{ id, run string }

// hiccups reads the histories of runs and names the timeouts and failures in
// them (a task that timed out and was retried stretches a burst), or "".
func (b *bench) hiccups(runs []execution) string {
	counts := map[string]int{}
	for _, r := range runs {
		it := b.tc.GetWorkflowHistory(b.ctx, r.id, r.run, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				counts["history unreadable"]++
				break
			}
			name := ev.GetEventType().String()
			if a := ev.GetWorkflowTaskTimedOutEventAttributes(); a != nil {
				name += " " + a.GetTimeoutType().String()
			}
			if a := ev.GetActivityTaskTimedOutEventAttributes(); a != nil {
				name += " " + a.GetFailure().GetTimeoutFailureInfo().GetTimeoutType().String()
			}
			if strings.Contains(name, "TimedOut") || strings.HasSuffix(name, "Failed") {
				counts[name]++
			}
		}
	}
	if len(counts) == 0 {
		return ""
	}
	return fmt.Sprintf(" (in their histories: %v)", counts)
}
