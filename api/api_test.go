package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/api"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/internal/temporaltest"
	"github.com/tempobill/billing/mail"
	"github.com/tempobill/billing/sms"
	"github.com/tempobill/billing/store"
	"github.com/tempobill/billing/worker"
	"github.com/tempobill/billing/workflows"
)

// temporalClient talks to the package's Temporal dev server, where a worker
// with the real activities runs.
var temporalClient client.Client

func TestMain(m *testing.M) { os.Exit(run(m)) }

// run gives the package a database, a Temporal dev server and a worker with
// the real activities (mail into a folder, SMS into a file).
func run(m *testing.M) int {
	ctx := context.Background()
	drop, err := dbtest.Setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "database:", err)
		return 1
	}
	defer drop()
	dev, err := temporaltest.Start(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "temporal dev server:", err)
		return 1
	}
	defer func() { _ = dev.Stop() }()
	temporalClient = dev.Client()
	pool, err := pgxpool.New(ctx, dbtest.URL())
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer pool.Close()
	dir, err := os.MkdirTemp("", "billing-api-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	workerStore := store.New(pool)
	workerStore.SetLowBalanceNotifier(activities.QueueLowBalance("en")) // as cmd/billing wires it
	w := worker.New(temporalClient, workflows.TaskQueue, &activities.Activities{Store: workerStore,
		Mail: mail.Dir{Path: filepath.Join(dir, "mail")}, SMS: &sms.Log{Path: filepath.Join(dir, "sms.log")},
		MailFrom: "billing@example.com", Steps: worker.Steps(), Log: slog.New(slog.DiscardHandler),
		MailGatewayKey: gatewayKey}, worker.Options{})
	if err := w.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 1
	}
	defer w.Stop()
	return m.Run()
}

type bundle struct {
	t     *testing.T
	srv   *httptest.Server
	api   *api.Server
	store *store.Store
	token string // an admin's session; do sends it
}

func setup(t *testing.T, with ...func(*api.Options)) *bundle {
	t.Helper()
	return setupOn(t, dbtest.Pool(t), with...)
}

// setupOn is setup on another database than the package's (dbtest.OwnPool,
// for tests that change the global settings). The package's worker doesn't
// see that database: such tests start no workflow.
func setupOn(t *testing.T, db *pgxpool.Pool, with ...func(*api.Options)) *bundle {
	t.Helper()
	st := store.New(db)
	opts := api.Options{StepNames: worker.StepNames(worker.Steps())}
	for _, f := range with {
		f(&opts)
	}
	s := api.New(st, temporalClient, slog.New(slog.DiscardHandler), opts)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	b := &bundle{t: t, srv: srv, api: s, store: st}
	b.token = b.staffSession(billing.RoleAdmin)
	return b
}

// staffSession creates a staff member with role and permissions and returns a
// session token for them, without the cost of hashing a password.
func (b *bundle) staffSession(role string, perms ...string) string {
	b.t.Helper()
	login := "s" + uniq()
	st, err := b.store.CreateStaff(b.t.Context(), billing.StaffCreate{Login: login, Email: login + "@staff.example",
		Role: role, Permissions: append([]string{}, perms...)}, "no-password")
	require.NoError(b.t, err)
	return b.session(store.Session{Kind: billing.ActorStaff, StaffID: st.ID})
}

// session stores a session and returns its token.
func (b *bundle) session(s store.Session) string {
	b.t.Helper()
	token := "bs_" + rand.Text()
	if s.ExpiresAt.IsZero() {
		s.ExpiresAt = time.Now().Add(time.Hour)
	}
	sum := sha256.Sum256([]byte(token))
	_, err := b.store.CreateSession(b.t.Context(), s, sum[:])
	require.NoError(b.t, err)
	return token
}

// do sends a request with a raw body and decodes the JSON answer into a map.
func (b *bundle) do(method, path, body string) (int, map[string]any) {
	b.t.Helper()
	return b.doAs(b.token, method, path, body)
}

// doHeaders is do with extra request headers.
func (b *bundle) doHeaders(method, path, body string, headers map[string]string) (int, map[string]any) {
	b.t.Helper()
	return b.request(b.token, method, path, body, headers)
}

// doAs is do with another token ("" for none).
func (b *bundle) doAs(token, method, path, body string) (int, map[string]any) {
	b.t.Helper()
	return b.request(token, method, path, body, nil)
}

func (b *bundle) request(token, method, path, body string, headers map[string]string) (int, map[string]any) {
	b.t.Helper()
	h := map[string]string{"Content-Type": "application/json"}
	maps.Copy(h, headers)
	res, raw := b.send(token, method, path, body, h)
	var out map[string]any
	switch {
	case len(raw) == 0:
	case strings.HasPrefix(res.Header.Get("Content-Type"), "text/plain"),
		strings.HasPrefix(res.Header.Get("Content-Type"), "text/html"),
		res.Header.Get("Content-Type") == "application/pdf", res.Header.Get("Content-Type") == "message/rfc822":
		out = map[string]any{"text": string(raw)} // the metrics, a printable invoice, its PDF, a raw mail
	default:
		require.NoError(b.t, json.Unmarshal(raw, &out), "body: %s", raw)
	}
	return res.StatusCode, out
}

// doJSON marshals v as the body.
func (b *bundle) doJSON(method, path string, v any) (int, map[string]any) {
	b.t.Helper()
	raw, err := json.Marshal(v)
	require.NoError(b.t, err)
	return b.do(method, path, string(raw))
}

func uniq() string { return strings.ToLower(rand.Text()[:10]) }

func (b *bundle) newCustomer() (id string, login string) {
	b.t.Helper()
	login = "c" + uniq()
	status, body := b.doJSON("POST", "/api/v1/customers", map[string]any{
		"account_type": "individual", "name": "Ann Example", "country": "DE",
		"user": map[string]any{"login": login, "email": login + "@example.com", "first_name": "Ann"},
	})
	require.Equal(b.t, http.StatusCreated, status, "%v", body)
	return jsonID(body["customer"]), login
}

func jsonID(v any) string {
	return strings.TrimSuffix(strings.TrimSuffix(jsonString(v.(map[string]any)["id"]), ".0"), "")
}

func jsonString(v any) string {
	raw, _ := json.Marshal(v)
	return string(bytes.Trim(raw, `"`))
}

func errorOf(t *testing.T, body map[string]any) (code, message string, fields map[string]any) {
	t.Helper()
	e, ok := body["error"].(map[string]any)
	require.True(t, ok, "not an error body: %v", body)
	fields, _ = e["fields"].(map[string]any)
	require.NotEmpty(t, e["message"])
	return e["code"].(string), e["message"].(string), fields
}

func mustJSON(v any) string {
	raw, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(raw)
}

func stringsReader(s string) io.Reader { return strings.NewReader(s) }
