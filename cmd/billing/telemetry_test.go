package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/internal/temporaltest"
	"github.com/tempobill/billing/metrics"
)

// TestOrderIsOneTraceAndShowsInMetrics: with a real API, worker, Temporal
// dev server and database in one process (as "billing dev" runs), an
// order through POST /api/v1/subscriptions makes one trace holding the
// HTTP span, the StartWorkflow span, the RunWorkflow span and the spans of
// the ChargePeriod activity; and once it is charged and its notice sent,
// METRICS_ADDR's /metrics shows the Temporal SDK's metrics, the route's
// request count, one charge made, the email sent, the subscriptions by
// status and the renewals due.
func TestOrderIsOneTraceAndShowsInMetrics(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Temporal server")
	}
	t.Parallel()
	ctx := context.Background()
	dev, err := temporaltest.Start(ctx)
	require.NoError(t, err)
	t.Cleanup(func() { _ = dev.Stop() })
	base := os.Getenv("DATABASE_URL")
	if base == "" {
		base = dbtest.DefaultURL
	}
	dbURL, drop, err := dbtest.Create(ctx, base)
	require.NoError(t, err)
	t.Cleanup(drop)

	cfg, err := LoadConfig()
	require.NoError(t, err)
	cfg.DatabaseURL, cfg.TemporalAddress = dbURL, dev.FrontendHostPort()
	cfg.HTTPAddr, cfg.MetricsAddr, cfg.DataDir = "127.0.0.1:0", "127.0.0.1:0", t.TempDir()
	cfg.SMTPAddr, cfg.TwilioAccountSID = "", ""
	cfg.MailDir, cfg.SMSLog = cfg.DataDir+"/mail", cfg.DataDir+"/sms.log"
	m := NewMain(cfg)
	m.Log = slog.New(slog.DiscardHandler)
	spans := tracetest.NewSpanRecorder()
	m.Tracing = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	t.Cleanup(func() { require.NoError(t, m.Close()) })
	require.NoError(t, m.Open(ctx))
	require.NoError(t, m.StartWorker())
	require.NoError(t, m.StartAPI())
	require.NoError(t, m.StartMetrics())

	admin, err := adminToken(ctx, m.Store, "telemetry-admin")
	require.NoError(t, err)
	customers, err := createCustomers(ctx, m.Store, 1, 10000)
	require.NoError(t, err)
	product, err := createProduct(ctx, m.Store, billing.PeriodMonth, 1, 0)
	require.NoError(t, err)
	var sub struct{ ID int64 }
	call(t, admin, "POST", m.URL+"/api/v1/subscriptions", fmt.Sprintf(`{"customer_id": %d, "product_id": %d}`, customers[0], product.ID),
		http.StatusCreated, &sub)

	// The order is charged and its "Approved" email sent: the counters say so.
	var text string
	require.Eventually(t, func() bool {
		text = scrape(t, m.MetricsURL)
		return sample(text, metrics.ChargesMade, "") == 1 &&
			sample(text, metrics.NoticeDeliveries, `channel="email",status="sent"`) >= 1
	}, time.Minute, 200*time.Millisecond, "the order is charged and its email sent")
	require.Equal(t, float64(1), sample(text, metrics.Subscriptions, `status="active"`), "subscriptions by status")
	require.Equal(t, float64(0), sample(text, metrics.Subscriptions, `status="suspended"`), "every status is shown")
	require.Equal(t, float64(0), sample(text, metrics.RenewalsDue, ""), "no renewal is due")
	require.LessOrEqual(t, sample(text, metrics.ChargesRefused, `reason="insufficient_funds"`), float64(0), "nothing refused")
	require.Equal(t, float64(1), sample(text, metrics.HTTPRequests, `method="POST",route="/api/v1/subscriptions",status="201"`),
		"requests are counted per route template")
	require.Greater(t, sample(text, metrics.HTTPRequestDuration+"_count", `method="POST",route="/api/v1/subscriptions"`), float64(0))
	for _, name := range metrics.SDKMetrics {
		if strings.HasPrefix(name, "temporal_activity_") {
			// Ordinary activities: custom steps and the schedules' batches.
			// An order runs none since cycle-cost 3: all its work is local.
			continue
		}
		require.Regexp(t, `(?m)^`+name+`(_bucket)?\{`, text, "the SDK's metric %s, which the dashboard graphs", name)
	}
	// A scrape with an ID in the URL never makes a label of it.
	call(t, admin, "GET", fmt.Sprintf("%s/api/v1/subscriptions/%d", m.URL, sub.ID), "", http.StatusOK, nil)
	require.Contains(t, scrape(t, m.MetricsURL), `route="/api/v1/subscriptions/:id"`)

	// One trace: the request's span is the root of the workflow's and its activities'.
	var root trace.SpanContext
	for _, s := range spans.Started() {
		if s.Name() == "POST /api/v1/subscriptions" {
			root = s.SpanContext()
		}
	}
	require.True(t, root.IsValid(), "the HTTP span is named after its route; spans: %v", spanNames(spans.Started()))
	inTrace := map[string]bool{}
	for _, s := range spans.Started() {
		if s.SpanContext().TraceID() == root.TraceID() {
			inTrace[s.Name()] = true
		}
	}
	for _, want := range []string{"StartWorkflow:SubscriptionWorkflow", "RunWorkflow:SubscriptionWorkflow", "RunActivity:ChargePeriod"} {
		require.True(t, inTrace[want], "%s is in the order's trace; it holds %v", want, inTrace)
	}
}

// scrape reads url's Prometheus text.
func scrape(t *testing.T, url string) string {
	t.Helper()
	res, err := http.Get(url)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return string(b)
}

// sample is the value of the series name{labels} in text (labels as the
// exposition writes them, sorted; "" for none), -1 if it isn't there.
func sample(text, name, labels string) float64 {
	series := name
	if labels != "" {
		series += "{" + labels + "}"
	}
	for _, line := range strings.Split(text, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return f
			}
		}
	}
	return -1
}

func spanNames(spans []sdktrace.ReadWriteSpan) []string {
	var out []string
	for _, s := range spans {
		out = append(out, s.Name())
	}
	return out
}
