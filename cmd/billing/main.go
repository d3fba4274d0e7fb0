// Command billing runs the billing system: the REST API, the Temporal worker,
// database migrations, or all of it at once for development.
//
//	billing dev      PostgreSQL database + migrations, a Temporal dev server, the worker and the API
//	billing api      the REST API
//	billing worker   the Temporal worker
//	billing migrate  create the database if missing and apply migrations
//	billing admin create --login L --email E   create an admin
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
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	sdkworker "go.temporal.io/sdk/worker"
	_ "time/tzdata" // customers' time zones must resolve on any machine

	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/api"
	"github.com/tempobill/billing/mail"
	"github.com/tempobill/billing/migrations"
	"github.com/tempobill/billing/sms"
	"github.com/tempobill/billing/store"
	"github.com/tempobill/billing/worker"
)

const usage = `usage: billing <command>

commands:
  dev      run everything for development: database, migrations, Temporal dev server, worker, API
  api      run the REST API
  worker   run the Temporal worker
  migrate  create the database if missing and apply migrations
  admin create --login L --email E [--name N] [--password P]
           create an admin (the password is generated and printed if left out)

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

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return errors.New(usage)
	}
	cfg, err := LoadConfig()
	if err != nil {
		return err
	}
	log := cfg.Logger()
	slog.SetDefault(log)
	switch args[0] {
	case "dev":
		return runDev(ctx, cfg, log)
	case "api":
		return withDeps(ctx, cfg, log, func(d deps) error { return serveAPI(ctx, cfg, d) })
	case "worker":
		return withDeps(ctx, cfg, log, func(d deps) error { return runWorker(ctx, cfg, d) })
	case "migrate":
		return migrate(ctx, cfg, log)
	case "admin":
		if len(args) < 2 || args[1] != "create" {
			return errors.New(usage)
		}
		return adminCreate(ctx, cfg, log, args[2:], os.Stdout)
	default:
		return errors.New(usage)
	}
}

// deps are the process-wide connections: one pool, one Temporal client.
type deps struct {
	log      *slog.Logger
	pool     *pgxpool.Pool
	store    *store.Store
	temporal client.Client
}

func withDeps(ctx context.Context, cfg Config, log *slog.Logger, fn func(deps) error) error {
	pool, err := store.OpenPool(ctx, cfg.DatabaseURL)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	defer pool.Close()
	tc, err := client.NewLazyClient(client.Options{
		HostPort:  cfg.TemporalAddress,
		Namespace: cfg.TemporalNamespace,
		Logger:    tlog.NewStructuredLogger(log.With("component", "temporal")),
	})
	if err != nil {
		return fmt.Errorf("temporal client: %w", err)
	}
	defer tc.Close()
	return fn(deps{log: log, pool: pool, store: store.New(pool), temporal: tc})
}

// serveAPI serves the REST API until ctx ends, then drains requests.
func serveAPI(ctx context.Context, cfg Config, d deps) error {
	handler := api.New(d.store, d.temporal, d.log, api.Options{TaskQueue: cfg.TaskQueue, Policy: cfg.Policy,
		StepNames: worker.StepNames(worker.Steps()), TrustedProxies: cfg.TrustedProxies,
		AllowPrivateWebhooks: cfg.WebhookAllowPrivate})
	// Orders whose workflow start failed while Temporal was away are started
	// or removed when it is back (see api.Server.Reconcile).
	go handler.RunReconciler(ctx, 30*time.Second)
	srv := &http.Server{
		Addr:              cfg.HTTPAddr,
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		// Well above api.MaxHeaderBytes, so that the API answers 431 in JSON;
		// only beyond this does net/http cut a request off in plain text.
		MaxHeaderBytes: 16 * api.MaxHeaderBytes,
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("HTTP_ADDR: %w", err)
	}
	d.log.Info("REST API listening", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

// runWorker runs the Temporal worker until ctx ends.
func runWorker(ctx context.Context, cfg Config, d deps) error {
	acts, err := newActivities(cfg, d)
	if err != nil {
		return err
	}
	sdkworker.SetStickyWorkflowCacheSize(cfg.WorkflowCacheSize) // process-wide, before the worker starts
	w := worker.New(d.temporal, cfg.TaskQueue, acts, worker.Options{})
	if err := w.Start(); err != nil {
		return fmt.Errorf("temporal worker: %w", err)
	}
	go ensureRedeliverySchedule(ctx, cfg, d)
	d.log.Info("worker started", "task_queue", cfg.TaskQueue, "temporal", cfg.TemporalAddress)
	<-ctx.Done()
	w.Stop()
	return nil
}

// ensureRedeliverySchedule creates the notice redelivery schedule, trying
// again every 10 seconds until it exists or the worker stops: a Temporal
// server that is slow to answer at start must not stop the worker.
func ensureRedeliverySchedule(ctx context.Context, cfg Config, d deps) {
	for {
		err := worker.EnsureRedeliverySchedule(ctx, d.temporal, cfg.TaskQueue)
		if err == nil || ctx.Err() != nil {
			return
		}
		d.log.Warn("notice redelivery schedule not created yet; trying again", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(10 * time.Second):
		}
	}
}

// newActivities wires the activities to their outside services: SMTP or a
// folder of .eml files, Twilio or a log file.
func newActivities(cfg Config, d deps) (*activities.Activities, error) {
	acts := &activities.Activities{Store: d.store, MailFrom: cfg.MailFrom, Steps: worker.Steps(), Log: d.log,
		AllowPrivateWebhooks: cfg.WebhookAllowPrivate}
	if cfg.SMTPAddr != "" {
		m, err := mail.NewSMTP(cfg.SMTPAddr, cfg.SMTPUsername, cfg.SMTPPassword, cfg.SMTPTLS)
		if err != nil {
			return nil, err
		}
		acts.Mail = m
		d.log.Info("mail goes to SMTP", "addr", cfg.SMTPAddr)
	} else {
		acts.Mail = mail.Dir{Path: cfg.MailDir}
		d.log.Info("mail goes to a folder of .eml files (set SMTP_ADDR to send)", "dir", cfg.MailDir)
	}
	if cfg.TwilioAccountSID != "" {
		acts.SMS = sms.NewTwilio(cfg.TwilioAccountSID, cfg.TwilioAuthToken, cfg.TwilioFrom, nil)
	} else {
		acts.SMS = &sms.Log{Path: cfg.SMSLog}
		d.log.Info("SMS go to a log file (set TWILIO_ACCOUNT_SID to send)", "file", cfg.SMSLog)
	}
	return acts, nil
}

// migrate creates the database if it is missing and applies the migrations.
func migrate(ctx context.Context, cfg Config, log *slog.Logger) error {
	if err := store.CreateDatabase(ctx, cfg.DatabaseURL); err != nil {
		return err
	}
	pool, err := store.OpenPool(ctx, cfg.DatabaseURL)
	if err != nil {
		return err
	}
	defer pool.Close()
	return migrations.Up(ctx, pool, log)
}
