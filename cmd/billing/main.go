// Command billing runs the billing system: the REST API, the Temporal worker,
// database migrations, or all of it at once for development.
//
//	billing dev      PostgreSQL database + migrations, a Temporal dev server, the worker and the API
//	billing api      the REST API
//	billing worker   the Temporal worker
//	billing migrate  create the database if missing and apply migrations
//	billing admin create --login L --email E   create an admin
//	billing bench    measure the system on a Temporal dev server and a database of its own
//
// Every command builds the system with Main, as the end-to-end tests do.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	_ "time/tzdata" // customers' time zones must resolve on any machine

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/api"
	"github.com/tempobill/billing/mail"
	"github.com/tempobill/billing/metrics"
	"github.com/tempobill/billing/migrations"
	"github.com/tempobill/billing/sms"
	"github.com/tempobill/billing/store"
	"github.com/tempobill/billing/worker"
	"github.com/tempobill/billing/workflows"
)

const usage = `usage: billing <command>

commands:
  dev      run everything for development: database, migrations, Temporal dev server, worker, API
  api      run the REST API
  worker   run the Temporal worker
  migrate  create the database if missing and apply migrations
  admin create --login L --email E [--name N] [--password P]
           create an admin (the password is generated and printed if left out)
  bench [-n N] [-starts N] [-cycles N] [-concurrency N] [-pollers N] [-only starts|history|burst] [-cache N]
           measure the system on its own Temporal dev server and database (see the README)

Configuration is read from environment variables; see the README.`

var lookPath = exec.LookPath

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "billing:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) (err error) {
	if len(args) == 0 {
		return errors.New(usage)
	}
	cfg, err := LoadConfig()
	if err != nil {
		return err
	}
	m := NewMain(cfg)
	slog.SetDefault(m.Log)
	defer func() { err = errors.Join(err, m.Close()) }()
	switch args[0] {
	case "dev":
		return m.runDev(ctx)
	case "api":
		return m.run(ctx, m.StartAPI)
	case "worker":
		return m.run(ctx, m.StartWorker)
	case "migrate":
		return m.Migrate(ctx)
	case "admin":
		if len(args) < 2 || args[1] != "create" {
			return errors.New(usage)
		}
		return adminCreate(ctx, m, args[2:], os.Stdout)
	case "bench":
		return runBench(ctx, cfg, args[1:])
	default:
		return errors.New(usage)
	}
}

// Main is the billing system built from a Config: one pool and one Temporal
// client (Open), and what runs on them: the worker (StartWorker), the REST
// API (StartAPI), for development a Temporal dev server (StartTemporalDev).
// The commands, the bench and the end-to-end tests all build the system
// with it, so it is wired in one place.
type Main struct {
	Config Config
	Log    *slog.Logger

	// Set by Open.
	Pool      *pgxpool.Pool
	Store     *store.Store
	Temporal  client.Client
	Workflows *workflows.Client

	// Metrics is the process's registry (set by Open); StartMetrics serves it
	// at MetricsURL. Tracing makes the spans of requests, workflows and
	// activities: set by Open (OTLP or none) unless set before (tests).
	Metrics    *metrics.Metrics
	MetricsURL string
	Tracing    trace.TracerProvider

	// Set by StartAPI: the API and the URL it is served at.
	API *api.Server
	URL string

	ctx         context.Context // ends with Close: the background loops stop
	cancel      context.CancelFunc
	worker      sdkworker.Worker
	http        *http.Server
	metricsSrv  *http.Server
	stopTracing func(context.Context) error
	devTemporal *devTemporal
	failed      chan error // a server Main started that stopped by itself
}

// NewMain returns a Main for cfg, logging as cfg says.
func NewMain(cfg Config) *Main {
	return &Main{Config: cfg, Log: cfg.Logger(), failed: make(chan error, 2)}
}

// run runs the part start starts until ctx ends.
func (m *Main) run(ctx context.Context, start func() error) error {
	if err := m.Open(ctx); err != nil {
		return err
	}
	if err := start(); err != nil {
		return err
	}
	if err := m.StartMetrics(); err != nil {
		return err
	}
	return m.Wait(ctx)
}

