package main

// "billing bench" measures the billing system on one Temporal dev server and
// one PostgreSQL, and prints a table:
//
//   - subscriptions created per second through the API, against bare
//     Temporal workflow starts per second (the ratio should be at least 0.7);
//   - history events per billing cycle, and the most events in any run over
//     100 cycles (bounded by continue-as-new);
//   - the time for N subscriptions due at the same second to be charged,
//     against N bare timer-plus-one-activity workflows (ratio at most 2);
//   - usage events counted per second through POST
//     /api/v1/subscriptions/{id}/usage in batches, new ones and half resent.
//
// Run it with: go run ./cmd/billing bench (flags: -n, -starts, -cycles,
// -concurrency, -pollers, -only, -cache, -events, -batch).

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/store"
	"github.com/tempobill/billing/worker"
	"github.com/tempobill/billing/workflows"
)

// runBench is "billing bench": it builds the system with Main on a Temporal
// dev server (the file store "billing dev" uses, without its web UI) and a
// database of its own, both removed afterwards, and runs the measurements.
func runBench(ctx context.Context, cfg Config, args []string) (err error) {
	fs := flag.NewFlagSet("billing bench", flag.ContinueOnError)
	n := fs.Int("n", 2000, "subscriptions due at the same second")
	starts := fs.Int("starts", 1000, "workflows started in each round of the start measurement")
	cycles := fs.Int("cycles", 100, "billing cycles of the history measurement")
	concurrency := fs.Int("concurrency", 32, "concurrent starters")
	pollers := fs.Int("pollers", 2, "task pollers of each worker (billing and bare alike; 2 is the SDK default)")
	only := fs.String("only", "", "run one phase only: starts, history, burst or usage")
	events := fs.Int("events", 100000, "usage events of each round of the usage measurement")
	batch := fs.Int("batch", 1000, "usage events per request")
	cache := fs.Int("cache", 0, "workflows each worker keeps in memory between tasks (WORKFLOW_CACHE_SIZE; 0, the default, is none)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "billing-bench")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	dbName := "billing_bench_" + strings.ToLower(rand.Text()[:10])
	if cfg.DatabaseURL, err = databaseURL(cfg.DatabaseURL, dbName); err != nil {
		return err
	}
	temporalPort, err := freePort()
	if err != nil {
		return err
	}
	cfg.TemporalAddress, cfg.TemporalUIPort, cfg.TemporalNamespace = "127.0.0.1:"+temporalPort, "", "default"
	cfg.HTTPAddr, cfg.DataDir = "127.0.0.1:0", dir
	// Mail and SMS go to files, whatever the environment says.
	cfg.SMTPAddr, cfg.TwilioAccountSID = "", ""
	cfg.MailDir, cfg.SMSLog = filepath.Join(dir, "mail"), filepath.Join(dir, "sms.log")
	cfg.Settings = billing.DefaultSettings()
	cfg.Settings.LowMoneyExpirePeriod, cfg.Settings.NearDeletePeriod = []int{1, 0}, []int{1}
	cfg.Settings.GraceDays, cfg.Settings.SuspendAfterDays = 2, 1
	cfg.Settings.UnpaidOrderDays, cfg.Settings.MaxUnpaidOrders = 0, 0 // orders wait, without a limit
	cfg.WorkerPollers, cfg.WorkflowCacheSize = *pollers, *cache

	m := NewMain(cfg)
	m.Log = slog.New(slog.DiscardHandler)
	defer func() { err = errors.Join(err, dropDatabase(context.WithoutCancel(ctx), cfg.DatabaseURL, dbName)) }()
	defer func() { err = errors.Join(err, m.Close()) }()
	if err := m.OpenDev(ctx); err != nil {
		return err
	}
	if err := m.StartAPI(); err != nil {
		return err
	}
	token, err := adminToken(ctx, m.Store, "bench")
	if err != nil {
		return err
	}
	b := &bench{ctx: ctx, m: m, tc: m.Temporal, st: m.Store, token: token,
		http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}}
	b.usageEvents, b.usageBatch = *events, *batch
	return b.run(*n, *starts, *cycles, *concurrency, *pollers, *only)
}

type bench struct {
	ctx   context.Context
	m     *Main
	tc    client.Client
	st    *store.Store
	token string
	http  *http.Client // keeps a connection per concurrent client, as API clients do
	// usageEvents and usageBatch size the usage measurement (see usageRate).
	usageEvents, usageBatch int
}

