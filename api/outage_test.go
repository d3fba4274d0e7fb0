package api_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/api"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/store"
	"github.com/tempobill/billing/worker"
)

// dbSwitch is a TCP proxy in front of PostgreSQL that can be turned off, as
// if the server stopped: connections are cut and new ones refused.
type dbSwitch struct {
	ln    net.Listener
	mu    sync.Mutex
	up    bool
	conns []net.Conn
}

func newDBSwitch(t *testing.T) *dbSwitch {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &dbSwitch{ln: ln, up: true}
	t.Cleanup(func() { ln.Close(); s.set(false) })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			if !s.up {
				s.mu.Unlock()
				c.Close()
				continue
			}
			backend, err := net.Dial("tcp", "127.0.0.1:5432")
			if err != nil {
				s.mu.Unlock()
				c.Close()
				continue
			}
			s.conns = append(s.conns, c, backend)
			s.mu.Unlock()
			go func() { _, _ = io.Copy(backend, c); backend.Close() }()
			go func() { _, _ = io.Copy(c, backend); c.Close() }()
		}
	}()
	return s
}

// set turns the database on or off; off cuts every open connection.
func (s *dbSwitch) set(up bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.up = up
	if !up {
		for _, c := range s.conns {
			c.Close()
		}
		s.conns = nil
	}
}

// url is the package database's URL through the switch.
func (s *dbSwitch) url(t *testing.T) string {
	u, err := url.Parse(dbtest.URL())
	require.NoError(t, err)
	u.Host = s.ln.Addr().String()
	q := u.Query()
	q.Set("connect_timeout", "2")
	u.RawQuery = q.Encode()
	return u.String()
}

// TestDatabaseOutage: while PostgreSQL is down, every route that needs it
// answers 503 unavailable (not 500), public routes ignore tokens, /readyz
// names the dependency and nothing about it, and all comes back by itself.
func TestDatabaseOutage(t *testing.T) {
	t.Parallel()
	b := setup(t)
	sw := newDBSwitch(t)
	pool, err := store.OpenPool(t.Context(), sw.url(t))
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	srv := httptest.NewServer(api.New(store.New(pool), temporalClient, slog.New(slog.DiscardHandler),
		api.Options{StepNames: worker.StepNames(worker.Steps())}))
	t.Cleanup(srv.Close)
	b.srv = srv
	id, _ := b.newCustomer()

	sw.set(false)
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/api/v1/customers", ""},
		{"GET", "/api/v1/customers/" + id, ""},
		{"PATCH", "/api/v1/customers/" + id, `{"contact_person": "Down"}`},
		{"POST", "/api/v1/auth/login", `{"login": "someone", "password": "some-password-1"}`},
	} {
		status, body := b.do(r.method, r.path, r.body)
		require.Equal(t, http.StatusServiceUnavailable, status, "%s %s: %v", r.method, r.path, body)
		code, msg, _ := errorOf(t, body)
		require.Equal(t, billing.EUNAVAILABLE, code)
		require.Contains(t, msg, "try again")
	}
	for _, token := range []string{"", b.token, "bs_stale"} {
		status, raw := b.raw(token, "GET", "/readyz", "")
		require.Equal(t, http.StatusServiceUnavailable, status, "token %q: %s", token, raw)
		require.JSONEq(t, `{"postgres": "unreachable", "temporal": "ok"}`, raw, "nothing about the database is shown")
		status, _ = b.raw(token, "GET", "/healthz", "")
		require.Equal(t, http.StatusOK, status, "token %q: a public route doesn't look at tokens", token)
	}
	status, raw := b.raw("", "GET", "/readyz", "")
	require.Equal(t, http.StatusServiceUnavailable, status)
	for _, secret := range []string{sw.ln.Addr().String(), "postgres", "user=", "database="} {
		if secret == "postgres" {
			require.Equal(t, 1, strings.Count(raw, secret), "only the dependency's name: %s", raw)
			continue
		}
		require.NotContains(t, raw, secret)
	}

	sw.set(true)
	require.Eventually(t, func() bool {
		status, _ := b.do("GET", "/api/v1/customers/"+id, "")
		return status == http.StatusOK
	}, 20*time.Second, 100*time.Millisecond, "the API comes back by itself")
	status, _ = b.raw("", "GET", "/readyz", "")
	require.Equal(t, http.StatusOK, status)
}

