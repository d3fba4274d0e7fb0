package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"
	"golang.org/x/sync/errgroup"

	"github.com/tempobill/billing/workflows"
)

// runDev runs the whole system on one machine: it migrates the local
// database, starts a Temporal dev server whose state is a file in DATA_DIR,
// then the worker and the API, and stops all of them on Ctrl-C.
func runDev(ctx context.Context, cfg Config, log *slog.Logger) error {
	if err := migrate(ctx, cfg, log); err != nil {
		return err
	}
	temporal, err := startTemporal(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer temporal.stop(log)
	return withDeps(ctx, cfg, log, func(d deps) error {
		if err := waitForTemporal(ctx, d.temporal, temporal.exited); err != nil {
			return err
		}
		g, gctx := errgroup.WithContext(ctx)
		g.Go(func() error { return runWorker(gctx, cfg, d) })
		g.Go(func() error { return serveAPI(gctx, cfg, d) })
		g.Go(func() error {
			select {
			case <-temporal.exited:
				return errors.New("the Temporal dev server stopped; see " + temporal.logPath)
			case <-gctx.Done():
				return nil
			}
		})
		adminLine, err := firstAdmin(ctx, d.store)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, `
billing is running. Press Ctrl-C to stop.
  REST API      http://%s/api/v1  (OpenAPI: /api/v1/openapi.json, health: /healthz, /readyz)
  Temporal UI   http://127.0.0.1:%s
  Temporal      %s (namespace %s, task queue %s)
  PostgreSQL    %s
  Temporal log  %s
%s
`, displayAddr(cfg.HTTPAddr), cfg.TemporalUIPort, cfg.TemporalAddress, cfg.TemporalNamespace, cfg.TaskQueue, redact(cfg.DatabaseURL), temporal.logPath, adminLine)
		return g.Wait()
	})
}

type devTemporal struct {
	cmd     *exec.Cmd
	exited  chan struct{}
	logPath string
}

// startTemporal starts "temporal server start-dev" in its own process group,
// with a file store and the search attributes the workflows set.
func startTemporal(ctx context.Context, cfg Config, log *slog.Logger) (*devTemporal, error) {
	cli, err := cfg.temporalCLI()
	if err != nil {
		return nil, err
	}
	host, port, err := net.SplitHostPort(cfg.TemporalAddress)
	if err != nil {
		return nil, fmt.Errorf("TEMPORAL_ADDRESS: %w", err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, err
	}
	logPath := filepath.Join(cfg.DataDir, "temporal.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	args := []string{"server", "start-dev", "--ip", host, "--port", port, "--ui-port", cfg.TemporalUIPort,
		"--namespace", cfg.TemporalNamespace,
		"--db-filename", filepath.Join(cfg.DataDir, "temporal.db"),
		"--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal",
		"--log-level", "warn"}
	for _, sa := range workflows.SearchAttributes {
		args = append(args, "--search-attribute", sa.Name+"="+sa.Type)
	}
	cmd := exec.Command(cli, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Pdeathsig: the dev server must not outlive us even if we are killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return nil, fmt.Errorf("start the Temporal dev server (%s): %w", cli, err)
	}
	log.Info("Temporal dev server starting", "pid", cmd.Process.Pid, "cli", cli)
	t := &devTemporal{cmd: cmd, exited: make(chan struct{}), logPath: logPath}
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(t.exited)
	}()
	return t, nil
}

// stop asks the dev server to stop and waits for it, killing it after 15 s.
func (t *devTemporal) stop(log *slog.Logger) {
	_ = syscall.Kill(-t.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-t.exited:
	case <-time.After(15 * time.Second):
		_ = syscall.Kill(-t.cmd.Process.Pid, syscall.SIGKILL)
		<-t.exited
	}
	log.Info("Temporal dev server stopped")
}

func waitForTemporal(ctx context.Context, tc client.Client, exited <-chan struct{}) error {
	deadline := time.After(2 * time.Minute)
	for {
		hctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := tc.CheckHealth(hctx, &client.CheckHealthRequest{})
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-exited:
			return errors.New("the Temporal dev server exited while starting; see its log in DATA_DIR")
		case <-deadline:
			return fmt.Errorf("the Temporal dev server did not become ready in 2 minutes: %w", err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

func displayAddr(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || host == "" || host == "0.0.0.0" || host == "::" {
		return "127.0.0.1:" + port
	}
	return addr
}

// redact hides the password in a database URL before printing it.
func redact(url string) string {
	if cfg, err := pgx.ParseConfig(url); err == nil && cfg.Password != "" {
		return fmt.Sprintf("postgres://%s:***@%s:%d/%s", cfg.User, cfg.Host, cfg.Port, cfg.Database)
	}
	return url
}
