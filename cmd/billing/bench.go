package main

// "billing bench" measures the billing system on one Temporal dev server and
// one PostgreSQL, phase by phase, and prints a table of every measure with
// its target. Each phase is a file of its own:
//
//   - starts (bench_starts.go): orders per second through the API against
//     bare ExecuteWorkflow starts, alternating rounds;
//   - history (bench_history.go): history events and Temporal actions per
//     billing cycle under the default policy;
//   - storm (bench_storm.go): N subscriptions due in the same second against
//     N bare timer-plus-one-activity workflows, alternating rounds, and the
//     same storm with the worker killed twice;
//   - sleeping (bench_sleeping.go): 100,000 sleeping subscriptions, the
//     worker's and the Temporal server's memory and the database's size;
//   - reads (bench_reads.go): API reads at a fixed request rate;
//   - charge (bench_charge.go): a charge for a customer with a long ledger
//     against one with a short ledger;
//   - usage (benchusage.go): usage events counted per second.
//
// Run it with: go run ./cmd/billing bench (flags: see benchFlags; -only
// runs one phase).

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
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store"
	"github.com/tempobill/billing/worker"
)

// benchFlags are the bench's parameters.
type benchFlags struct {
	only        string
	concurrency int // concurrent starters and API clients
	pollers     int // task pollers of each worker
	cache       int // WORKFLOW_CACHE_SIZE of the worker
	starts      int // workflows started in each round of the start measurement
	rounds      int // rounds of the alternating measurements (starts, storm)
	cycles      int // billing cycles of the history measurement
	storm       int // subscriptions due in the same second
	sleeping    int // sleeping subscriptions of the memory measurement
	rps         int // API requests per second of the read measurement
	seconds     int // length of the read measurement
	ledger      int // ledger entries of the long-ledger customer
	reminders   int // reminders due at once in the reminders phase
	events      int // usage events of each round of the usage measurement
	batch       int // usage events per request
}

// row is one line of the bench's table.
type row struct{ measure, billing, bare, ratio, target string }

// phase is one measurement; it prints its progress and returns its rows.
type phase struct {
	name string
	run  func(*bench) ([]row, error)
}

// phases run in this order; -only names one.
var phases = []phase{
	{"starts", (*bench).starts},
	{"history", (*bench).history},
	{"storm", (*bench).storm},
	{"kill", (*bench).stormKilled},
	{"charge", (*bench).charge},
	{"sleeping", (*bench).sleeping},
	{"reads", (*bench).reads},
	{"usage", (*bench).usage},
	{"reminders", (*bench).reminders},
}

// runBench is "billing bench": it builds the system with Main on a Temporal
// dev server (the file store "billing dev" uses, without its web UI) and a
// database of its own, both removed afterwards, and runs the measurements.
func runBench(ctx context.Context, cfg Config, args []string) (err error) {
	var f benchFlags
	fs := flag.NewFlagSet("billing bench", flag.ContinueOnError)
	var names []string
	for _, p := range phases {
		names = append(names, p.name)
	}
	fs.StringVar(&f.only, "only", "", "run only these phases, comma-separated: "+strings.Join(names, ", "))
	fs.IntVar(&f.concurrency, "concurrency", 32, "concurrent starters and API clients")
	fs.IntVar(&f.reminders, "reminders", 10000, "reminders due at once in the reminders phase")
	fs.IntVar(&f.pollers, "pollers", 2, "task pollers of each worker (billing and bare alike; 2 is the SDK default)")
	fs.IntVar(&f.cache, "cache", 0, "workflows each worker keeps in memory between tasks (WORKFLOW_CACHE_SIZE; 0 is the SDK default)")
	fs.IntVar(&f.starts, "starts", 1000, "workflows started in each round of the start measurement")
	fs.IntVar(&f.rounds, "rounds", 3, "rounds of each side of the alternating measurements")
	fs.IntVar(&f.cycles, "cycles", 100, "billing cycles of the history measurement")
	fs.IntVar(&f.storm, "n", 10000, "subscriptions due at the same second in the storm")
	fs.IntVar(&f.sleeping, "sleeping", 100000, "sleeping subscriptions of the memory measurement")
	fs.IntVar(&f.rps, "rps", 500, "API requests per second of the read measurement")
	fs.IntVar(&f.seconds, "seconds", 20, "seconds of the read measurement")
	fs.IntVar(&f.ledger, "ledger", 100000, "ledger entries of the long-ledger customer")
	fs.IntVar(&f.events, "events", 100000, "usage events of each round of the usage measurement")
	fs.IntVar(&f.batch, "batch", 1000, "usage events per request")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, name := range strings.Split(f.only, ",") {
		if f.only != "" && !slices.Contains(names, name) {
			return fmt.Errorf("-only takes phases among %s, comma-separated", strings.Join(names, ", "))
		}
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
	// The default policy: every notice a provider gets out of the box.
	cfg.Settings = billing.DefaultSettings()
	cfg.WorkerPollers, cfg.WorkflowCacheSize = f.pollers, f.cache

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
	b := &bench{ctx: ctx, m: m, tc: m.Temporal, st: m.Store, token: token, f: f, dir: dir,
		http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}}
	return b.run()
}

