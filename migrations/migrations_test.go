package migrations_test

import (
	"context"
	"database/sql"
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