func (b *bench) run(n, starts, cycles, concurrency, pollers int, only string) error {
	var err error
	fmt.Printf("one Temporal dev server (file store, WAL) and PostgreSQL on this machine; %d concurrent starters, %d pollers per worker\n\n", concurrency, pollers)
	var bare, viaAPI, perCycle float64
	var maxRun int
	var bareBurst, billingBurst time.Duration
	if only == "" || only == "starts" {
		if bare, viaAPI, err = b.startRounds(starts, concurrency); err != nil {
			return err
		}
	}
	if only == "" || only == "history" {
		if perCycle, maxRun, err = b.historyPerCycle(cycles); err != nil {
			return err
		}
	}
	if only == "" || only == "burst" {
		if bareBurst, err = b.bareBurst(n, concurrency); err != nil {
			return err
		}
		if billingBurst, err = b.renewalBurst(n, concurrency); err != nil {
			return err
		}
	}
	var freshRate, resentRate float64
	if only == "" || only == "usage" {
		if freshRate, resentRate, err = b.usageRate(b.usageEvents, b.usageBatch, concurrency); err != nil {
			return err
		}
	}
	fmt.Printf("\n| measure | billing | bare Temporal | ratio | target |\n|---|---|---|---|---|\n")
	if bare > 0 {
		fmt.Printf("| starts per second (median of 3 rounds of %d, through the API vs ExecuteWorkflow) | %.0f/s | %.0f/s | %.2f | >= 0.7 |\n", starts, viaAPI, bare, viaAPI/bare)
	}
	if maxRun > 0 {
		fmt.Printf("| history events per billing cycle (mean over %d cycles) | %.0f | | | bounded |\n", cycles, perCycle)
		fmt.Printf("| most events in any run over %d cycles | %d | | | bounded |\n", cycles, maxRun)
	}
	if bareBurst > 0 {
		fmt.Printf("| %d due at the same second: time until all charged vs all timer+activity done | %s | %s | %.2f | <= 2 |\n",
			n, billingBurst.Round(10*time.Millisecond), bareBurst.Round(10*time.Millisecond), billingBurst.Seconds()/bareBurst.Seconds())
	}
	if freshRate > 0 {
		fmt.Printf("| usage events counted per second (%d in batches of %d, %d senders; all new) | %.0f/s | | | |\n", b.usageEvents, b.usageBatch, concurrency, freshRate)
		fmt.Printf("| usage events per second, every other one a resend (duplicate) | %.0f/s | | | |\n", resentRate)
	}
	return nil
}

