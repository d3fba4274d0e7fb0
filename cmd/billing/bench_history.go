package main

import (
	"fmt"
	"slices"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/workflows"
)

// history is the "history" phase: history events per billing cycle.
func (b *bench) history() ([]row, error) {
	perCycle, maxRun, err := b.historyPerCycle(b.f.cycles)
	if err != nil {
		return nil, err
	}
	return []row{
		{measure: fmt.Sprintf("history events per billing cycle (mean over %d cycles)", b.f.cycles), billing: fmt.Sprintf("%.0f", perCycle), target: "<= 30"},
		{measure: fmt.Sprintf("most events in any run over %d cycles", b.f.cycles), billing: fmt.Sprint(maxRun), target: "bounded"},
	}, nil
}

// historyPerCycle runs one subscription billed every 2 seconds for cycles
// periods and counts the events of each run (one run per cycle).
func (b *bench) historyPerCycle(cycles int) (float64, int, error) {
	stop, err := b.newWorker()
	if err != nil {
		return 0, 0, err
	}
	defer stop()
	p, err := b.product(billing.PeriodSecond, 2, 1)
	if err != nil {
		return 0, 0, err
	}
	ids, err := b.customers(1, int64(cycles+5)*100)
	if err != nil {
		return 0, 0, err
	}
	order, err := b.st.CreateSubscription(b.ctx, billing.SubscriptionCreate{CustomerID: ids[0], ProductID: p.ID}, "", 0)
	if err != nil {
		return 0, 0, err
	}
	id := billing.SubscriptionWorkflowID(order.Subscription.ID)
	_, err = b.m.Workflows.Start(b.ctx, workflows.SubscriptionInput{SubscriptionID: order.Subscription.ID, CustomerID: ids[0],
		AutoRenew: true, Policy: b.m.Config.Settings.Policy()}, p)
	if err != nil {
		return 0, 0, err
	}
	began := time.Now()
	for {
		var charged int
		if err := b.m.Pool.QueryRow(b.ctx, `SELECT count(*) FROM ledger_entries WHERE customer_id = $1 AND kind = 'debit'`, ids[0]).Scan(&charged); err != nil {
			return 0, 0, err
		}
		if charged > cycles {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	_ = b.tc.TerminateWorkflow(b.ctx, id, "", "benchmark phase over")
	fmt.Printf("history: %d cycles in %s\n", cycles, time.Since(began).Round(time.Millisecond))
	// Walk the chain of runs from the first.
	// Walk the chain of runs from the latest, which was terminated mid-cycle,
	// back to the first, which was the order's. Each run between is one whole
	// billing cycle.
	var whole []int
	most, runs := 0, 0
	desc, err := b.tc.DescribeWorkflowExecution(b.ctx, id, "")
	if err != nil {
		return 0, 0, err
	}
	run := desc.WorkflowExecutionInfo.Execution.RunId
	for run != "" && runs < cycles+10 {
		it := b.tc.GetWorkflowHistory(b.ctx, id, run, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		events, prev := 0, ""
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				return 0, 0, err
			}
			events++
			if a := ev.GetWorkflowExecutionStartedEventAttributes(); a != nil {
				prev = a.GetContinuedExecutionRunId()
			}
		}
		most = max(most, events)
		if runs > 0 && prev != "" {
			whole = append(whole, events)
		}
		runs++
		run = prev
	}
	if len(whole) == 0 {
		return 0, most, fmt.Errorf("only %d runs found", runs)
	}
	slices.Sort(whole)
	total := 0
	for _, e := range whole {
		total += e
	}
	fmt.Printf("history: %d runs; events in the %d whole billing cycles: fewest %d, median %d, most %d\n",
		runs, len(whole), whole[0], whole[len(whole)/2], whole[len(whole)-1])
	return float64(total) / float64(len(whole)), most, nil
}
