// Package store keeps the billing data in PostgreSQL. It turns rows into
// domain types and driver errors into *billing.Error, so pgx never leaks out.
package store

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

// Store is the PostgreSQL-backed store. It is safe for concurrent use. Its
// queries live in queries/*.sql; sqlc generates their Go in dbsqlc.
type Store struct {
	pool *pgxpool.Pool
	db   conn            // the pool, or the transaction of a store Tx made
	q    *dbsqlc.Queries // on db
	// lowBalance queues the low_balance notice; nil: balances are not watched.
	lowBalance LowBalanceNotifier
}

// conn is what the store runs its queries and transactions on: a pool, or
// a transaction (whose Begin starts a savepoint).
type conn interface {
	dbsqlc.DBTX
	Begin(ctx context.Context) (pgx.Tx, error)
}

// New returns a Store on pool.
func New(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, db: pool, q: dbsqlc.New(pool)}
}

// Tx runs fn with a Store bound to one transaction: every method of tx runs
// in it (their own transactions become savepoints), and it is committed if
// fn returns nil, rolled back otherwise. A request that writes several
// things (a customer and the notices about it) uses it so that a failure
// leaves none of them.
func (s *Store) Tx(ctx context.Context, fn func(tx *Store) error) error {
	audited := billing.AuditFrom(ctx)
	wasWritten := audited != nil && audited.ID != 0
	err := pgx.BeginFunc(ctx, s.db, func(t pgx.Tx) error {
		return fn(s.bound(t))
	})
	if err != nil && audited != nil && !wasWritten {
		audited.ID = 0 // its row was rolled back with the rest
	}
	return err
}

// Ping reports whether the database answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.pool.Ping(ctx)
}

// inTx runs fn with the queries of one transaction: committed if fn returns
// nil, rolled back otherwise. The audit entry ctx carries, if any, is written
// in the same transaction, so a change and its record land together or not at all.
func (s *Store) inTx(ctx context.Context, fn func(q *dbsqlc.Queries) error) error {
	return s.inTxStore(ctx, func(tx *Store) error { return fn(tx.q) })
}

// inTxStore is inTx with a Store bound to the transaction, for writes that
// queue notices in it (see watchLowBalance).
func (s *Store) inTxStore(ctx context.Context, fn func(tx *Store) error) error {
	return pgx.BeginFunc(ctx, s.db, func(t pgx.Tx) error {
		tx := s.bound(t)
		if err := fn(tx); err != nil {
			return err
		}
		if e := billing.AuditFrom(ctx); e != nil && e.ID == 0 {
			return insertAudit(ctx, tx.q, e)
		}
		return nil
	})
}

// bound returns a Store like s on the transaction t.
func (s *Store) bound(t pgx.Tx) *Store {
	return &Store{pool: s.pool, db: t, q: dbsqlc.New(t), lowBalance: s.lowBalance}
}

// conflicts names the unique constraints a person can run into, with what to tell them.
var conflicts = map[string]billing.Error{
	"users_login_key":                    {Code: billing.ECONFLICT, Message: "this login is already taken", Fields: map[string]string{"login": "is already taken"}},
	"users_email_key":                    {Code: billing.ECONFLICT, Message: "a user with this email already exists", Fields: map[string]string{"email": "is already used by another user"}},
	"message_texts_name_key":             {Code: billing.ECONFLICT, Message: "a saved text with this name already exists", Fields: map[string]string{"name": "is already used by another saved text"}},
	"ledger_entries_idempotency_key_key": {Code: billing.ECONFLICT, Message: "this idempotency key was already used for a different entry"},
	"staff_login_key":                    {Code: billing.ECONFLICT, Message: "this staff login is already taken", Fields: map[string]string{"login": "is already taken"}},
	"staff_email_key":                    {Code: billing.ECONFLICT, Message: "a staff member with this email already exists", Fields: map[string]string{"email": "is already used by another staff member"}},
}

// unknownDepartments are the foreign keys to a department that a write can
// fail when the department was deleted after it was read: the field naming it.
var unknownDepartments = map[string]string{
	"tickets_department_id_fkey":           "department_id",
	"tasks_department_id_fkey":             "department_id",
	"staff_departments_department_id_fkey": "department_ids",
}

// dbError turns driver errors into domain errors: no rows into ENOTFOUND for
// kind, known unique violations into ECONFLICT, a department deleted
// meanwhile into EINVALID. Others are wrapped as internal.
func dbError(err error, kind string, id any) error {
	if err == nil {
		return nil
	}
	var be *billing.Error
	if errors.As(err, &be) {
		return err
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return billing.NotFound(kind, id)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23503" && unknownDepartments[pe.ConstraintName] != "" {
		field := unknownDepartments[pe.ConstraintName]
		return &billing.Error{Code: billing.EINVALID, Message: "the department does not exist (any more); see fields",
			Fields: map[string]string{field: "is not a department"}}
	}
	if errors.As(err, &pe) && pe.Code == "23505" {
		if c, ok := conflicts[pe.ConstraintName]; ok {
			return &c
		}
		return billing.Errorf(billing.ECONFLICT, "%s already exists", kind)
	}
	if Unreachable(err) {
		return &billing.Error{Code: billing.EUNAVAILABLE, Message: "the database can't be reached; nothing was changed, try again shortly",
			Cause: fmt.Errorf("store: %s: %w", kind, err)}
	}
	return fmt.Errorf("store: %s: %w", kind, err)
}

// Unreachable reports whether err means the database could not be reached or
// is going away (connection refused or lost, a server shutting down or
// starting up), as opposed to a query that failed: the caller may try again.
func Unreachable(err error) bool {
	var ce *pgconn.ConnectError
	var ne net.Error
	var pe *pgconn.PgError
	switch {
	case errors.As(err, &ce), errors.As(err, &ne):
		return true
	case errors.As(err, &pe):
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED):
		return true
	}
	return pgconn.SafeToRetry(err) || pgconn.Timeout(err)
}

// CreateDatabase creates the database that url names if it does not exist,
// connecting to the server's postgres database to do so.
func CreateDatabase(ctx context.Context, url string) error {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return fmt.Errorf("DATABASE_URL: %w", err)
	}
	name := cfg.Database
	cfg.Database = "postgres"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect to PostgreSQL at %s:%d: %w", cfg.Host, cfg.Port, err)
	}
	defer conn.Close(ctx)
	var exists bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return nil
	}
	_, err = conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize())
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P04" { // created meanwhile by another process
		return nil
	}
	return err
}

// auditObject names the object the audited action of ctx created.
func auditObject(ctx context.Context, kind string, id, customerID int64) {
	if e := billing.AuditFrom(ctx); e != nil {
		e.SetObject(kind, id, customerID)
	}
}

// Pool returns the pool, for tests that need to reach under the store.
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// OpenPool connects to url. Unless the URL sets pool_max_conns, the pool
// holds up to 16 connections: an API serving many requests at once needs
// more than pgxpool's default of 4 on a small machine.
func OpenPool(ctx context.Context, url string) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("DATABASE_URL: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		cfg.MaxConns = 16
	}
	return pgxpool.NewWithConfig(ctx, cfg)
}