// parallel runs fn(i) for i in [0, n) on concurrency goroutines.
func parallel(n, concurrency int, fn func(i int) error) error {
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, concurrency)
	for range concurrency {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if err := fn(i); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

// BenchSleep is the bare workflow of the start measurement: it sleeps.
func BenchSleep(ctx workflow.Context) error { return workflow.Sleep(ctx, 24*time.Hour) }

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

// newWorker runs the billing worker and the bare workflows' worker.
func (b *bench) newWorker() (func(), error) {
	w, err := b.m.NewWorker()
	if err != nil {
		return nil, err
	}
	// The bare worker is tuned as the billing worker is.
	pollers := b.m.Config.WorkerPollers
	bw := sdkworker.New(b.tc, "bench", sdkworker.Options{MaxConcurrentWorkflowTaskPollers: pollers, MaxConcurrentActivityTaskPollers: pollers,
		StickyScheduleToStartTimeout: worker.StickyScheduleToStartTimeout})
	bw.RegisterWorkflow(BenchSleep)
	bw.RegisterWorkflow(BenchTimerActivity)
	bw.RegisterActivity(BenchNoop)
	if err := w.Start(); err != nil {
		return nil, err
	}
	if err := bw.Start(); err != nil {
		w.Stop()
		return nil, err
	}
	return func() { w.Stop(); bw.Stop() }, nil
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

// adminToken creates an admin called login with a session and returns the
// session's bearer token, without the cost of hashing a password: for the
// bench and the end-to-end tests.
func adminToken(ctx context.Context, st *store.Store, login string) (string, error) {
	admin, err := st.CreateStaff(ctx, billing.StaffCreate{Login: login, Email: login + "@example.com", Role: billing.RoleAdmin,
		Permissions: []string{}}, "x")
	if err != nil {
		return "", err
	}
	token := "bs_" + rand.Text()
	sum := sha256.Sum256([]byte(token))
	_, err = st.CreateSession(ctx, store.Session{Kind: billing.ActorStaff, StaffID: admin.ID, ExpiresAt: time.Now().Add(24 * time.Hour)}, sum[:])
	return token, err
}

// createCustomers creates n customers, 16 at a time, each credited balance
// EUR cents (nothing for 0), and returns their IDs.
func createCustomers(ctx context.Context, st *store.Store, n int, balance int64) ([]int64, error) {
	ids := make([]int64, n)
	err := parallel(n, 16, func(i int) error {
		login := fmt.Sprintf("b%d%s", i, strings.ToLower(rand.Text()[:8]))
		in := billing.CustomerCreate{AccountType: billing.AccountIndividual, Name: "Bench", Country: "DE",
			User: billing.UserCreate{Login: login, Email: login + "@example.com"}}
		in.Defaults()
		c, _, err := st.CreateCustomer(ctx, in, "x")
		if err != nil {
			return err
		}
		ids[i] = c.ID
		if balance == 0 {
			return nil
		}
		_, err = st.Adjust(ctx, c.ID, billing.Adjustment{Kind: billing.Credit, Amount: balance, Currency: "EUR", Reference: "bench", IdempotencyKey: rand.Text()})
		return err
	})
	return ids, err
}

// createProduct creates a product at 1.00 EUR billed every count units,
// incoming days before renewal, that mails "Approved 1.00 EUR" on each charge.
func createProduct(ctx context.Context, st *store.Store, unit string, count, incoming int) (billing.Product, error) {
	price := int64(100)
	in := billing.ProductInput{Name: "Bench " + unit, Price: &price, Currency: "EUR", PeriodUnit: unit, PeriodCount: count, IncomingDays: &incoming,
		PaymentStates: map[string]billing.NoticeSetting{billing.StateApproved: {Email: true, Subject: "Approved [PAYMENT_AMOUNT]", Body: "ok"}}}
	return st.CreateProduct(ctx, in.Product())
}

// order orders product for customer through the API at apiURL.
func order(ctx context.Context, hc *http.Client, apiURL, token string, customer, product int64) (billing.Subscription, error) {
	var sub billing.Subscription
	req, err := http.NewRequestWithContext(ctx, "POST", apiURL+"/api/v1/subscriptions",
		strings.NewReader(fmt.Sprintf(`{"customer_id": %d, "product_id": %d}`, customer, product)))
	if err != nil {
		return sub, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	res, err := hc.Do(req)
	if err != nil {
		return sub, err
	}
	defer res.Body.Close()
	if err := json.NewDecoder(res.Body).Decode(&sub); err != nil || res.StatusCode != http.StatusCreated {
		return sub, fmt.Errorf("order: %s", res.Status)
	}
	return sub, nil
}

// databaseURL is base with its database replaced by name. A database named
// in the query (dbname=, database=), which pgx prefers to the path, is taken
// out: the bench fills and then drops the database it names.
func databaseURL(base, name string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" {
		return "", fmt.Errorf("DATABASE_URL must be a URL such as postgres://user@host:5432/db here")
	}
	u.Path = "/" + name
	q := u.Query()
	q.Del("dbname")
	q.Del("database")
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// dropDatabase drops the database name, which dbURL must name, connecting
// to the server's postgres database to do so. A URL that leads elsewhere
// drops nothing: only the database the caller made is ever dropped.
func dropDatabase(ctx context.Context, dbURL, name string) error {
	cfg, err := pgx.ParseConfig(dbURL)
	if err != nil {
		return err
	}
	if cfg.Database != name {
		return fmt.Errorf("not dropping database %q: it is not %q, the one made here", cfg.Database, name)
	}
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	return err
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort() (string, error) {
	// Ports below Linux's ephemeral range (32768-60999): a port the kernel
	// hands out for "any free port" (to a Temporal dev server's own
	// services, say) can't be one of ours, freed between the check and the
	// moment its server binds it.
	var err error
	for range 50 {
		var ln net.Listener
		if ln, err = net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", 20000+mathrand.IntN(12000))); err == nil {
			defer ln.Close()
			return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port), nil
		}
	}
	return "", err
}
