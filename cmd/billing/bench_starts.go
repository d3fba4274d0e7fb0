package main

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/workflow"

	"github.com/tempobill/billing"
)

// starts is the "starts" phase: orders per second through the API against
// bare ExecuteWorkflow starts on the same server, in alternating rounds.
func (b *bench) starts() ([]row, error) {
	bare, viaAPI, err := b.startRounds(b.f.starts, b.f.concurrency)
	if err != nil {
		return nil, err
	}
	return []row{{measure: fmt.Sprintf("orders per second (median of %d rounds of %d, through the API vs ExecuteWorkflow)", b.f.rounds, b.f.starts),
		billing: fmt.Sprintf("%.0f/s", viaAPI), bare: fmt.Sprintf("%.0f/s", bare), ratio: fmt.Sprintf("%.2f", viaAPI/bare), target: ">= 0.9"}}, nil
}

// BenchSleep is the bare workflow of the start measurement: it sleeps.
func BenchSleep(ctx workflow.Context) error { return workflow.Sleep(ctx, 24*time.Hour) }

// startRounds alternates rounds of bare starts and of API orders, after a
// warm-up of each, and returns the median rate of each: one round is short
// enough for a stray pause of the machine to move it.
func (b *bench) startRounds(n, concurrency int) (bare, viaAPI float64, err error) {
	p, err := b.product(billing.PeriodMonth, 1, 3)
	if err != nil {
		return 0, 0, err
	}
	const rounds = 3
	var bares, apis []float64
	for round := range rounds + 1 {
		size := n
		if round == 0 {
			size = n / 5 // warm-up, not counted
		}
		r, err := b.bareStarts(round, size, concurrency)
		if err != nil {
			return 0, 0, err
		}
		a, err := b.apiStarts(p, size, concurrency)
		if err != nil {
			return 0, 0, err
		}
		if round > 0 {
			fmt.Printf("starts round %d: bare %.0f/s, through the API %.0f/s\n", round, r, a)
			bares, apis = append(bares, r), append(apis, a)
		}
	}
	slices.Sort(bares)
	slices.Sort(apis)
	return bares[rounds/2], apis[rounds/2], nil
}

// bareStarts measures ExecuteWorkflow of a sleeping workflow, no worker
// running, then terminates them.
func (b *bench) bareStarts(round, n, concurrency int) (float64, error) {
	id := func(i int) string { return fmt.Sprintf("bench-start-%d-%d", round, i) }
	began := time.Now()
	err := parallel(n, concurrency, func(i int) error {
		_, err := b.tc.ExecuteWorkflow(b.ctx, client.StartWorkflowOptions{ID: id(i), TaskQueue: "bench"}, BenchSleep)
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
