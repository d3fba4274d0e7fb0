package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	tclient "go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"

	"github.com/tempobill/billing/internal/apitest"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/workflows"
)

// TestDevEndToEnd builds the binary and runs "billing dev" the way the README
// does, drives the API over HTTP, stops it with Ctrl-C (SIGINT), and starts it
// again to see that the state survived.
func TestDevEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts the whole system")
	}
	t.Parallel()
	bin := buildBinary(t)
	env, apiURL, temporalAddr := devEnv(t)
	uiPort := envValue(env, "TEMPORAL_UI_PORT")

	stop, out := startDev(t, bin, env, apiURL)
	res, err := http.Get("http://127.0.0.1:" + uiPort + "/")
	require.NoError(t, err, "the Temporal UI answers")
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)

	// The first start prints the first admin's password.
	m := regexp.MustCompile(`login admin, password (\S+)`).FindStringSubmatch(out.String())
	require.NotNil(t, m, "billing dev prints the first admin; output:\n%s", out.String())
	admin := signIn(t, apiURL+"/api/v1/auth/staff/login", "admin", m[1])

	var reg struct {
		Customer struct{ ID int64 }
	}
	call(t, admin, "POST", apiURL+"/api/v1/customers", `{"account_type": "individual", "name": "E2E", "country": "NL",
		"user": {"login": "e2e-user", "email": "e2e@example.com", "password": "e2e-user-password"}}`, http.StatusCreated, &reg)
	id := fmt.Sprint(reg.Customer.ID)
	var other struct {
		Customer struct{ ID int64 }
	}
	call(t, admin, "POST", apiURL+"/api/v1/customers", `{"account_type": "individual", "name": "Someone Else", "country": "NL",
		"user": {"login": "e2e-other", "email": "other@example.com"}}`, http.StatusCreated, &other)
	var pay struct{ ID int64 }
	call(t, admin, "POST", apiURL+"/api/v1/payments", `{"customer_id": `+id+`, "method": "electronic", "amount": 4200, "currency": "EUR"}`, http.StatusCreated, &pay)
	call(t, admin, "POST", apiURL+fmt.Sprintf("/api/v1/payments/%d/paid", pay.ID), "", http.StatusOK, nil)
	var doc map[string]any
	call(t, "", "GET", apiURL+"/api/v1/openapi.json", "", http.StatusOK, &doc)
	require.Contains(t, doc, "paths")

	// The customer's user signs in and sees only their own data.
	client := signIn(t, apiURL+"/api/v1/auth/login", "e2e-user", "e2e-user-password")
	call(t, client, "GET", apiURL+"/api/v1/customers/"+id, "", http.StatusOK, nil)
	call(t, client, "GET", apiURL+"/api/v1/customers", "", http.StatusForbidden, nil)
	// The other customer's real ID: an ID guessed as ID+1 might not exist and answer 404 anyway.
	call(t, client, "GET", apiURL+fmt.Sprintf("/api/v1/customers/%d", other.Customer.ID), "", http.StatusNotFound, nil)
	call(t, "", "GET", apiURL+"/api/v1/customers/"+id, "", http.StatusUnauthorized, nil)

	// The notice redelivery runs as a Temporal schedule: there, and its run works.
	tc, err := tclient.Dial(tclient.Options{HostPort: temporalAddr, Logger: tlog.NewStructuredLogger(slog.New(slog.DiscardHandler))})
	require.NoError(t, err)
	defer tc.Close()
	sched := tc.ScheduleClient().GetHandle(t.Context(), workflows.RedeliveryScheduleID)
	var desc *tclient.ScheduleDescription
	require.Eventually(t, func() bool {
		desc, err = sched.Describe(t.Context())
		return err == nil
	}, 30*time.Second, 100*time.Millisecond, "billing dev creates the redelivery schedule")
	action, ok := desc.Schedule.Action.(*tclient.ScheduleWorkflowAction)
	require.True(t, ok)
	require.Equal(t, "RedeliverNoticesWorkflow", action.Workflow)
	require.NoError(t, sched.Trigger(t.Context(), tclient.ScheduleTriggerOptions{}))
	require.Eventually(t, func() bool {
		desc, err := sched.Describe(t.Context())
		if err != nil || len(desc.Info.RecentActions) == 0 {
			return false
		}
		run := desc.Info.RecentActions[len(desc.Info.RecentActions)-1].StartWorkflowResult
		return tc.GetWorkflow(t.Context(), run.WorkflowID, run.FirstExecutionRunID).Get(t.Context(), nil) == nil
	}, time.Minute, 200*time.Millisecond, "a redelivery run completes")
	// So does the deletion of inactive clients.
	inactive := tc.ScheduleClient().GetHandle(t.Context(), workflows.InactiveClientsScheduleID)
	require.Eventually(t, func() bool {
		desc, err = inactive.Describe(t.Context())
		return err == nil
	}, 30*time.Second, 100*time.Millisecond, "billing dev creates the inactive-clients schedule")
	action, ok = desc.Schedule.Action.(*tclient.ScheduleWorkflowAction)
	require.True(t, ok)
	require.Equal(t, "InactiveClientsWorkflow", action.Workflow)
	require.Equal(t, workflows.InactiveClientsInterval, desc.Schedule.Spec.Intervals[0].Every)
	require.NoError(t, inactive.Trigger(t.Context(), tclient.ScheduleTriggerOptions{}))
	require.Eventually(t, func() bool {
		desc, err := inactive.Describe(t.Context())
		if err != nil || len(desc.Info.RecentActions) == 0 {
			return false
		}
		run := desc.Info.RecentActions[len(desc.Info.RecentActions)-1].StartWorkflowResult
		return tc.GetWorkflow(t.Context(), run.WorkflowID, run.FirstExecutionRunID).Get(t.Context(), nil) == nil
	}, time.Minute, 200*time.Millisecond, "an inactive-clients run completes (the setting is off: it does nothing)")
	call(t, admin, "GET", apiURL+"/metrics", "", http.StatusOK, nil)
	stop()

	// "billing admin create" adds another admin from the command line.
	create := exec.Command(bin, "admin", "create", "--login", "ops", "--email", "ops@example.com")
	create.Env = env
	created, err := create.CombinedOutput()
	require.NoError(t, err, "%s", created)
	m = regexp.MustCompile(`with password (\S+)`).FindStringSubmatch(string(created))
	require.NotNil(t, m, "%s", created)

	stop, out = startDev(t, bin, env, apiURL)
	defer stop()
	require.NotContains(t, out.String(), "First admin", "the first admin is printed only on the first start")
	ops := signIn(t, apiURL+"/api/v1/auth/staff/login", "ops", m[1])
	var bal struct {
		Balances []struct {
			Amount   int64
			Currency string
		}
	}
	call(t, ops, "GET", apiURL+"/api/v1/customers/"+id+"/balance", "", http.StatusOK, &bal)
	require.Len(t, bal.Balances, 1)
	require.Equal(t, int64(4200), bal.Balances[0].Amount, "the balance survives a restart")
	call(t, client, "GET", apiURL+"/api/v1/customers/"+id+"/balance", "", http.StatusOK, nil)
}

