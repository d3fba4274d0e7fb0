package metrics_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing/metrics"
)

// TestDashboardUsesExportedMetrics: every metric name the Grafana
// dashboard's queries use is one the system exports (metrics.Names: the
// billing metrics and the SDK's, which TestOrderIsOneTraceAndShowsInMetrics
// sees in a real scrape), so that renaming one can't silently blank a panel;
// and the storm's panels are there.
func TestDashboardUsesExportedMetrics(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile("../ops/grafana/dashboards/billing.json")
	require.NoError(t, err)
	var d struct {
		UID    string
		Panels []struct {
			Title   string
			Targets []struct{ Expr string }
		}
	}
	require.NoError(t, json.Unmarshal(raw, &d))
	require.Equal(t, "billing", d.UID)
	name := regexp.MustCompile(`\b(?:billing|temporal)_[a-z0-9_]+`)
	used := map[string]bool{}
	for _, p := range d.Panels {
		require.NotEmpty(t, p.Targets, p.Title)
		for _, tg := range p.Targets {
			names := name.FindAllString(tg.Expr, -1)
			require.NotEmpty(t, names, "%s: %s", p.Title, tg.Expr)
			for _, n := range names {
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					if base, ok := strings.CutSuffix(n, suffix); ok && slices.Contains(metrics.Names(), base) {
						n = base
					}
				}
				require.Contains(t, metrics.Names(), n, "panel %q uses a metric the system does not export", p.Title)
				used[n] = true
			}
		}
	}
	for _, n := range []string{metrics.RenewalsDue, metrics.ChargesMade, metrics.ChargesRefused, metrics.NoticeDeliveries,
		metrics.HTTPRequestDuration, metrics.Subscriptions,
		"temporal_workflow_task_schedule_to_start_latency_seconds", "temporal_activity_execution_latency_seconds"} {
		require.True(t, used[n], "the dashboard graphs %s", n)
	}
}
