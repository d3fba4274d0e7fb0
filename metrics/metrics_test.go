package metrics_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/metrics"
)

type counts struct{ err error }

func (c counts) SubscriptionCounts(context.Context) (map[string]int64, error) {
	return map[string]int64{"active": 3}, c.err
}
func (c counts) RenewalsDue(context.Context) (int64, error) { return 2, c.err }
func (c counts) NoticeCounts(context.Context) (map[string]int64, error) {
	return map[string]int64{"sent": 5}, c.err
}

// TestEchoCountsRouteTemplates: requests are counted per route template
// with the status sent (an error's, as the error handler answers it), and
// a path no route has is "unmatched", never its raw URL.
func TestEchoCountsRouteTemplates(t *testing.T) {
	t.Parallel()
	m, err := metrics.New(nil)
	require.NoError(t, err)
	e := echo.New()
	e.Use(m.Echo)
	e.GET("/api/v1/customers/:id", func(c echo.Context) error { return c.String(http.StatusOK, c.Param("id")) })
	e.GET("/api/v1/fail", func(c echo.Context) error { return echo.NewHTTPError(http.StatusConflict) })
	for _, path := range []string{"/api/v1/customers/1", "/api/v1/customers/2", "/api/v1/fail", "/nothing/42"} {
		e.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
	}
	require.NoError(t, testutil.GatherAndCompare(m.Registry, strings.NewReader(`
# HELP billing_http_requests_total REST API requests by method, route template and status code.
# TYPE billing_http_requests_total counter
billing_http_requests_total{method="GET",route="/api/v1/customers/:id",status="200"} 2
billing_http_requests_total{method="GET",route="/api/v1/fail",status="409"} 1
billing_http_requests_total{method="GET",route="unmatched",status="404"} 1
`), metrics.HTTPRequests))
}

// TestDatabaseGauges: the subscriptions by status (every status, 0 when
// none), the renewals due and the notices by status are read at scrape
// time; a failed read shows as billing_scrape_errors and drops its series.
func TestDatabaseGauges(t *testing.T) {
	t.Parallel()
	m, err := metrics.New(counts{})
	require.NoError(t, err)
	require.NoError(t, testutil.GatherAndCompare(m.Registry, strings.NewReader(`
# HELP billing_renewals_due Active, automatically renewing subscriptions whose paid-until date has passed: renewals due and not yet charged (a storm's backlog), less those refused and waiting for a payment.
# TYPE billing_renewals_due gauge
billing_renewals_due 2
# HELP billing_subscriptions Subscriptions by status, read from the database at scrape time.
# TYPE billing_subscriptions gauge
billing_subscriptions{status="active"} 3
billing_subscriptions{status="awaiting_parameters"} 0
billing_subscriptions{status="cancelled"} 0
billing_subscriptions{status="deleted"} 0
billing_subscriptions{status="suspended"} 0
billing_subscriptions{status="unpaid"} 0
`), metrics.RenewalsDue, metrics.Subscriptions))
	m, err = metrics.New(counts{err: errors.New("down")})
	require.NoError(t, err)
	n, err := testutil.GatherAndCount(m.Registry, metrics.RenewalsDue, metrics.Subscriptions)
	require.NoError(t, err)
	require.Zero(t, n, "no series for a count that could not be read")
	require.NoError(t, testutil.GatherAndCompare(m.Registry, strings.NewReader(`
# HELP billing_scrape_errors 1 if a database count could not be read at this scrape.
# TYPE billing_scrape_errors gauge
billing_scrape_errors{query="notices"} 1
billing_scrape_errors{query="renewals_due"} 1
billing_scrape_errors{query="subscriptions"} 1
`), "billing_scrape_errors"))
}

// TestChargeCounts: a charge written counts as made, one found written (a
// replay) not; a refusal (a domain error code) as refused by that code; an
// internal or unavailable error (retried) not at all.
func TestChargeCounts(t *testing.T) {
	t.Parallel()
	m, err := metrics.New(nil)
	require.NoError(t, err)
	m.Charge(true, nil)
	m.Charge(false, nil) // a replay, or a free period: nothing written
	m.Charge(false, billing.Errorf(billing.EINSUFFICIENT, "x"))
	m.Charge(false, errors.New("x"))
	m.Charge(false, billing.Errorf(billing.EUNAVAILABLE, "x"))
	m.Notice("email", "sent")
	m.Notice("sms", "failed")
	require.NoError(t, testutil.GatherAndCompare(m.Registry, strings.NewReader(`
# HELP billing_charges_made_total Charges written: periods (ChargePeriod) and usage overages (ChargeOverage), each once.
# TYPE billing_charges_made_total counter
billing_charges_made_total 1
# HELP billing_charges_refused_total Charge attempts refused, by reason (the error code: insufficient_funds, declined, invalid, ...).
# TYPE billing_charges_refused_total counter
billing_charges_refused_total{reason="insufficient_funds"} 1
# HELP billing_notice_deliveries_total Notice delivery attempts by channel (email, sms) and outcome (sent, failed, unknown, rejected).
# TYPE billing_notice_deliveries_total counter
billing_notice_deliveries_total{channel="email",status="sent"} 1
billing_notice_deliveries_total{channel="sms",status="failed"} 1
`), metrics.ChargesMade, metrics.ChargesRefused, metrics.NoticeDeliveries))
	var nilMetrics *metrics.Metrics
	nilMetrics.Charge(true, nil) // a nil Metrics counts nothing and doesn't panic
	nilMetrics.Notice("email", "sent")
}
