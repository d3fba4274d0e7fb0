package main

import (
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// TestBenchDatabaseIsItsOwn: the bench migrates, fills and at the end drops
// (WITH (FORCE)) the database databaseURL names, so that name must be the
// bench's own whatever DATABASE_URL looks like. A URL may name its database
// in the query (dbname=, which pgx, like libpq, prefers to the path): the
// bench must not be led to the operator's database by it.
func TestBenchDatabaseIsItsOwn(t *testing.T) {
	t.Parallel()
	for _, base := range []string{
		"postgres://postgres@127.0.0.1:5432/billing?sslmode=disable",
		"postgres://postgres@127.0.0.1:5432/?dbname=billing&sslmode=disable",
		"postgres://postgres@127.0.0.1:5432/billing?dbname=billing",
		"postgres://postgres@127.0.0.1:5432/billing?database=billing",
	} {
		got, err := databaseURL(base, "billing_bench_x")
		require.NoError(t, err, base)
		cfg, err := pgx.ParseConfig(got)
		require.NoError(t, err, base)
		require.Equal(t, "billing_bench_x", cfg.Database, "%s became %s", base, got)
	}
}

// TestBenchDropsOnlyItsOwnDatabase: a URL that names another database than
// the one the bench made drops nothing.
func TestBenchDropsOnlyItsOwnDatabase(t *testing.T) {
	t.Parallel()
	err := dropDatabase(t.Context(), "postgres://postgres@127.0.0.1:1/billing_bench_x?dbname=billing", "billing_bench_x")
	require.ErrorContains(t, err, `not dropping database "billing"`)
}

// TestMedian: the bench's figure of alternating rounds is their median.
func TestMedian(t *testing.T) {
	t.Parallel()
	require.Equal(t, 2*time.Second, median([]time.Duration{3 * time.Second, time.Second, 2 * time.Second}))
	require.Equal(t, 2500*time.Millisecond, median([]time.Duration{4 * time.Second, time.Second, 2 * time.Second, 3 * time.Second}))
	require.Zero(t, median(nil))
}
