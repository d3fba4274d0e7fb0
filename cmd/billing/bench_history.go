package main

import (
	"fmt"
	"slices"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"google.golang.org/protobuf/proto"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/worker"
	"github.com/tempobill/billing/workflows"
)

// history is the "history" phase: history events and Temporal actions per billing cycle.
func (b *bench) history() ([]row, error) {
	h, err := b.historyPerCycle(b.f.cycles)
	if err != nil {
		return nil, err
	}
	return []row{
		{measure: fmt.Sprintf("history events per billing cycle, default policy (mean over %d cycles)", h.cycles), billing: fmt.Sprintf("%.1f", h.events), target: "<= 30"},
		{measure: fmt.Sprintf("most events in any run over %d cycles", h.cycles), billing: fmt.Sprint(h.most), target: "bounded"},
		{measure: fmt.Sprintf("Temporal actions per billing cycle (mean over %d cycles)", h.cycles), billing: fmt.Sprintf("%.1f", h.actions), target: "stated, lower than before"},
		{measure: fmt.Sprintf("history bytes per billing cycle (mean over %d cycles; Temporal Cloud bills storage by it)", h.cycles), billing: fmt.Sprintf("%.0f", h.bytes), target: "stated"},
	}, nil
}

// historyFigures are the history phase's results.
type historyFigures struct {
	cycles  int     // whole cycles measured
	events  float64 // mean events per cycle
	most    int     // most events in any run
	actions float64 // mean Temporal actions per cycle
	bytes   float64 // mean size of a cycle's history (its events' protobuf encoding)
}