// Open connects the pool and the Temporal client (lazily: neither needs its
// server up yet). The loops Main starts later run until ctx ends or Close.
func (m *Main) Open(ctx context.Context) error {
	m.ctx, m.cancel = context.WithCancel(ctx)
	pool, err := store.OpenPool(ctx, m.Config.DatabaseURL)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	m.Pool, m.Store = pool, store.New(pool)
	// The API's payments and adjustments and the worker's charges watch the
	// days a balance lasts, and queue low_balance in their transactions.
	m.Store.SetLowBalanceNotifier(activities.QueueLowBalance(m.Config.Settings.DefaultLanguage))
	if err := m.openTelemetry(ctx); err != nil {
		return err
	}
	interceptors, err := m.temporalInterceptors()
	if err != nil {
		return err
	}
	tc, err := client.NewLazyClient(client.Options{
		HostPort:       m.Config.TemporalAddress,
		Namespace:      m.Config.TemporalNamespace,
		Logger:         tlog.NewStructuredLogger(m.Log.With("component", "temporal")),
		MetricsHandler: m.Metrics.TemporalHandler(),
		Interceptors:   interceptors,
	})
	if err != nil {
		return fmt.Errorf("temporal client: %w", err)
	}
	m.Temporal, m.Workflows = tc, workflows.NewClient(tc, m.Config.TaskQueue)
	return nil
}

// Wait waits until ctx ends (nil) or a server Main started stops by itself (why).
func (m *Main) Wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-m.failed:
		return err
	}
}

// Close stops what Main started, in order: the API (its requests drain for
// up to 10 seconds), the worker, the connections, the dev server.
func (m *Main) Close() error {
	var err error
	if m.http != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = m.http.Shutdown(ctx)
		cancel()
		m.http = nil
	}
	if m.cancel != nil {
		m.cancel()
	}
	if m.worker != nil {
		m.worker.Stop()
		m.worker = nil
	}
	if m.Temporal != nil {
		m.Temporal.Close()
		m.Temporal = nil
	}
	err = errors.Join(err, m.closeTelemetry())
	if m.Pool != nil {
		m.Pool.Close()
		m.Pool = nil
	}
	if m.devTemporal != nil {
		m.devTemporal.stop(m.Log)
		m.devTemporal = nil
	}
	return err
}

// StartAPI serves the REST API on Config.HTTPAddr, and reconciles orders
// whose workflow start failed while Temporal was away (see
// api.Server.Reconcile). Open first.
func (m *Main) StartAPI() error {
	cfg := m.Config
	m.API = api.New(m.Store, m.Temporal, m.Log, api.Options{TaskQueue: cfg.TaskQueue, Settings: cfg.Settings,
		StepNames: worker.StepNames(worker.Steps()), TrustedProxies: cfg.TrustedProxies,
		AllowPrivateWebhooks: cfg.WebhookAllowPrivate, PublicURL: cfg.PublicURL, MessageRate: cfg.MessageRate,
		MailFrom: cfg.MailFrom, MailGatewayKey: cfg.MailGatewayKey, Metrics: m.Metrics})
	go m.API.RunReconciler(m.ctx, 30*time.Second)
	srv := &http.Server{
		Handler:           m.traced(m.API),
		ReadHeaderTimeout: 10 * time.Second,
		// Well above api.MaxHeaderBytes, so that the API answers 431 in JSON;
		// only beyond this does net/http cut a request off in plain text.
		MaxHeaderBytes: 16 * api.MaxHeaderBytes,
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("HTTP_ADDR: %w", err)
	}
	m.http, m.URL = srv, "http://"+ln.Addr().String()
	m.Log.Info("REST API listening", "addr", ln.Addr().String())
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			m.failed <- err
		}
	}()
	return nil
}

// NewWorker returns a worker on Config.TaskQueue with the activities wired
// to their outside services, not started. Open first.
func (m *Main) NewWorker() (sdkworker.Worker, error) {
	acts, err := m.newActivities()
	if err != nil {
		return nil, err
	}
	sdkworker.SetStickyWorkflowCacheSize(m.Config.WorkflowCacheSize) // process-wide, before the worker starts
	return worker.New(m.Temporal, m.Config.TaskQueue, acts, worker.Options{Pollers: m.Config.WorkerPollers}), nil
}