type bench struct {
	ctx   context.Context
	m     *Main
	tc    client.Client
	st    *store.Store
	token string
	http  *http.Client // keeps a connection per concurrent client, as API clients do
	f     benchFlags
	dir   string // the bench's temporary folder (mail, SMS log, Temporal's file store)
	// sleepers are the sleeping subscriptions of the "sleeping" phase, which
	// the "reads" phase reads (see ensureSleeping).
	sleepers []sleeper
	// workers are the worker processes still running (see startWorkerProcess),
	// stopped when the bench ends.
	workers []*workerProcess
	// sleepWorker is the worker process of the sleeping subscriptions.
	sleepWorker *workerProcess
}

// run runs the phases and prints the table.
func (b *bench) run() error {
	fmt.Printf("one Temporal dev server (file store, WAL) and PostgreSQL on this machine; %d concurrent clients, %d pollers per worker\n\n",
		b.f.concurrency, b.f.pollers)
	defer func() {
		for _, w := range b.workers {
			w.stop()
		}
	}()
	var rows []row
	for _, p := range phases {
		if b.f.only != "" && !slices.Contains(strings.Split(b.f.only, ","), p.name) {
			continue
		}
		fmt.Printf("== %s\n", p.name)
		r, err := p.run(b)
		if err != nil {
			return fmt.Errorf("%s: %w", p.name, err)
		}
		rows = append(rows, r...)
	}
	fmt.Printf("\n| measure | billing | bare Temporal | ratio | target |\n|---|---|---|---|---|\n")
	for _, r := range rows {
		fmt.Printf("| %s | %s | %s | %s | %s |\n", r.measure, r.billing, r.bare, r.ratio, r.target)
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
	bw.RegisterWorkflow(BenchTimerActivityContinue)
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

// workerProcess is "billing worker" running as a process of its own, as in
// production: the kill phase kills it, the sleeping phase reads its memory.
type workerProcess struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

// startWorkerProcess runs this binary's "billing worker" on the bench's
// database, Temporal server, mail folder and tuning; env adds to or overrides
// its environment (SMTP_ADDR=..., say).
func (b *bench) startWorkerProcess(env ...string) (*workerProcess, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cfg := b.m.Config
	cmd := exec.Command(exe, "worker")
	// Empty is unset for LoadConfig: the defaults, whatever this shell says.
	cmd.Env = append(os.Environ(), "DATABASE_URL="+cfg.DatabaseURL, "TEMPORAL_ADDRESS="+cfg.TemporalAddress,
		"TEMPORAL_NAMESPACE="+cfg.TemporalNamespace, "TEMPORAL_TASK_QUEUE="+cfg.TaskQueue, "DATA_DIR="+b.dir,
		"MAIL_DIR="+cfg.MailDir, "SMS_LOG="+cfg.SMSLog, "SMTP_ADDR=", "TWILIO_ACCOUNT_SID=", "LOG_LEVEL=warn", "LOG_FORMAT=text",
		"WORKFLOW_CACHE_SIZE="+strconv.Itoa(cfg.WorkflowCacheSize), "WORKER_POLLERS="+strconv.Itoa(cfg.WorkerPollers),
		"LOW_MONEY_EXPIRE_PERIOD=", "NEAR_DELETE_PERIOD=", "GRACE_DAYS=", "SUSPEND_AFTER_DAYS=", "UNPAID_ORDER_DAYS=", "MAX_UNPAID_ORDERS=")
	cmd.Env = append(cmd.Env, env...)
	log, err := os.OpenFile(filepath.Join(b.dir, "worker.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // never outlives the bench
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, err
	}
	w := &workerProcess{cmd: cmd, exited: make(chan struct{})}
	go func() { _ = cmd.Wait(); log.Close(); close(w.exited) }()
	b.workers = append(b.workers, w)
	return w, nil
}

// kill ends the worker at once (SIGKILL), as a crash or an OOM kill would.
func (w *workerProcess) kill() {
	_ = w.cmd.Process.Signal(syscall.SIGKILL)
	<-w.exited
}

// stop asks the worker to stop (SIGTERM) and waits, killing it after 15 s.
func (w *workerProcess) stop() {
	_ = w.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-w.exited:
	case <-time.After(15 * time.Second):
		w.kill()
	}
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
