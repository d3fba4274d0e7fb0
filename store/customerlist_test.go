package store_test

import (
	"crypto/rand"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/store"
)

// TestCustomerListCountsUpToTheLimit: a customer list counts its matches up
// to CustomerCountLimit; past it the page says so, and paging still reaches
// every match.
func TestCustomerListCountsUpToTheLimit(t *testing.T) {
	t.Parallel()
	b := setup(t)
	project := "p" + rand.Text()[:8]
	_, err := dbtest.Pool(t).Exec(b.ctx, `INSERT INTO customers (account_type, name, country, project, customer_group)
		SELECT 'individual', 'Many ' || g, 'DE', $1, CASE WHEN g <= 3 THEN 'few' ELSE '' END
		FROM generate_series(1, $2::int) g`, project, store.CustomerCountLimit+2)
	require.NoError(t, err)

	p, err := b.store.Customers(b.ctx, billing.CustomerFilter{Project: project})
	require.NoError(t, err)
	require.Equal(t, store.CustomerCountLimit, p.Total)
	require.True(t, p.TotalCapped)
	p, err = b.store.Customers(b.ctx, billing.CustomerFilter{Project: project,
		PageRequest: billing.PageRequest{Limit: 200, Offset: store.CustomerCountLimit}})
	require.NoError(t, err)
	require.Len(t, p.Items, 2, "the matches past the count are still listed")

	p, err = b.store.Customers(b.ctx, billing.CustomerFilter{Project: project, Group: "few"})
	require.NoError(t, err)
	require.Equal(t, 3, p.Total)
	require.False(t, p.TotalCapped)
}

// TestCustomerNameSearchUsesTheTrigramIndex: the name filter, a substring
// match, can be served by migration 00039's trigram index instead of
// reading every customer.
func TestCustomerNameSearchUsesTheTrigramIndex(t *testing.T) {
	t.Parallel()
	b := setup(t)
	tx, err := dbtest.Pool(t).Begin(b.ctx)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback(b.ctx) }()
	_, err = tx.Exec(b.ctx, "SET LOCAL enable_seqscan = off")
	require.NoError(t, err)
	var plan string
	require.NoError(t, tx.QueryRow(b.ctx, `EXPLAIN (FORMAT JSON) SELECT id FROM customers WHERE name ILIKE '%' || $1 || '%'`, "nn Exa").Scan(&plan))
	require.Contains(t, plan, "customers_name_trgm_idx")
}
