package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"go.temporal.io/sdk/client"

	"github.com/tempobill/billing/mailgateway/secret"
	"github.com/tempobill/billing/workflows"
)

// runDev runs the whole system on one machine: it migrates the local
// database, starts a Temporal dev server whose state is a file in DATA_DIR,
// then the worker and the API, and stops all of them on Ctrl-C.
func (m *Main) runDev(ctx context.Context) error {
	if err := m.devMailGatewayKey(); err != nil {
		return err
	}
	if os.Getenv("REMINDERS_EVERY") == "" {
		// Demo products billed in seconds have reminders seconds apart.
		m.Config.RemindersEvery = time.Second
	}
	cfg := m.Config
	if err := m.OpenDev(ctx); err != nil {
		return err
	}
	if err := m.StartWorker(); err != nil {
		return err
	}
	if err := m.StartAPI(); err != nil {
		return err
	}
	if err := m.StartMetrics(); err != nil {
		return err
	}
	adminLine, err := firstAdmin(ctx, m.Store)
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
  Metrics       %s
%s
`, displayAddr(cfg.HTTPAddr), cfg.TemporalUIPort, cfg.TemporalAddress, cfg.TemporalNamespace, cfg.TaskQueue, redact(cfg.DatabaseURL), m.devTemporal.logPath,
		cmp.Or(m.MetricsURL, "set METRICS_ADDR to serve /metrics for Prometheus"), adminLine)
	return m.Wait(ctx)
}

// OpenDev readies a system of its own on this machine: it creates and
// migrates the database, opens Main and starts a Temporal dev server.
func (m *Main) OpenDev(ctx context.Context) error {
	if err := m.Migrate(ctx); err != nil {
		return err
	}
	if err := m.Open(ctx); err != nil {
		return err
	}
	return m.StartTemporalDev(ctx)
}

type devTemporal struct {
	cmd     *exec.Cmd
	exited  chan struct{}
	logPath string
}

// StartTemporalDev starts "temporal server start-dev" on Config's address,
// in its own process group, with a file store in DATA_DIR and the search
// attributes the workflows set, and waits until it answers; Close stops it.
// Without a TEMPORAL_UI_PORT it runs without its web UI. Open first.
func (m *Main) StartTemporalDev(ctx context.Context) error {
	cfg := m.Config
	cli, err := cfg.temporalCLI()
	if err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(cfg.TemporalAddress)
	if err != nil {
		return fmt.Errorf("TEMPORAL_ADDRESS: %w", err)
	}
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return err
	}
	logPath := filepath.Join(cfg.DataDir, "temporal.log")
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	args := []string{"server", "start-dev", "--ip", host, "--port", port,
		"--namespace", cfg.TemporalNamespace,
		"--db-filename", filepath.Join(cfg.DataDir, "temporal.db"),
		"--sqlite-pragma", "journal_mode=wal", "--sqlite-pragma", "synchronous=normal",
		"--log-level", "warn"}
	if cfg.TemporalUIPort != "" {
		args = append(args, "--ui-port", cfg.TemporalUIPort)
	} else {
		args = append(args, "--headless")
	}
	for _, sa := range workflows.SearchAttributes {
		args = append(args, "--search-attribute", sa.Name+"="+sa.Type)
	}
	cmd := exec.Command(cli, args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Pdeathsig: the dev server must not outlive us even if we are killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logFile.Close()
		return fmt.Errorf("start the Temporal dev server (%s): %w", cli, err)
	}
	m.Log.Info("Temporal dev server starting", "pid", cmd.Process.Pid, "cli", cli)
	t := &devTemporal{cmd: cmd, exited: make(chan struct{}), logPath: logPath}
	m.devTemporal = t
	go func() {
		_ = cmd.Wait()
		logFile.Close()
		close(t.exited)
		if m.ctx.Err() == nil {
			m.failed <- errors.New("the Temporal dev server stopped; see " + logPath)
		}
	}()
	if err := waitForTemporal(ctx, m.Temporal, t.exited); err != nil {
		return fmt.Errorf("%w; the end of %s:\n%s", err, logPath, tail(logPath, 10))
	}
	return nil
}

// tail returns the last n lines of the file at path.
func tail(path string, n int) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
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
			return errors.New("the Temporal dev server exited while starting")
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

// devMailGatewayKey gives "billing dev" a MAIL_GATEWAY_KEY when none is set:
// the one kept in DATA_DIR/mail-gateway.key, made on the first run, so that
// the gateways' passwords stay readable across restarts.
func (m *Main) devMailGatewayKey() error {
	if m.Config.MailGatewayKey != nil {
		return nil
	}
	path := filepath.Join(m.Config.DataDir, "mail-gateway.key")
	if b, err := os.ReadFile(path); err == nil {
		k, err := secret.ParseKey(string(b))
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		m.Config.MailGatewayKey = k
		return nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	k, text, err := secret.NewKey()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(m.Config.DataDir, 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, []byte(text+"\n"), 0o600); err != nil {
		return err
	}
	m.Config.MailGatewayKey = k
	return nil
}
