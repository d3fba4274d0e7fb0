// Package metrics is what ops see while the system runs: one Prometheus
// registry per process holding the Temporal SDK's own metrics (through
// OpenTelemetry), the REST API's requests per route, and the business
// counters (charges, notices) and gauges (subscriptions by status, the
// renewals due and not yet charged: a storm's backlog), served at /metrics.
//
// Every method is safe on a nil *Metrics (it does nothing), so activities
// and the API built without metrics (tests) need no checks.
package metrics

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/client"
	temporalotel "go.temporal.io/sdk/contrib/opentelemetry"

	"github.com/tempobill/billing"
)

// Every known status is shown, at 0 when no row has it, so that a panel's
// series never vanish.
var (
	subscriptionStatuses = []string{billing.SubscriptionUnpaid, billing.SubscriptionActive, billing.SubscriptionSuspended,
		billing.SubscriptionCancelled, billing.SubscriptionDeleted, billing.SubscriptionAwaitingParameters}
	noticeStatuses = []string{billing.NoticeQueued, billing.NoticeSending, billing.NoticeSent, billing.NoticeFailed,
		billing.NoticeUnknown, billing.NoticeRejected, billing.NoticeExpired}
)

// withZeros returns counts with every status of known present.
func withZeros(counts map[string]int64, known []string) map[string]int64 {
	out := map[string]int64{}
	for _, s := range known {
		out[s] = 0
	}
	for s, n := range counts {
		out[s] = n
	}
	return out
}

// The names of the metrics this package defines. The SDK's metrics are
// named by the SDK (temporal_..., see SDKMetricNames).
const (
	ChargesMade          = "billing_charges_made_total"
	ChargesRefused       = "billing_charges_refused_total"
	NoticeDeliveries     = "billing_notice_deliveries_total"
	HTTPRequests         = "billing_http_requests_total"
	HTTPRequestDuration  = "billing_http_request_duration_seconds"
	Subscriptions        = "billing_subscriptions"
	RenewalsDue          = "billing_renewals_due"
	Notices              = "billing_notices"
	scrapeQueryTimeout   = 5 * time.Second
	unmatchedRouteMarker = "unmatched"
)

// SDKMetrics are the Temporal SDK's metrics the dashboard
// (ops/grafana/dashboards/billing.json) graphs, as the OpenTelemetry
// Prometheus exporter names them (TestOrderIsOneTraceAndShowsInMetrics
// sees each in a real scrape).
var SDKMetrics = []string{
	"temporal_workflow_task_schedule_to_start_latency_seconds",
	"temporal_workflow_task_execution_latency_seconds",
	"temporal_activity_schedule_to_start_latency_seconds",
	"temporal_activity_execution_latency_seconds",
	"temporal_local_activity_execution_latency_seconds",
	"temporal_worker_task_slots_used",
	"temporal_sticky_cache_size",
	"temporal_request_total",
}

// Names are the names of every metric the process exports that a dashboard
// may use: the billing ones and SDKMetrics (histograms without their
// _bucket, _sum and _count suffixes).
func Names() []string {
	return append([]string{ChargesMade, ChargesRefused, NoticeDeliveries, HTTPRequests, HTTPRequestDuration,
		Subscriptions, RenewalsDue, Notices}, SDKMetrics...)
}

// Counts are the database's counts read at scrape time, each with one
// cheap grouped query (store.Store implements it).
type Counts interface {
	// SubscriptionCounts counts subscriptions by status.
	SubscriptionCounts(ctx context.Context) (map[string]int64, error)
	// RenewalsDue counts active, automatically renewing subscriptions
	// whose paid-until date has passed: renewals due and not yet charged.
	RenewalsDue(ctx context.Context) (int64, error)
	// NoticeCounts counts notices by delivery status.
	NoticeCounts(ctx context.Context) (map[string]int64, error)
}

// Metrics owns the process's registry and the billing metrics in it.
type Metrics struct {
	Registry *prometheus.Registry

	chargesMade    prometheus.Counter
	chargesRefused *prometheus.CounterVec
	notices        *prometheus.CounterVec
	requests       *prometheus.CounterVec
	duration       *prometheus.HistogramVec
	meters         *sdkmetric.MeterProvider
}

// New returns Metrics with a fresh registry holding the Go runtime and
// process collectors, the billing counters, and, if counts is not nil, the
// gauges read from the database at scrape time.
func New(counts Counts) (*Metrics, error) {
	reg := prometheus.NewRegistry()
	m := &Metrics{
		Registry: reg,
		chargesMade: prometheus.NewCounter(prometheus.CounterOpts{Name: ChargesMade,
			Help: "Charges written: periods (ChargePeriod) and usage overages (ChargeOverage), each once."}),
		chargesRefused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: ChargesRefused,
			Help: "Charge attempts refused, by reason (the error code: insufficient_funds, declined, invalid, ...)."}, []string{"reason"}),
		notices: prometheus.NewCounterVec(prometheus.CounterOpts{Name: NoticeDeliveries,
			Help: "Notice delivery attempts by channel (email, sms) and outcome (sent, failed, unknown, rejected)."}, []string{"channel", "status"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: HTTPRequests,
			Help: "REST API requests by method, route template and status code."}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: HTTPRequestDuration,
			Help:    "REST API request latency by method and route template.",
			Buckets: []float64{.001, .0025, .005, .01, .02, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"method", "route"}),
	}
	cs := []prometheus.Collector{collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.chargesMade, m.chargesRefused, m.notices, m.requests, m.duration}
	if counts != nil {
		cs = append(cs, newDBCollector(counts))
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg), otelprom.WithoutScopeInfo(), otelprom.WithoutTargetInfo())
	if err != nil {
		return nil, err
	}
	// The SDK's latencies are in seconds: buckets from 1 ms to a minute
	// (OpenTelemetry's default ones are for milliseconds).
	seconds := sdkmetric.NewView(sdkmetric.Instrument{Kind: sdkmetric.InstrumentKindHistogram},
		sdkmetric.Stream{Aggregation: sdkmetric.AggregationExplicitBucketHistogram{
			Boundaries: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}}})
	m.meters = sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter), sdkmetric.WithView(seconds))
	return m, nil
}