// TestOrderWhileTemporalIsDown: an order placed while Temporal can't be
// reached answers 503 and leaves no order behind once Temporal answers again
// (the reconciler removes it); an order whose workflow did start but was
// never marked is marked, not removed.
func TestOrderWhileTemporalIsDown(t *testing.T) {
	t.Parallel()
	b := setup(t)
	down, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1", Logger: tlog.NewStructuredLogger(slog.New(slog.DiscardHandler)),
		ConnectionOptions: client.ConnectionOptions{GetSystemInfoTimeout: time.Second}})
	require.NoError(t, err)
	t.Cleanup(down.Close)
	offline := httptest.NewServer(api.New(b.store, down, slog.New(slog.DiscardHandler), api.Options{StepNames: worker.StepNames(worker.Steps())}))
	t.Cleanup(offline.Close)
	cust, _ := b.newCustomer()
	product := b.product(500)

	online := b.srv
	b.srv = offline
	ctx, cancel := context.WithTimeout(t.Context(), 40*time.Second)
	defer cancel()
	order := `{"customer_id": ` + cust + `, "product_id": ` + product + `}`
	req, err := http.NewRequestWithContext(ctx, "POST", offline.URL+"/api/v1/subscriptions", strings.NewReader(order))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+b.token)
	res, raw := b.exchange(req, order)
	require.Equal(t, http.StatusServiceUnavailable, res.StatusCode, "%s", raw)
	require.Contains(t, string(raw), `"unavailable"`)
	b.srv = online

	customerID := mustID(t, cust)
	list, err := b.store.Subscriptions(t.Context(), billing.SubscriptionFilter{CustomerID: &customerID})
	require.NoError(t, err)
	require.Equal(t, 1, list.Total, "the row waits for Temporal to say whether its workflow started")
	orphan := list.Items[0]

	// A second order, started for real but never marked (the API died between the two).
	status, body := b.do("POST", "/api/v1/subscriptions", `{"customer_id": `+cust+`, "product_id": `+product+`}`)
	require.Equal(t, http.StatusCreated, status, "%v", body)
	startedID := mustID(t, jsonID(body))
	_, err = b.store.Pool().Exec(t.Context(), `UPDATE subscriptions SET workflow_started_at = NULL WHERE id = $1`, startedID)
	require.NoError(t, err)

	// Age both, so that the reconciler looks at them and at no other test's.
	_, err = b.store.Pool().Exec(t.Context(), `UPDATE subscriptions SET created_at = created_at - interval '1 hour' WHERE id = ANY($1)`,
		[]int64{orphan.ID, startedID})
	require.NoError(t, err)
	_, _, err = b.api.Reconcile(t.Context(), 30*time.Minute)
	require.NoError(t, err)
	_, err = b.store.Subscription(t.Context(), orphan.ID)
	require.Equal(t, billing.ENOTFOUND, billing.ErrorCode(err), "the order that never started is gone")
	sub, err := b.store.Subscription(t.Context(), startedID)
	require.NoError(t, err, "the order whose workflow runs stays")
	var marked bool
	require.NoError(t, b.store.Pool().QueryRow(t.Context(), `SELECT workflow_started_at IS NOT NULL FROM subscriptions WHERE id = $1`, sub.ID).Scan(&marked))
	require.True(t, marked)
}

// TestMetricsShowNoticeStatuses: /metrics gives staff (and their API keys)
// the number of notices in each delivery status, in Prometheus' format.
func TestMetricsShowNoticeStatuses(t *testing.T) {
	t.Parallel()
	b := setup(t)
	status, body := b.do("GET", "/metrics", "")
	require.Equal(t, http.StatusOK, status)
	text := body["text"].(string)
	require.Contains(t, text, "# TYPE billing_notices gauge")
	for _, s := range []string{"queued", "sending", "sent", "failed", "unknown", "rejected", "expired"} {
		require.Regexp(t, `(?m)^billing_notices\{status="`+s+`"\} \d+$`, text)
	}
	status, _ = b.doAs("", "GET", "/metrics", "")
	require.Equal(t, http.StatusUnauthorized, status)
}
