package api_test

import (
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/api"
	"github.com/tempobill/billing/notices"
)

// TestOpenAPIMatchesRoutes keeps the served OpenAPI document and the router in
// step: every route is documented and every documented operation exists.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	t.Parallel()
	b := setup(t)
	status, doc := b.do("GET", "/api/v1/openapi.json", "")
	require.Equal(t, http.StatusOK, status)
	require.Equal(t, "3.0.3", doc["openapi"])

	param := regexp.MustCompile(`:([a-z_]+)`)
	var routes []string
	for _, r := range b.api.Routes() {
		routes = append(routes, r.Method+" "+param.ReplaceAllString(r.Path, "{$1}"))
	}
	var documented []string
	for path, ops := range doc["paths"].(map[string]any) {
		for method, op := range ops.(map[string]any) {
			if method == "parameters" {
				continue
			}
			documented = append(documented, strings.ToUpper(method)+" "+path)
			o := op.(map[string]any)
			require.NotEmpty(t, o["summary"], "%s %s has no summary", method, path)
			require.NotEmpty(t, o["responses"], "%s %s has no responses", method, path)
		}
	}
	sort.Strings(routes)
	sort.Strings(documented)
	require.Equal(t, routes, documented)
}

// TestOpenAPIListsEveryEvent: the {event} parameter of the message-template
// routes names every event of the registry, so saving a template of any of
// them passes the spec.
func TestOpenAPIListsEveryEvent(t *testing.T) {
	t.Parallel()
	var doc struct {
		Components struct {
			Parameters map[string]struct {
				Schema struct {
					Enum []string `json:"enum"`
				} `json:"schema"`
			} `json:"parameters"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal(api.OpenAPIDocument(), &doc))
	var names []string
	for _, e := range notices.Events() {
		names = append(names, e.Name)
	}
	require.ElementsMatch(t, names, doc.Components.Parameters["Event"].Schema.Enum)
}

// TestOpenAPIDiscountBounds: the spec of a discount's input states the
// bounds the server checks (billing.DiscountInput.Validate): an amount of 1
// to MaxAmount, like every amount, and 1 to 10000 basis points; the text
// says the same.
func TestOpenAPIDiscountBounds(t *testing.T) {
	t.Parallel()
	type bounds struct {
		Minimum     *float64 `json:"minimum"`
		Maximum     *float64 `json:"maximum"`
		Description string   `json:"description"`
	}
	var doc struct {
		Components struct {
			Schemas map[string]struct {
				Properties map[string]bounds `json:"properties"`
			} `json:"schemas"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal(api.OpenAPIDocument(), &doc))
	in := doc.Components.Schemas["DiscountInput"].Properties
	one, maxAmount, maxBP := 1.0, float64(billing.MaxAmount), 10000.0
	require.Equal(t, &one, in["amount"].Minimum)
	require.Equal(t, &maxAmount, in["amount"].Maximum)
	require.Contains(t, in["amount"].Description, "10^15")
	require.NotContains(t, in["amount"].Description, "10^18")
	require.Equal(t, &one, in["percent_bp"].Minimum)
	require.Equal(t, &maxBP, in["percent_bp"].Maximum)
}
