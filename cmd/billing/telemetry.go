package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"time"

	"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace/noop"
	"go.temporal.io/sdk/interceptor"

	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"

	"github.com/tempobill/billing/metrics"
)

// openTelemetry makes the process's metrics registry (Main.Metrics) and its
// tracer provider (Main.Tracing): OTLP over HTTP when
// OTEL_EXPORTER_OTLP_ENDPOINT is set (the exporter reads the standard
// OTEL_EXPORTER_OTLP_* variables), none otherwise, unless a test set one.
func (m *Main) openTelemetry(ctx context.Context) error {
	var err error
	if m.Metrics, err = metrics.New(m.Store); err != nil {
		return err
	}
	if m.Tracing != nil {
		return nil
	}
	if os.Getenv("OTEL_EXPORTER_OTLP_ENDPOINT") == "" && os.Getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") == "" {
		m.Tracing = noop.NewTracerProvider()
		return nil
	}
	exp, err := otlptracehttp.New(ctx)
	if err != nil {
		return fmt.Errorf("OTEL_EXPORTER_OTLP_ENDPOINT: %w", err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(exp),
		sdktrace.WithResource(resource.NewSchemaless(attribute.String("service.name", "billing"))))
	m.Tracing, m.stopTracing = tp, tp.Shutdown
	return nil
}

// temporalInterceptors are the Temporal client's interceptors: the SDK's
// tracing one, which carries the caller's span in the workflow's headers
// to the workflow's and its activities' spans.
func (m *Main) temporalInterceptors() ([]interceptor.ClientInterceptor, error) {
	ti, err := temporalotel.NewTracingInterceptor(temporalotel.TracerOptions{Tracer: m.Tracing.Tracer("temporal-sdk-go"),
		TextMapPropagator: propagation.TraceContext{}})
	if err != nil {
		return nil, err
	}
	return []interceptor.ClientInterceptor{ti}, nil
}

// traced wraps the API's handler in a span per request (otelhttp; the
// API's middleware names it after its route template).
func (m *Main) traced(h http.Handler) http.Handler {
	return otelhttp.NewHandler(h, "http", otelhttp.WithTracerProvider(m.Tracing),
		otelhttp.WithPropagators(propagation.TraceContext{}),
		otelhttp.WithSpanNameFormatter(func(_ string, r *http.Request) string { return r.Method }))
}

// StartMetrics serves /metrics on Config.MetricsAddr (METRICS_ADDR), without
// authentication, for Prometheus: the API's and the worker's metrics
// (one endpoint when one process runs both). Nothing if it is empty. Open
// first; the address it listens on is MetricsURL.
func (m *Main) StartMetrics() error {
	if m.Config.MetricsAddr == "" || m.metricsSrv != nil {
		return nil
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Metrics.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ln, err := net.Listen("tcp", m.Config.MetricsAddr)
	if err != nil {
		return fmt.Errorf("METRICS_ADDR: %w", err)
	}
	m.metricsSrv, m.MetricsURL = srv, "http://"+ln.Addr().String()+"/metrics"
	m.Log.Info("metrics listening", "addr", ln.Addr().String())
	go func() {
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			m.failed <- err
		}
	}()
	return nil
}

// closeTelemetry stops the metrics listener and flushes the traces.
func (m *Main) closeTelemetry() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var err error
	if m.metricsSrv != nil {
		err = m.metricsSrv.Shutdown(ctx)
		m.metricsSrv = nil
	}
	if m.stopTracing != nil {
		err = errors.Join(err, m.stopTracing(ctx))
		m.stopTracing = nil
	}
	if m.Metrics != nil {
		err = errors.Join(err, m.Metrics.Close())
	}
	return err
}
