package main

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/testsuite"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/internal/apitest"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/internal/smtptest"
	"github.com/tempobill/billing/internal/temporaltest"
)

// TestWorkerKillDuringRenewals orders 200 subscriptions at once, so that
// they all renew in the same second, kills the worker process (SIGKILL) in
// the middle of those renewals and starts it again. Afterwards every
// subscription has been charged exactly twice (order and renewal), every
// notice was delivered once, and none was missed.
func TestWorkerKillDuringRenewals(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server and 200 subscriptions")
	}
	t.Parallel()
	const n = 200
	ctx := context.Background()
	r := newKillRig(t)
	dev, dbURL, smtpd, startWorker := r.dev, r.dbURL, r.smtp, r.startWorker
	w := startWorker()
	t.Cleanup(func() { _ = w.Process.Kill(); _ = w.Wait() })

	// The API in this process, on the same database and Temporal server.
	// No low-balance notices: the third period would send 1,200 of them.
	m := mustRunMain(t, func(cfg *Config) {
		cfg.DatabaseURL, cfg.TemporalAddress = dbURL, dev.FrontendHostPort()
		cfg.Settings = billing.DefaultSettings()
		cfg.Settings.LowMoneyExpirePeriod = []int{}
	})
	pool := m.Pool

	// Customers, each with money for exactly two periods, and a product
	// renewed every 40 seconds with the approved notice on.
	product, err := createProduct(ctx, m.Store, billing.PeriodSecond, 40, 1)
	require.NoError(t, err)
	customers, err := createCustomers(ctx, m.Store, n, 2*product.Price)
	require.NoError(t, err)

	// Order through the real API, all at once.
	token, err := adminToken(ctx, m.Store, "burst-admin")
	require.NoError(t, err)
	// Every order is checked against the OpenAPI document.
	hc := &http.Client{Transport: apitest.Transport(t, nil)}
	require.NoError(t, parallel(n, n, func(i int) error {
		_, err := order(ctx, hc, m.URL, token, customers[i], product.ID)
		return err
	}))

	renewals := func() int {
		var c int
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM ledger_entries WHERE idempotency_key LIKE 'subscription:%:period:2'`).Scan(&c))
		return c
	}
	// Kill the worker in the middle of the burst of renewals.
	deadline := time.Now().Add(3 * time.Minute)
	for renewals() < n/5 {
		require.True(t, time.Now().Before(deadline), "the renewals did not start")
		time.Sleep(10 * time.Millisecond)
	}
	killed := time.Now()
	require.NoError(t, w.Process.Signal(syscall.SIGKILL))
	_ = w.Wait()
	charged := renewals() // what the dead worker had committed
	t.Logf("worker killed with %d of %d renewals charged", charged, n)
	time.Sleep(2 * time.Second)
	w = startWorker()

	// How long the kill holds billing up (printed, not asserted: timings
	// are not tested on these machines): until renewals go on, and until all
	// are charged.
	var progress time.Duration
	require.Eventually(t, func() bool {
		c := renewals()
		if progress == 0 && c > charged {
			progress = time.Since(killed)
		}
		return c == n
	}, 3*time.Minute, 100*time.Millisecond, "every subscription renews")
	t.Logf("WORKFLOW_CACHE_SIZE=%q: renewals went on %.1fs after the kill (the worker restarted after 2 s); all %d charged %.1fs after it",
		os.Getenv("WORKFLOW_CACHE_SIZE"), progress.Seconds(), n, time.Since(killed).Seconds())
	// Every renewal's two notices are sent, or were being sent when the
	// worker died (those stay "sending" and are not sent again: at most once).
	settled := func() (sent, sending int) {
		require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE status = 'sent'), count(*) FILTER (WHERE status = 'sending')
			FROM notices WHERE period = 2 AND event IN ('approved', 'renewed')`).Scan(&sent, &sending))
		return sent, sending
	}
	require.Eventually(t, func() bool {
		sent, sending := settled()
		return sent+sending == 2*n
	}, 3*time.Minute, 250*time.Millisecond, "every renewal's notices are sent (a retried activity waits out its timeout first)")
	time.Sleep(3 * time.Second) // let anything that would be sent twice arrive

	var doubleCharged, wrongBalance int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT customer_id FROM ledger_entries WHERE kind = 'debit'
		GROUP BY customer_id HAVING count(*) <> 2) x`).Scan(&doubleCharged))
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM (SELECT customer_id FROM ledger_entries GROUP BY customer_id
		HAVING sum(CASE kind WHEN 'credit' THEN amount ELSE -amount END) <> 0) x`).Scan(&wrongBalance))
	require.Zero(t, doubleCharged, "customers not charged exactly twice")
	require.Zero(t, wrongBalance, "customers whose balance is not exactly zero")

	seen := map[string]int{}
	for _, m := range smtpd.Messages() {
		seen[m.MessageID]++
	}
	dups := 0
	for id, c := range seen {
		if c > 1 {
			dups++
			t.Errorf("message %s delivered %d times", id, c)
		}
	}
	sent, sending := settled()
	delivered := smtpd.Count("Approved 1.00 EUR") + smtpd.Count("was renewed")
	// A notice left "sending" by the kill may or may not have gone out (at
	// most once); every one recorded as sent did, and none went out twice.
	require.GreaterOrEqual(t, delivered, sent, "every notice recorded as sent was delivered")
	require.LessOrEqual(t, delivered, sent+sending, "nothing was delivered that was not claimed")
	require.Equal(t, 2*n, sent+sending, "no notice was forgotten")
	var unconfirmed int
	require.NoError(t, pool.QueryRow(ctx, `SELECT count(*) FROM notices WHERE status <> 'sent'`).Scan(&unconfirmed))
	rows, err := pool.Query(ctx, `SELECT event, status, recipient FROM notices WHERE status <> 'sent'`)
	require.NoError(t, err)
	for rows.Next() {
		var m, s, r string
		require.NoError(t, rows.Scan(&m, &s, &r))
		t.Logf("notice %s to %s left %s by the kill", m, r, s)
	}
	rows.Close()
	t.Logf("after the kill: %d renewals, %d double charges, %d duplicate notices, %d unconfirmed notices, %d mails in all",
		renewals(), doubleCharged, dups, unconfirmed, len(smtpd.Messages()))
}

