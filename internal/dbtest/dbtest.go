// Package dbtest gives each test package its own freshly migrated PostgreSQL
// database, so tests run against the real server and never see each other's rows.
package dbtest

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tempobill/billing/migrations"
	"github.com/tempobill/billing/store"
)

// DefaultURL is the server tests use unless DATABASE_URL names another.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

var url string

// Main creates the package's database, runs the tests, runs cleanups and
// drops the database. Call it from TestMain: func TestMain(m *testing.M) { dbtest.Main(m) }.
func Main(m *testing.M) {
	drop, err := Setup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "dbtest:", err)
		os.Exit(1)
	}
	code := m.Run()
	drop()
	os.Exit(code)
}

// Setup creates the package's database (on DATABASE_URL's server, else the
// local one) and returns the function that drops it.
func Setup() (func(), error) {
	var drop func()
	var err error
	url, drop, err = Create(context.Background(), server())
	return drop, err
}

func server() string {
	if base := os.Getenv("DATABASE_URL"); base != "" {
		return base
	}
	return DefaultURL
}

// OwnPool returns a pool on a freshly migrated database of t's own, dropped
// when t ends: for tests that change what a whole database shares (the
// global settings), which the package's other tests must not see.
func OwnPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	dbURL, drop, err := Create(context.Background(), server())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	pool, err := store.OpenPool(context.Background(), dbURL+testPoolSize)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// testPoolSize caps a test's pool: tests run in parallel, each with a pool,
// beside other packages' tests and their servers, and PostgreSQL's default
// is 100 connections in all. Six still let concurrency tests race.
const testPoolSize = "&pool_max_conns=6"

// Create makes a new database on the server of baseURL, migrates it and
// returns its URL and a function that drops it.
func Create(ctx context.Context, baseURL string) (string, func(), error) {
	cfg, err := pgx.ParseConfig(baseURL)
	if err != nil {
		return "", nil, err
	}
	admin, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return "", nil, fmt.Errorf("connect to PostgreSQL at %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	defer admin.Close(ctx)
	name := "billing_test_" + rand.Text()[:10]
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", nil, err
	}
	cfg.Database = name
	dbURL := fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Host, cfg.Port, name)
	if cfg.Password != "" {
		dbURL = fmt.Sprintf("postgres://%s:%s@%s:%d/%s?sslmode=disable", cfg.User, cfg.Password, cfg.Host, cfg.Port, name)
	}
	drop := func() {
		c, err := pgx.Connect(context.Background(), baseURL)
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	}
	pool, err := pgxpool.New(ctx, dbURL)
	if err != nil {
		drop()
		return "", nil, err
	}
	defer pool.Close()
	if err := migrations.Up(ctx, pool, slog.New(slog.DiscardHandler)); err != nil {
		drop()
		return "", nil, err
	}
	return dbURL, drop, nil
}

// URL returns the package database's URL. Main must have run.
func URL() string { return url }

// Pool returns a pool on the package database, closed when t ends.
func Pool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	if url == "" {
		t.Fatal("dbtest: call dbtest.Main from TestMain first")
	}
	pool, err := store.OpenPool(context.Background(), url+testPoolSize)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}