// What a cycle costs under the default policy, in runs of cycle-cost
// version 4, by the bench (-only history -cycles 30): 21 events and 6
// actions. The reminders (low money 5 4 3 2 1 days before the renewal) are
// the reminders schedule's, for every subscription at once, so the workflow
// wakes up twice: at the incoming notice (3 days before: ReadPlan, then
// SendNotices, which first saves the schedule the step changed) and at the
// renewal (SendNotices of low money 0, the charge, the search attributes,
// SendNotices of the renewal's notices, continue-as-new), all local
// activities in one workflow task each. Each wake-up is 5 events and 1
// action (timer started and fired, a workflow task's 3 events), plus 1
// marker per local activity and 1 action per workflow task that ran any;
// the start adds 4 events (with its workflow task), the renewal's upsert 1
// and the continue-as-new 1. A run takes the cycle-cost version its input
// carries, so only a subscription's first run has the version marker and
// the TemporalChangeVersion upsert (2 more; version 3: 23 events). Version 2
// (a wake-up per reminder, the charge an ordinary activity) cost 59 events
// and 16 actions; before issue 15, 112 and 23.
//
// historyPerCycle runs one subscription on a product billed every 10
// seconds, whose incoming notice falls 3 "days" (seconds: see addDays)
// before renewal, under the default policy, whose low-money notices (5 4 3 2
// 1 0 days before) thus all fall inside each period: every notice of the
// policy is attempted in every cycle. The customer's balance covers every
// renewal, so SendNotices finds the low-money ones not due (balance not below
// the price) and sends nothing for them; the history is the same either way,
// as that test is made inside the activity. It counts the events and the
// actions of each run (one run per cycle) and prints them by type for the
// median run.
func (b *bench) historyPerCycle(cycles int) (historyFigures, error) {
	var h historyFigures
	stop, err := b.newWorker()
	if err != nil {
		return h, err
	}
	defer stop()
	// The reminders are the reminders schedule's: it runs beside, every
	// second as under "billing dev" (the product's days are seconds).
	if err := worker.EnsureRemindersSchedule(b.ctx, b.tc, b.m.Config.TaskQueue, time.Second); err != nil {
		return h, err
	}
	defer func() { _ = b.tc.ScheduleClient().GetHandle(b.ctx, workflows.RemindersScheduleID).Delete(b.ctx) }()
	p, err := b.product(billing.PeriodSecond, 10, 3)
	if err != nil {
		return h, err
	}
	ids, err := b.customers(1, int64(cycles+5)*100)
	if err != nil {
		return h, err
	}
	order, err := b.st.CreateSubscription(b.ctx, billing.SubscriptionCreate{CustomerID: ids[0], ProductID: p.ID}, "", 0)
	if err != nil {
		return h, err
	}
	id := billing.SubscriptionWorkflowID(order.Subscription.ID)
	_, err = b.m.Workflows.Start(b.ctx, workflows.SubscriptionInput{SubscriptionID: order.Subscription.ID, CustomerID: ids[0],
		AutoRenew: true, Policy: b.m.Config.Settings.Policy()}, p)
	if err != nil {
		return h, err
	}
	began := time.Now()
	for {
		var charged int
		if err := b.m.Pool.QueryRow(b.ctx, `SELECT count(*) FROM ledger_entries WHERE customer_id = $1 AND kind = 'debit'`, ids[0]).Scan(&charged); err != nil {
			return h, err
		}
		if charged > cycles {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	_ = b.tc.TerminateWorkflow(b.ctx, id, "", "benchmark phase over")
	fmt.Printf("history: %d cycles in %s\n", cycles, time.Since(began).Round(time.Millisecond))
	if err := b.remindersCost(); err != nil {
		return h, err
	}
	// Walk the chain of runs from the latest, which was terminated mid-cycle,
	// back to the first, which was the order's. Each run between is one whole
	// billing cycle.
	type run struct {
		events  []*historypb.HistoryEvent
		actions int
		bytes   int
	}
	var whole []run
	runs := 0
	desc, err := b.tc.DescribeWorkflowExecution(b.ctx, id, "")
	if err != nil {
		return h, err
	}
	runID := desc.WorkflowExecutionInfo.Execution.RunId
	for runID != "" && runs < cycles+10 {
		it := b.tc.GetWorkflowHistory(b.ctx, id, runID, false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		var events []*historypb.HistoryEvent
		prev := ""
		for it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				return h, err
			}
			events = append(events, ev)
			if a := ev.GetWorkflowExecutionStartedEventAttributes(); a != nil {
				prev = a.GetContinuedExecutionRunId()
			}
		}
		h.most = max(h.most, len(events))
		if runs > 0 && prev != "" {
			size := 0
			for _, ev := range events {
				size += proto.Size(ev)
			}
			whole = append(whole, run{events: events, actions: actionsOf(events), bytes: size})
		}
		runs++
		runID = prev
	}
	if len(whole) == 0 {
		return h, fmt.Errorf("only %d runs found", runs)
	}
	slices.SortStableFunc(whole, func(a, b run) int { return len(a.events) - len(b.events) })
	total, actions, size := 0, 0, 0
	for _, r := range whole {
		total += len(r.events)
		actions += r.actions
		size += r.bytes
	}
	n := float64(len(whole))
	h.cycles, h.events, h.actions, h.bytes = len(whole), float64(total)/n, float64(actions)/n, float64(size)/n
	median := whole[len(whole)/2]
	fmt.Printf("history: %d runs; events in the %d whole billing cycles: fewest %d, median %d, most %d\n",
		runs, len(whole), len(whole[0].events), len(median.events), len(whole[len(whole)-1].events))
	fmt.Printf("history: the median cycle, %d events by type:\n%s", len(median.events), breakdown(eventsByType(median.events)))
	fmt.Printf("history: its %d Temporal actions by type:\n%s", median.actions, breakdown(actionsByType(median.events)))
	fmt.Printf("history: its events in order:\n%s", sequence(median.events))
	return h, nil
}

// remindersCost prints what the reminders schedule did meanwhile: its runs,
// and the events and actions of one run (the schedule's own start of it,
// billed as an action too, is not in the history).
func (b *bench) remindersCost() error {
	runs, err := b.count("WorkflowType = 'RemindersWorkflow'")
	if err != nil {
		return err
	}
	res, err := b.tc.ListWorkflow(b.ctx, &workflowservice.ListWorkflowExecutionsRequest{Namespace: b.m.Config.TemporalNamespace,
		Query: "WorkflowType = 'RemindersWorkflow' AND ExecutionStatus = 'Completed'", PageSize: 1})
	if err != nil || len(res.Executions) == 0 {
		return err
	}
	e := res.Executions[0].GetExecution()
	it := b.tc.GetWorkflowHistory(b.ctx, e.GetWorkflowId(), e.GetRunId(), false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var events []*historypb.HistoryEvent
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return err
		}
		events = append(events, ev)
	}
	fmt.Printf("history: the reminders schedule ran %d times meanwhile, for every subscription at once; a run is %d events and %d actions\n",
		runs, len(events), actionsOf(events))
	return nil
}
