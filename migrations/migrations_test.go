package migrations_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing/internal/dbtest"
)

// TestMessageTemplatesMigration: 00009 moves staff's replacements of the
// service texts into message templates (English email, and SMS, whose
// empty text keeps SMS off), makes the notices the log of every event, and
// its Down brings both back.
func TestMessageTemplatesMigration(t *testing.T) {
	ctx := context.Background()
	base := os.Getenv("DATABASE_URL")
	if base == "" {
		base = dbtest.DefaultURL
	}
	url, drop, err := dbtest.Create(ctx, base)
	require.NoError(t, err)
	t.Cleanup(drop)
	pool, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	db := stdlib.OpenDBFromPool(pool)
	t.Cleanup(func() { _ = db.Close() })
	p, err := goose.NewProvider(goose.DialectPostgres, db, os.DirFS("."))
	require.NoError(t, err)
	_, err = p.DownTo(ctx, 7)
	require.NoError(t, err)

	exec := func(q string, args ...any) {
		t.Helper()
		_, err := db.ExecContext(ctx, q, args...)
		require.NoError(t, err)
	}
	exec(`INSERT INTO notice_templates (milestone, subject, body, sms_body) VALUES
		('activated', 'Ours', 'Our text', ''), ('renewed', 'Renewed', 'Done', 'Done by SMS')`)
	exec(`INSERT INTO customers (account_type, name, country) VALUES ('individual', 'M', 'DE')`)
	exec(`INSERT INTO products (name, price, currency, period_unit) VALUES ('P', 1, 'EUR', 'month')`)
	exec(`INSERT INTO subscriptions (customer_id, product_id) SELECT c.id, p.id FROM customers c, products p`)
	exec(`INSERT INTO notices (dedup_key, subscription_id, customer_id, milestone, channel, recipient, template, status)
		SELECT 'k', id, customer_id, 'renewed', 'email', 'm@example.com', 'default:renewed', 'sent' FROM subscriptions`)
	_, err = p.Up(ctx)
	require.NoError(t, err)

	rows := func(q string) [][]string {
		t.Helper()
		r, err := db.QueryContext(ctx, q)
		require.NoError(t, err)
		defer r.Close()
		cols, err := r.Columns()
		require.NoError(t, err)
		var out [][]string
		for r.Next() {
			vals := make([]sql.NullString, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			require.NoError(t, r.Scan(ptrs...))
			row := make([]string, len(cols))
			for i, v := range vals {
				row[i] = v.String
			}
			out = append(out, row)
		}
		require.NoError(t, r.Err())
		return out
	}
	require.Equal(t, [][]string{
		{"activated", "email", "en", "Ours", "Our text"},
		{"activated", "sms", "en", "", ""},
		{"renewed", "email", "en", "Renewed", "Done"},
		{"renewed", "sms", "en", "", "Done by SMS"},
	}, rows(`SELECT event, channel, language, subject, body FROM message_templates ORDER BY 1, 2`))
	require.Equal(t, [][]string{{"renewed", "subscription", "1", ""}},
		rows(`SELECT event, object_type, object_id, language FROM notices`))

	_, err = p.DownTo(ctx, 7)
	require.NoError(t, err)
	require.Equal(t, [][]string{{"activated", "Ours", "Our text", ""}, {"renewed", "Renewed", "Done", "Done by SMS"}},
		rows(`SELECT milestone, subject, body, sms_body FROM notice_templates ORDER BY 1`))
	require.Equal(t, [][]string{{"renewed"}}, rows(`SELECT milestone FROM notices`))
}

// TestCustomerBalancesMigration: 00036 backfills each customer's balance per
// currency from the ledger, exactly, even a sum beyond bigint written before
// balances were capped; entries written after it keep the rows; its Down
// drops them.
func TestCustomerBalancesMigration(t *testing.T) {
	ctx := context.Background()
	base := os.Getenv("DATABASE_URL")
	if base == "" {
		base = dbtest.DefaultURL
	}
	url, drop, err := dbtest.Create(ctx, base)
	require.NoError(t, err)
	t.Cleanup(drop)
	pool, err := pgxpool.New(ctx, url)
	require.NoError(t, err)
	t.Cleanup(pool.Close)
	db := stdlib.OpenDBFromPool(pool)
	t.Cleanup(func() { _ = db.Close() })
	p, err := goose.NewProvider(goose.DialectPostgres, db, os.DirFS("."))
	require.NoError(t, err)
	_, err = p.DownTo(ctx, 35)
	require.NoError(t, err)

	exec := func(q string, args ...any) {
		t.Helper()
		_, err := db.ExecContext(ctx, q, args...)
		require.NoError(t, err)
	}
	exec(`INSERT INTO customers (account_type, name, country) VALUES ('individual', 'A', 'DE'), ('individual', 'B', 'DE'),
		('individual', 'C', 'DE')`)
	// A: credits and debits in two currencies; B: 20 credits of 10^18, a
	// sum beyond bigint; C: no entry.
	exec(`INSERT INTO ledger_entries (customer_id, kind, amount, currency, reason, idempotency_key)
		SELECT (SELECT id FROM customers WHERE name = 'A'), CASE WHEN g % 4 = 0 THEN 'debit' ELSE 'credit' END, g,
			CASE WHEN g % 3 = 0 THEN 'USD' ELSE 'EUR' END, 'adjustment', 'a' || g
		FROM generate_series(1, 1000) g`)
	exec(`INSERT INTO ledger_entries (customer_id, kind, amount, currency, reason, idempotency_key)
		SELECT (SELECT id FROM customers WHERE name = 'B'), 'credit', 1000000000000000000, 'EUR', 'adjustment', 'b' || g
		FROM generate_series(1, 20) g`)
	_, err = p.UpTo(ctx, 36)
	require.NoError(t, err)

	balances := func() [][2]string {
		t.Helper()
		r, err := db.QueryContext(ctx, `SELECT c.name || ' ' || b.currency, b.balance::text
			FROM customer_balances b JOIN customers c ON c.id = b.customer_id ORDER BY 1`)
		require.NoError(t, err)
		defer r.Close()
		var out [][2]string
		for r.Next() {
			var row [2]string
			require.NoError(t, r.Scan(&row[0], &row[1]))
			out = append(out, row)
		}
		require.NoError(t, r.Err())
		return out
	}
	sums := func() [][2]string {
		t.Helper()
		r, err := db.QueryContext(ctx, `SELECT c.name || ' ' || l.currency,
				sum(CASE l.kind WHEN 'credit' THEN l.amount ELSE -l.amount END)::text
			FROM ledger_entries l JOIN customers c ON c.id = l.customer_id GROUP BY 1 ORDER BY 1`)
		require.NoError(t, err)
		defer r.Close()
		var out [][2]string
		for r.Next() {
			var row [2]string
			require.NoError(t, r.Scan(&row[0], &row[1]))
			out = append(out, row)
		}
		require.NoError(t, r.Err())
		return out
	}
	// A's EUR: the g not divisible by 3, credits minus the multiples of 4.
	var aEUR, aUSD int64
	for g := int64(1); g <= 1000; g++ {
		v := g
		if g%4 == 0 {
			v = -g
		}
		if g%3 == 0 {
			aUSD += v
		} else {
			aEUR += v
		}
	}
	require.Equal(t, [][2]string{{"A EUR", fmt.Sprint(aEUR)}, {"A USD", fmt.Sprint(aUSD)},
		{"B EUR", "20000000000000000000"}}, balances())

	// After the migration the trigger keeps them, C's first entry included.
	exec(`INSERT INTO ledger_entries (customer_id, kind, amount, currency, reason, idempotency_key)
		SELECT id, 'debit', 5, 'EUR', 'charge', 'after-' || name FROM customers`)
	require.Equal(t, sums(), balances())
	require.Len(t, balances(), 4)

	_, err = p.DownTo(ctx, 35)
	require.NoError(t, err)
	var exists bool
	require.NoError(t, db.QueryRowContext(ctx, `SELECT to_regclass('customer_balances') IS NOT NULL`).Scan(&exists))
	require.False(t, exists)
	exec(`INSERT INTO ledger_entries (customer_id, kind, amount, currency, reason, idempotency_key)
		SELECT id, 'credit', 5, 'EUR', 'payment', 'down-' || name FROM customers`)
	_, err = p.Up(ctx)
	require.NoError(t, err)
	require.Equal(t, sums(), balances(), "a second Up backfills again")
}