// TemporalHandler is the Temporal client's MetricsHandler: the SDK's own
// metrics (temporal_...) land in the registry. Nil Metrics: none.
func (m *Metrics) TemporalHandler() client.MetricsHandler {
	if m == nil {
		return nil
	}
	return temporalotel.NewMetricsHandler(temporalotel.MetricsHandlerOptions{
		Meter: m.meters.Meter("temporal-sdk-go"), UseMonotonicCounters: true,
		OnError: func(error) {}, // a metric that can't be recorded must not take the worker down
	})
}

// Handler serves the registry in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{})
}

// Close flushes and stops the OpenTelemetry meter provider.
func (m *Metrics) Close() error {
	if m == nil {
		return nil
	}
	return m.meters.Shutdown(context.Background())
}

// Charge counts the outcome of one charge attempt, after its transaction:
// made if err is nil and the attempt wrote the charge (written; a retry or
// replay that finds the charge made, or a free period, counts nothing), else
// refused by its code when err is a refusal (a domain error code); errors
// that are retried (internal, unavailable) are not counted.
func (m *Metrics) Charge(written bool, err error) {
	code := billing.ErrorCode(err)
	switch {
	case m == nil:
	case err == nil:
		if written {
			m.chargesMade.Inc()
		}
	case code != billing.EINTERNAL && code != billing.EUNAVAILABLE:
		m.chargesRefused.WithLabelValues(code).Inc()
	}
}

// Notice counts one delivery attempt of a notice on channel with its outcome.
func (m *Metrics) Notice(channel, status string) {
	if m != nil {
		m.notices.WithLabelValues(channel, status).Inc()
	}
}

// Echo is the API's middleware counting requests and their latency per
// route template (c.Path(), "/api/v1/customers/:id"; "unmatched" for a path
// no route has), so that IDs never become labels. It hands the error on to
// Echo's error handler itself, so that the status it counts is the one sent.
func (m *Metrics) Echo(next echo.HandlerFunc) echo.HandlerFunc {
	if m == nil {
		return next
	}
	return func(c echo.Context) error {
		start := time.Now()
		if err := next(c); err != nil {
			c.Error(err)
		}
		route := c.Path()
		if route == "" || c.Response().Status == http.StatusNotFound && route == "/*" {
			route = unmatchedRouteMarker
		}
		method := c.Request().Method
		if span := trace.SpanFromContext(c.Request().Context()); span.IsRecording() {
			span.SetName(method + " " + route) // otelhttp's span, named before routing
			span.SetAttributes(attribute.String("http.route", route))
		}
		m.requests.WithLabelValues(method, route, strconv.Itoa(c.Response().Status)).Inc()
		m.duration.WithLabelValues(method, route).Observe(time.Since(start).Seconds())
		return nil
	}
}

// dbCollector reads the database's gauges at scrape time.
type dbCollector struct {
	counts                    Counts
	subs, due, notices, error *prometheus.Desc
}

func newDBCollector(counts Counts) *dbCollector {
	return &dbCollector{counts: counts,
		subs:    prometheus.NewDesc(Subscriptions, "Subscriptions by status, read from the database at scrape time.", []string{"status"}, nil),
		due:     prometheus.NewDesc(RenewalsDue, "Active, automatically renewing subscriptions whose paid-until date has passed: renewals due and not yet charged (a storm's backlog), less those refused and waiting for a payment.", nil, nil),
		notices: prometheus.NewDesc(Notices, "Notices by delivery status, read from the database at scrape time.", []string{"status"}, nil),
		error:   prometheus.NewDesc("billing_scrape_errors", "1 if a database count could not be read at this scrape.", []string{"query"}, nil),
	}
}

func (d *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- d.subs
	ch <- d.due
	ch <- d.notices
	ch <- d.error
}

func (d *dbCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), scrapeQueryTimeout)
	defer cancel()
	failed := func(query string, err error) {
		v := 0.0
		if err != nil {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(d.error, prometheus.GaugeValue, v, query)
	}
	subs, err := d.counts.SubscriptionCounts(ctx)
	if subs = withZeros(subs, subscriptionStatuses); err != nil {
		subs = nil
	}
	for status, n := range subs {
		ch <- prometheus.MustNewConstMetric(d.subs, prometheus.GaugeValue, float64(n), status)
	}
	failed("subscriptions", err)
	due, err := d.counts.RenewalsDue(ctx)
	if err == nil {
		ch <- prometheus.MustNewConstMetric(d.due, prometheus.GaugeValue, float64(due))
	}
	failed("renewals_due", err)
	notices, err := d.counts.NoticeCounts(ctx)
	if notices = withZeros(notices, noticeStatuses); err != nil {
		notices = nil
	}
	for status, n := range notices {
		ch <- prometheus.MustNewConstMetric(d.notices, prometheus.GaugeValue, float64(n), status)
	}
	failed("notices", err)
}
