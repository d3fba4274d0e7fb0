package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/workflows"
)

// sleeper is one sleeping subscription of the "sleeping" phase.
type sleeper struct{ subscriptionID, customerID int64 }

// sleeping is the "sleeping" phase: 100,000 sleeping subscriptions; the
// worker's and the Temporal server's memory and the database's size.
func (b *bench) sleeping() ([]row, error) {
	if err := b.ensureSleeping(); err != nil {
		return nil, err
	}
	w := b.sleepWorker
	rss, hwm := procMemory(w.cmd.Process.Pid)
	var trss, thwm int64
	if t := b.m.devTemporal; t != nil {
		trss, thwm = procMemory(t.cmd.Process.Pid)
	}
	var size int64
	if err := b.m.Pool.QueryRow(b.ctx, `SELECT pg_database_size(current_database())`).Scan(&size); err != nil {
		return nil, err
	}
	cache := strconv.Itoa(b.m.Config.WorkflowCacheSize)
	if b.m.Config.WorkflowCacheSize == 0 {
		cache = "0 (none)"
	}
	fmt.Printf("sleeping: worker (WORKFLOW_CACHE_SIZE=%s) VmRSS %d MB, VmHWM %d MB; Temporal dev server VmRSS %d MB, VmHWM %d MB; PostgreSQL %d MB; temporal.db %s\n",
		cache, rss>>10, hwm>>10, trss>>10, thwm>>10, size>>20, b.temporalSize())
	return []row{{measure: fmt.Sprintf("%d sleeping subscriptions (worker a process of its own, WORKFLOW_CACHE_SIZE=%s): worker RSS (peak), Temporal dev server RSS (peak), PostgreSQL database size",
		len(b.sleepers), cache),
		billing: fmt.Sprintf("worker %d MB (%d MB); Temporal %d MB (%d MB); PostgreSQL %d MB", rss>>10, hwm>>10, trss>>10, thwm>>10, size>>20),
		target:  "worker <= 300 MB; all three stated"}}, nil
}

// temporalSize is the size of the dev server's SQLite file and WAL, in MB.
func (b *bench) temporalSize() string {
	db, wal := b.temporalFiles()
	return fmt.Sprintf("%d MB + WAL %d MB", db>>20, wal>>20)
}

// procMemory returns VmRSS and VmHWM of process pid, in kB.
func procMemory(pid int) (rss, hwm int64) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		v, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			rss = v
		case "VmHWM:":
			hwm = v
		}
	}
	return rss, hwm
}

// ensureSleeping makes b.f.sleeping subscriptions whose workflows sleep
// until a renewal a month away, once, and returns them in b.sleepers. The
// worker runs as a process of its own (b.sleepWorker), started here and left
// running, as a provider's would be.
func (b *bench) ensureSleeping() error {
	if b.sleepers != nil {
		return nil
	}
	n := b.f.sleeping
	w, err := b.startWorkerProcess()
	if err != nil {
		return err
	}
	b.sleepWorker = w
	p, err := b.product(billing.PeriodMonth, 1, 3)
	if err != nil {
		return err
	}
	began := time.Now()
	ids, err := b.customers(n, 0)
	if err != nil {
		return err
	}
	fmt.Printf("sleeping: %d customers in %s\n", n, sec(time.Since(began)))
	plan := activities.Plan{ProductID: p.ID, ProductName: p.Name, Price: p.Price, Currency: p.Currency, PeriodUnit: p.PeriodUnit,
		PeriodCount: p.PeriodCount, IncomingDays: p.IncomingDays, AutoRenew: true, TimeZone: "UTC"}
	sleepers := make([]sleeper, n)
	runs := make([]execution, n)
	began = time.Now()
	err = parallel(n, b.f.concurrency, func(i int) error {
		order, err := b.st.CreateSubscription(b.ctx, billing.SubscriptionCreate{CustomerID: ids[i], ProductID: p.ID}, "", 0)
		if err != nil {
			return err
		}
		sleepers[i] = sleeper{order.Subscription.ID, ids[i]}
		now := time.Now()
		// Paid for a month from now: the next thing it does is a notice days
		// before that.
		state := &workflows.SubscriptionState{Status: billing.SubscriptionActive, Period: 1, PeriodStart: now, PaidUntil: now.AddDate(0, 1, 0),
			AutoRenew: true, Plan: plan, Done: []string{}, UsageTracked: true}
		runs[i].id = billing.SubscriptionWorkflowID(order.Subscription.ID)
		runs[i].run, err = b.m.Workflows.Start(b.ctx, workflows.SubscriptionInput{SubscriptionID: order.Subscription.ID, CustomerID: ids[i],
			AutoRenew: true, Policy: b.m.Config.Settings.Policy(), State: state}, p)
		if i > 0 && i%10000 == 0 {
			fmt.Printf("sleeping: %d started, %.0f/s\n", i, float64(i)/time.Since(began).Seconds())
		}
		return err
	})
	if err != nil {
		return err
	}
	fmt.Printf("sleeping: %d subscriptions started in %s (%.0f/s)\n", n, sec(time.Since(began)), float64(n)/time.Since(began).Seconds())
	// Their rows say what their workflows' state says (active, paid for a
	// month), as an order's charge would have written: the API reads a
	// provider's database of active services, not of unpaid orders.
	subs := make([]int64, n)
	for i, s := range sleepers {
		subs[i] = s.subscriptionID
	}
	if _, err := b.m.Pool.Exec(b.ctx, `UPDATE subscriptions SET status = 'active', paid_until = now() + interval '1 month' WHERE id = ANY($1)`, subs); err != nil {
		return err
	}
	// Asleep when the worker has done the first task of the last ones
	// started and then stays idle.
	tail := runs[max(0, n-100):]
	// A backlog of first workflow tasks can take the dev server a while
	// after the last start: say how far it is every minute, and what the
	// histories hold if it doesn't end.
	for began, said := time.Now(), time.Now(); ; {
		h := b.histories(tail, enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED)
		if h.missing == 0 {
			break
		}
		if time.Since(began) > 30*time.Minute {
			return fmt.Errorf("%d of the last %d sleeping subscriptions did not complete their first workflow task in 30 minutes (their histories: %v)",
				h.missing, len(tail), h.counts)
		}
		if time.Since(said) > time.Minute {
			fmt.Printf("sleeping: %d of the last %d have not completed their first workflow task yet (%s)\n", h.missing, len(tail), sec(time.Since(began)))
			said = time.Now()
		}
		time.Sleep(time.Second)
	}
	for range 60 {
		before := procCPU(w.cmd.Process.Pid)
		time.Sleep(2 * time.Second)
		if procCPU(w.cmd.Process.Pid)-before < 0.1 {
			break
		}
	}
	b.sleepers = sleepers
	return nil
}