// killRig is what a worker-kill test runs against: the built binary, a
// Temporal dev server, a database of its own, an in-process SMTP server, and
// the worker process's environment and output (shown if the test fails).
type killRig struct {
	bin   string
	dev   *testsuite.DevServer
	dbURL string
	smtp  *smtptest.Server
	env   []string
	logs  *syncBuffer
	t     *testing.T
}

func newKillRig(t *testing.T) *killRig {
	t.Helper()
	ctx := context.Background()
	r := &killRig{t: t, bin: buildBinary(t), logs: &syncBuffer{}}
	var err error
	r.dev, err = temporaltest.Start(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.dev.Stop() })
	base := os.Getenv("DATABASE_URL")
	if base == "" {
		base = dbtest.DefaultURL
	}
	var drop func()
	r.dbURL, drop, err = dbtest.Create(ctx, base)
	require.NoError(t, err)
	t.Cleanup(drop)
	r.smtp, err = smtptest.Start()
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.smtp.Close() })
	r.env = append(os.Environ(), "DATABASE_URL="+r.dbURL, "TEMPORAL_ADDRESS="+r.dev.FrontendHostPort(),
		"SMTP_ADDR="+r.smtp.Addr, "SMTP_TLS=none", "DATA_DIR="+t.TempDir(), "LOG_LEVEL=warn")
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("worker output:\n%s", r.logs.String())
		}
	})
	return r
}

// startWorker starts "billing worker" against the rig.
func (r *killRig) startWorker() *exec.Cmd {
	cmd := exec.Command(r.bin, "worker")
	cmd.Env = r.env
	cmd.Stdout, cmd.Stderr = r.logs, r.logs
	require.NoError(r.t, cmd.Start())
	return cmd
}
