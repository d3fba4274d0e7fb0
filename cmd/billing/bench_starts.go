package main

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/workflows"
)

// starts is the "starts" phase: orders per second through the API against
// bare ExecuteWorkflow starts on the same server, in alternating rounds. The
// bare side is measured twice: plain, and with the static summary and search
// attributes an order's start carries (what ops see in the Temporal UI), so
// that their share of the gap is known.
func (b *bench) starts() ([]row, error) {
	r, err := b.startRounds(b.f.starts, b.f.concurrency)
	if err != nil {
		return nil, err
	}
	what := fmt.Sprintf("median of %d rounds of %d", b.f.rounds, b.f.starts)
	return []row{
		{measure: fmt.Sprintf("orders per second (%s, through the API vs ExecuteWorkflow)", what),
			billing: r.api.String(), bare: r.bare.String(), ratio: fmt.Sprintf("%.2f", r.api.median()/r.bare.median()), target: ">= 0.9"},
		{measure: fmt.Sprintf("orders per second (%s, through the API vs ExecuteWorkflow with the order's summary and search attributes)", what),
			billing: r.api.String(), bare: r.bareAttrs.String(), ratio: fmt.Sprintf("%.2f", r.api.median()/r.bareAttrs.median()), target: "stated"},
	}, nil
}

// roundRates are the rates of the rounds of one side of a measurement.
type roundRates []float64

func (r roundRates) median() float64 {
	s := slices.Sorted(slices.Values(r))
	return s[len(s)/2]
}

// String is the median and the range of r, per second.
func (r roundRates) String() string {
	return fmt.Sprintf("%.0f/s (%.0f-%.0f)", r.median(), slices.Min(r), slices.Max(r))
}

// startRates are the rounds of the start measurement, side by side.
type startRates struct{ bare, bareAttrs, api roundRates }

// BenchSleep is the bare workflow of the start measurement: it sleeps.
func BenchSleep(ctx workflow.Context) error { return workflow.Sleep(ctx, 24*time.Hour) }

// startRounds alternates rounds of bare starts, of bare starts with the
// order's summary and search attributes and of API orders, after a warm-up
// of each, and returns the roundRates of each round: one round is short enough
// for a stray pause of the machine to move it.
func (b *bench) startRounds(n, concurrency int) (startRates, error) {
	var r startRates
	p, err := b.product(billing.PeriodMonth, 1, 3)
	if err != nil {
		return r, err
	}
	rounds := max(b.f.rounds, 1)
	for round := range rounds + 1 {
		size := n
		if round == 0 {
			size = n / 5 // warm-up, not counted
		}
		bare, err := b.bareStarts(round, size, concurrency, false)
		if err != nil {
			return r, err
		}
		attrs, err := b.bareStarts(round, size, concurrency, true)
		if err != nil {
			return r, err
		}
		a, err := b.apiStarts(p, size, concurrency)
		if err != nil {
			return r, err
		}
		if round > 0 {
			fmt.Printf("starts round %d: bare %.0f/s, bare with summary and search attributes %.0f/s, through the API %.0f/s\n", round, bare, attrs, a)
			r.bare, r.bareAttrs, r.api = append(r.bare, bare), append(r.bareAttrs, attrs), append(r.api, a)
		}
	}
	return r, nil
}

// bareStarts measures ExecuteWorkflow of a sleeping workflow, no worker
// running, then terminates them. With attrs, each start carries a static
// summary and search attributes as an order's does (workflows.Client.Start).
func (b *bench) bareStarts(round, n, concurrency int, attrs bool) (float64, error) {
	id := func(i int) string { return fmt.Sprintf("bench-start-%d-%v-%d", round, attrs, i) }
	began := time.Now()
	err := parallel(n, concurrency, func(i int) error {
		opts := client.StartWorkflowOptions{ID: id(i), TaskQueue: "bench"}
		if attrs {
			opts.StaticSummary = fmt.Sprintf("Subscription %d: %s for customer %d", i, "Bench month", i)
			opts.TypedSearchAttributes = temporal.NewSearchAttributes(workflows.SearchCustomerID.ValueSet(int64(i)),
				workflows.SearchProductID.ValueSet(int64(round)), workflows.SearchStatus.ValueSet(billing.SubscriptionUnpaid))
		}
		_, err := b.tc.ExecuteWorkflow(b.ctx, opts, BenchSleep)
		return err
	})
	rate := float64(n) / time.Since(began).Seconds()
	if err != nil {
		return 0, err
	}
	return rate, b.terminate(n, concurrency, id)
}

// terminate ends the n workflows named by id, then gives the server a few
// seconds to finish what the terminations left it to do, so that the next
// measurement starts on a quiet server.
func (b *bench) terminate(n, concurrency int, id func(i int) string) error {
	err := parallel(n, concurrency, func(i int) error {
		return b.tc.TerminateWorkflow(b.ctx, id(i), "", "benchmark phase over")
	})
	time.Sleep(3 * time.Second)
	return err
}

// customers creates n customers with balance (EUR cents) each.
func (b *bench) customers(n int, balance int64) ([]int64, error) {
	return createCustomers(b.ctx, b.st, n, balance)
}

func (b *bench) product(unit string, count, incoming int) (billing.Product, error) {
	return createProduct(b.ctx, b.st, unit, count, incoming)
}

// apiStarts measures POST /api/v1/subscriptions for n new customers: a row,
// an audit entry and a workflow start each. No worker runs, as for the bare
// starts; the workflows are terminated afterwards.
func (b *bench) apiStarts(p billing.Product, n, concurrency int) (float64, error) {
	ids, err := b.customers(n, 0)
	if err != nil {
		return 0, err
	}
	workflowIDs := make([]string, n)
	began := time.Now()
	err = parallel(n, concurrency, func(i int) error {
		sub, err := order(b.ctx, b.http, b.m.URL, b.token, ids[i], p.ID)
		workflowIDs[i] = sub.WorkflowID
		return err
	})
	rate := float64(n) / time.Since(began).Seconds()
	if err != nil {
		return 0, err
	}
	return rate, b.terminate(n, concurrency, func(i int) string { return workflowIDs[i] })
}
