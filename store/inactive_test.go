package store_test

import (
	"crypto/rand"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
)

// TestInactiveCustomers: a customer with no activity (sign-in, payment,
// order, registration) for the days asked, no live service and a zero
// balance in every currency is selected; each exception keeps a customer
// out, and so does a warning that its last activity made void.
func TestInactiveCustomers(t *testing.T) {
	t.Parallel()
	b := setup(t)
	exec := func(sql string, args ...any) {
		t.Helper()
		_, err := b.store.Pool().Exec(b.ctx, sql, args...)
		require.NoError(t, err)
	}
	var product int64
	require.NoError(t, b.store.Pool().QueryRow(b.ctx, `INSERT INTO products (name, price, currency, period_unit)
		VALUES ('Inactive test', 100, 'EUR', 'month') RETURNING id`).Scan(&product))
	// idle is a customer registered 40 days ago, with nothing since.
	idle := func() billing.Customer {
		c := b.newCustomer(t)
		exec(`UPDATE customers SET registered_at = now() - interval '40 days' WHERE id = $1`, c.ID)
		return c
	}
	order := func(c billing.Customer, status, age string) {
		exec(`INSERT INTO subscriptions (customer_id, product_id, status, created_at) VALUES ($1, $2, $3, now() - $4::interval)`,
			c.ID, product, status, age)
	}
	entry := func(c billing.Customer, kind string, amount int64, currency string) {
		exec(`INSERT INTO ledger_entries (customer_id, kind, amount, currency, reason, idempotency_key, created_at)
			VALUES ($1, $2, $3, $4, 'adjustment', $5, now() - interval '40 days')`, c.ID, kind, amount, currency, rand.Text())
	}
	session := func(c billing.Customer, kind, age string) {
		users, err := b.store.Users(b.ctx, c.ID)
		require.NoError(t, err)
		staff, err := b.store.CreateStaff(b.ctx, billing.StaffCreate{Login: "s" + rand.Text()[:8], Email: rand.Text()[:8] + "@staff.example",
			Role: billing.RoleStaff, Permissions: []string{}}, "x")
		require.NoError(t, err)
		exec(`INSERT INTO sessions (token_hash, kind, staff_id, user_id, customer_id, expires_at, created_at)
			VALUES ($1, $2, $3, $4, $5, now(), now() - $6::interval)`, []byte(rand.Text()), kind, staff.ID, users[0].ID, c.ID, age)
	}

	plain := idle()
	oldOrders := idle() // services that ended long ago
	order(oldOrders, "deleted", "39 days")
	order(oldOrders, "cancelled", "38 days")
	zeroed := idle() // money in and out: zero in every currency
	entry(zeroed, "credit", 500, "EUR")
	entry(zeroed, "debit", 500, "EUR")
	impersonated := idle() // staff in its panel is not the client's activity
	session(impersonated, "impersonation", "1 day")
	oldSignIn := idle()
	session(oldSignIn, "client", "35 days")

	live := map[string]billing.Customer{}
	for _, status := range []string{"unpaid", "active", "suspended"} {
		live["a "+status+" service"] = idle()
		order(live["a "+status+" service"], status, "39 days")
	}
	exceptions := map[string]billing.Customer{
		"a credit balance": idle(), "a debit balance": idle(), "zero in EUR but not in USD": idle(),
		"a recent sign-in": idle(), "a recent payment": idle(), "a recent order": idle(), "a recent registration": b.newCustomer(t),
		"deleted": idle(),
	}
	for k, c := range live {
		exceptions[k] = c
	}
	entry(exceptions["a credit balance"], "credit", 1, "EUR")
	entry(exceptions["a debit balance"], "debit", 1, "USD")
	entry(exceptions["zero in EUR but not in USD"], "credit", 700, "EUR")
	entry(exceptions["zero in EUR but not in USD"], "debit", 700, "EUR")
	entry(exceptions["zero in EUR but not in USD"], "credit", 1, "USD")
	session(exceptions["a recent sign-in"], "client", "2 days")
	exec(`INSERT INTO payments (customer_id, method, amount, currency, status, created_at)
		VALUES ($1, 'electronic', 100, 'EUR', 'cancelled', now() - interval '3 days')`, exceptions["a recent payment"].ID)
	order(exceptions["a recent order"], "cancelled", "4 days")
	exec(`UPDATE customers SET status = 'deleted' WHERE id = $1`, exceptions["deleted"].ID)

	found, err := b.store.InactiveCustomers(b.ctx, time.Now().Add(-30*24*time.Hour), 100000)
	require.NoError(t, err)
	ids := map[int64]billing.InactiveCustomer{}
	for _, c := range found {
		ids[c.ID] = c
	}
	for name, c := range map[string]billing.Customer{"plain": plain, "old orders": oldOrders, "zeroed": zeroed,
		"impersonated": impersonated, "old sign-in": oldSignIn} {
		require.Contains(t, ids, c.ID, "%s is selected", name)
		require.Nil(t, ids[c.ID].WarnedAt)
	}
	require.WithinDuration(t, time.Now().Add(-35*24*time.Hour), ids[oldSignIn.ID].LastActivity, time.Minute, "its sign-in is its last activity")
	for name, c := range exceptions {
		require.NotContains(t, ids, c.ID, "a customer with %s is never selected", name)
	}
	require.True(t, slices.IsSortedFunc(found, func(x, y billing.InactiveCustomer) int { return x.LastActivity.Compare(y.LastActivity) }),
		"the longest inactive first")

	// A warning counts until the customer's next activity.
	at, err := b.store.WarnDeletion(b.ctx, plain.ID, ids[plain.ID].LastActivity, time.Now())
	require.NoError(t, err)
	again, err := b.store.WarnDeletion(b.ctx, plain.ID, ids[plain.ID].LastActivity, time.Now())
	require.NoError(t, err)
	require.Equal(t, at, again, "warned once per stretch of inactivity")
	found, err = b.store.InactiveCustomers(b.ctx, time.Now().Add(-30*24*time.Hour), 100000)
	require.NoError(t, err)
	i := slices.IndexFunc(found, func(c billing.InactiveCustomer) bool { return c.ID == plain.ID })
	require.NotNil(t, found[i].WarnedAt)
	exec(`INSERT INTO payments (customer_id, method, amount, currency, created_at)
		VALUES ($1, 'electronic', 100, 'EUR', now() + interval '1 second')`, plain.ID) // an activity after the warning
	found, err = b.store.InactiveCustomers(b.ctx, time.Now().Add(time.Hour), 100000)
	require.NoError(t, err)
	i = slices.IndexFunc(found, func(c billing.InactiveCustomer) bool { return c.ID == plain.ID })
	require.Nil(t, found[i].WarnedAt, "a warning before the last activity no longer counts")

	// Deletion checks again under the lock: only a warned, still inactive customer goes.
	_, deleted, err := b.store.DeleteInactiveCustomer(b.ctx, zeroed.ID, time.Now().Add(-30*24*time.Hour), time.Now())
	require.NoError(t, err)
	require.False(t, deleted, "never warned")
	_, err = b.store.WarnDeletion(b.ctx, zeroed.ID, time.Now().Add(-40*24*time.Hour), time.Now())
	require.NoError(t, err)
	_, deleted, err = b.store.DeleteInactiveCustomer(b.ctx, zeroed.ID, time.Now().Add(-30*24*time.Hour), time.Now().Add(-7*24*time.Hour))
	require.NoError(t, err)
	require.False(t, deleted, "warned less than 7 days ago")
	entry(zeroed, "credit", 5, "EUR")
	_, deleted, err = b.store.DeleteInactiveCustomer(b.ctx, zeroed.ID, time.Now().Add(-30*24*time.Hour), time.Now())
	require.NoError(t, err)
	require.False(t, deleted, "a balance since the run looked")
	entry(zeroed, "debit", 5, "EUR")
	c, deleted, err := b.store.DeleteInactiveCustomer(b.ctx, zeroed.ID, time.Now().Add(-30*24*time.Hour), time.Now())
	require.NoError(t, err)
	require.True(t, deleted)
	require.Equal(t, billing.CustomerDeleted, c.Status)
	_, deleted, err = b.store.DeleteInactiveCustomer(b.ctx, zeroed.ID, time.Now().Add(-30*24*time.Hour), time.Now())
	require.NoError(t, err)
	require.False(t, deleted, "deleted once")
}