// devEnv returns the environment of a "billing dev" of this test's own: a
// new database (dropped after the test), free ports and a temporary data
// folder; and the API's URL and the Temporal frontend's address.
func devEnv(t *testing.T) (env []string, apiURL, temporalAddr string) {
	t.Helper()
	base := os.Getenv("DATABASE_URL")
	if base == "" {
		base = dbtest.DefaultURL
	}
	dbName := "billing_e2e_" + strings.ToLower(rand.Text()[:8])
	dbURL, err := databaseURL(base, dbName)
	require.NoError(t, err)
	t.Cleanup(func() { _ = dropDatabase(context.Background(), dbURL, dbName) })
	httpPort, temporalPort, uiPort := port(t), port(t), port(t)
	temporalAddr = "127.0.0.1:" + temporalPort
	env = append(os.Environ(),
		"DATABASE_URL="+dbURL,
		"HTTP_ADDR=127.0.0.1:"+httpPort,
		"TEMPORAL_ADDRESS="+temporalAddr,
		"TEMPORAL_UI_PORT="+uiPort,
		"DATA_DIR="+t.TempDir(),
	)
	return env, "http://127.0.0.1:" + httpPort, temporalAddr
}

func envValue(env []string, name string) string {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, name+"="); ok {
			return v
		}
	}
	return ""
}

var execCommand = exec.Command

func signIn(t *testing.T, url, login, password string) string {
	t.Helper()
	var res struct{ Token string }
	raw, err := json.Marshal(map[string]string{"login": login, "password": password})
	require.NoError(t, err)
	call(t, "", "POST", url, string(raw), http.StatusCreated, &res)
	return res.Token
}

// startDev starts "billing dev", waits until /readyz answers 200 and returns
// a function that stops it with SIGINT and checks that it exits cleanly.
func startDev(t *testing.T, bin string, env []string, apiURL string) (func(), *syncBuffer) {
	t.Helper()
	cmd := exec.Command(bin, "dev")
	cmd.Env = env
	out := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		require.NoError(t, cmd.Process.Signal(syscall.SIGINT))
		select {
		case err := <-exited:
			require.NoError(t, err, "billing dev exits 0 on Ctrl-C; output:\n%s", out.String())
		case <-time.After(60 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("billing dev did not stop within 60s; output:\n%s", out.String())
		}
		require.Contains(t, out.String(), "Temporal dev server stopped")
	}
	t.Cleanup(stop)
	deadline := time.Now().Add(3 * time.Minute)
	for {
		res, err := http.Get(apiURL + "/readyz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("billing dev exited early (%v); output:\n%s", err, out.String())
		case <-time.After(250 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("billing dev was not ready within 3 minutes; output:\n%s", out.String())
		}
	}
	require.Eventually(t, func() bool { return strings.Contains(out.String(), "Temporal UI") }, 10*time.Second, 50*time.Millisecond)
	return stop, out
}

// syncBuffer collects a process's output; it is read while being written.
type syncBuffer struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func call(t *testing.T, token, method, url, body string, want int, out any) {
	t.Helper()
	callWith(t, token, method, url, body, nil, want, out)
}

// callWith is call with extra request headers.
func callWith(t *testing.T, token, method, url, body string, headers map[string]string, want int, out any) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	apitest.Verify(t, req, []byte(body), res, raw)
	require.Equal(t, want, res.StatusCode, "%s %s: %s", method, url, raw)
	if out != nil {
		require.NoError(t, json.Unmarshal(raw, out))
	}
}

// port is a free port of 127.0.0.1.
func port(t *testing.T) string {
	t.Helper()
	p, err := freePort()
	require.NoError(t, err)
	return p
}