// StartWorker starts the Temporal worker and makes sure the notice
// redelivery and inactive-clients schedules exist. Open first.
func (m *Main) StartWorker() error {
	w, err := m.NewWorker()
	if err != nil {
		return err
	}
	if err := w.Start(); err != nil {
		return fmt.Errorf("temporal worker: %w", err)
	}
	m.worker = w
	go m.ensureSchedules()
	m.Log.Info("worker started", "task_queue", m.Config.TaskQueue, "temporal", m.Config.TemporalAddress)
	return nil
}

// ensureSchedules creates the notice redelivery, inactive-clients and
// reminders schedules, trying again every 10 seconds until they exist or Main stops:
// a Temporal server that is slow to answer at start must not stop the worker.
func (m *Main) ensureSchedules() {
	for {
		err := worker.EnsureRedeliverySchedule(m.ctx, m.Temporal, m.Config.TaskQueue)
		if err == nil {
			err = worker.EnsureInactiveClientsSchedule(m.ctx, m.Temporal, m.Config.TaskQueue)
		}
		if err == nil {
			err = worker.EnsureRemindersSchedule(m.ctx, m.Temporal, m.Config.TaskQueue, m.Config.RemindersEvery)
		}
		if err == nil {
			// The gateways' schedules follow the table: a write the API could
			// not pass on to Temporal (an outage) heals here.
			var gws []billing.MailGateway
			if gws, err = m.Store.MailGateways(m.ctx); err == nil {
				err = workflows.SyncMailGatewaySchedules(m.ctx, m.Temporal, m.Config.TaskQueue, gws, m.Store.MailGatewayExists)
			}
		}
		if err == nil || m.ctx.Err() != nil {
			return
		}
		m.Log.Warn("schedules not created yet; trying again", "err", err)
		select {
		case <-m.ctx.Done():
			return
		case <-time.After(10 * time.Second):
		}
	}
}

// newActivities wires the activities to their outside services: SMTP or a
// folder of .eml files, Twilio or a log file.
func (m *Main) newActivities() (*activities.Activities, error) {
	cfg := m.Config
	acts := &activities.Activities{Store: m.Store, MailFrom: cfg.MailFrom, Steps: worker.Steps(), Log: m.Log,
		AllowPrivateWebhooks: cfg.WebhookAllowPrivate, PublicURL: cfg.PublicURL, MailGatewayKey: cfg.MailGatewayKey,
		Metrics: m.Metrics}
	if cfg.SMTPAddr != "" {
		mailer, err := mail.NewSMTP(cfg.SMTPAddr, cfg.SMTPUsername, cfg.SMTPPassword, cfg.SMTPTLS)
		if err != nil {
			return nil, err
		}
		acts.Mail = mailer
		m.Log.Info("mail goes to SMTP", "addr", cfg.SMTPAddr)
	} else {
		acts.Mail = mail.Dir{Path: cfg.MailDir}
		m.Log.Info("mail goes to a folder of .eml files (set SMTP_ADDR to send)", "dir", cfg.MailDir)
	}
	if cfg.TwilioAccountSID != "" {
		acts.SMS = sms.NewTwilio(cfg.TwilioAccountSID, cfg.TwilioAuthToken, cfg.TwilioFrom, nil)
	} else {
		acts.SMS = &sms.Log{Path: cfg.SMSLog}
		m.Log.Info("SMS go to a log file (set TWILIO_ACCOUNT_SID to send)", "file", cfg.SMSLog)
	}
	return acts, nil
}

// Migrate creates the database if it is missing and applies the migrations.
func (m *Main) Migrate(ctx context.Context) error {
	if err := store.CreateDatabase(ctx, m.Config.DatabaseURL); err != nil {
		return err
	}
	pool, err := store.OpenPool(ctx, m.Config.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	return migrations.Up(ctx, pool, m.Log)
}
