package workflows

import "go.temporal.io/sdk/temporal"

// SearchAttribute is a custom search attribute the workflows set, so ops can
// filter subscriptions in the Temporal UI, e.g.
// BillingCustomerID = 42 AND BillingStatus = 'suspended'.
type SearchAttribute struct {
	Name string
	Type string // as the temporal CLI names it: Int, Keyword, Datetime
}

// SearchAttributes are registered by "billing dev" (and in production by the
// temporal-setup job of docker-compose.yml).
var SearchAttributes = []SearchAttribute{
	{Name: "BillingCustomerID", Type: "Int"},
	{Name: "BillingProductID", Type: "Int"},
	{Name: "BillingStatus", Type: "Keyword"},
	{Name: "BillingPaidUntil", Type: "Datetime"},
}

// Typed keys of the search attributes.
var (
	SearchCustomerID = temporal.NewSearchAttributeKeyInt64("BillingCustomerID")
	SearchProductID  = temporal.NewSearchAttributeKeyInt64("BillingProductID")
	SearchStatus     = temporal.NewSearchAttributeKeyKeyword("BillingStatus")
	SearchPaidUntil  = temporal.NewSearchAttributeKeyTime("BillingPaidUntil")
)
