package store_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/store"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

type bundle struct {
	ctx   context.Context
	store *store.Store
}

func setup(t *testing.T) bundle {
	t.Helper()
	return bundle{ctx: t.Context(), store: store.New(dbtest.Pool(t))}
}

// newCustomer registers a customer with a unique login and returns it.
func (b bundle) newCustomer(t *testing.T, mutate ...func(*billing.CustomerCreate)) billing.Customer {
	t.Helper()
	login := "u" + strings.ToLower(rand.Text()[:12])
	in := billing.CustomerCreate{AccountType: billing.AccountIndividual, Name: "Ann " + login, Country: "DE",
		User: billing.UserCreate{Login: login, Email: login + "@example.com"}}
	for _, m := range mutate {
		m(&in)
	}
	in.Defaults()
	require.NoError(t, in.Validate())
	c, _, err := b.store.CreateCustomer(b.ctx, in, "hash")
	require.NoError(t, err)
	return c
}

func TestCreateCustomerDuplicateLoginLeavesNothing(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newCustomer(t)
	users, err := b.store.Users(b.ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, users, 1)
	require.True(t, users[0].Main)

	// Other tests run in parallel on the same database, so count only
	// customers carrying this test's unique name.
	name := "Dup " + rand.Text()[:12]
	in := billing.CustomerCreate{AccountType: billing.AccountIndividual, Name: name, Country: "DE",
		User: billing.UserCreate{Login: strings.ToUpper(users[0].Login), Email: "other-" + users[0].Email}}
	in.Defaults()
	_, _, err = b.store.CreateCustomer(b.ctx, in, "hash")
	require.Equal(t, billing.ECONFLICT, billing.ErrorCode(err))
	require.Contains(t, err.(*billing.Error).Fields, "user.login")

	after, err := b.store.Customers(b.ctx, billing.CustomerFilter{Name: name})
	require.NoError(t, err)
	require.Zero(t, after.Total, "the failed registration left a customer row behind")
}

func TestCustomerFilters(t *testing.T) {
	t.Parallel()
	b := setup(t)
	project := "p" + rand.Text()[:8]
	a := b.newCustomer(t, func(c *billing.CustomerCreate) { c.Project = project; c.Name = "Zeta 100%_off"; c.Group = "vip" })
	z := b.newCustomer(t, func(c *billing.CustomerCreate) { c.Project = project; c.Name = "Alpha" })
	// The subscription names the product this test inserted, not the newest
	// one: other tests may add products at the same time.
	var productID int64
	err := dbtest.Pool(t).QueryRow(b.ctx, `INSERT INTO products (name, price, currency, period_unit) VALUES ('x', 1, 'EUR', 'month')
		RETURNING id`).Scan(&productID)
	require.NoError(t, err)
	_, err = dbtest.Pool(t).Exec(b.ctx, `INSERT INTO subscriptions (customer_id, product_id, status)
		VALUES ($1, $2, 'active')`, a.ID, productID)
	require.NoError(t, err)

	ids := func(f billing.CustomerFilter) []int64 {
		t.Helper()
		f.Project = project
		p, err := b.store.Customers(b.ctx, f)
		require.NoError(t, err)
		var out []int64
		for _, c := range p.Items {
			out = append(out, c.ID)
		}
		return out
	}
	yes, no := true, false
	require.Equal(t, []int64{a.ID, z.ID}, ids(billing.CustomerFilter{}))
	require.Equal(t, []int64{z.ID, a.ID}, ids(billing.CustomerFilter{Sort: "name"}))
	require.Equal(t, []int64{a.ID}, ids(billing.CustomerFilter{Name: "100%_"}))
	require.Empty(t, ids(billing.CustomerFilter{Name: "1%0"}), "% must match literally")
	require.Equal(t, []int64{a.ID}, ids(billing.CustomerFilter{Group: "vip"}))
	require.Equal(t, []int64{a.ID}, ids(billing.CustomerFilter{HasActiveServices: &yes}))
	require.Equal(t, []int64{z.ID}, ids(billing.CustomerFilter{HasActiveServices: &no}))
	require.Equal(t, []int64{z.ID}, ids(billing.CustomerFilter{ID: &z.ID}))
	require.Equal(t, []int64{z.ID}, ids(billing.CustomerFilter{PageRequest: billing.PageRequest{Limit: 1, Offset: 1}}))

	_, err = b.store.DeleteCustomer(b.ctx, a.ID)
	require.Equal(t, billing.ECONFLICT, billing.ErrorCode(err), "a customer with an active service can't be deleted")
	d, err := b.store.DeleteCustomer(b.ctx, z.ID)
	require.NoError(t, err)
	require.Equal(t, billing.CustomerDeleted, d.Status)
}

func TestLedgerIsAppendOnly(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newCustomer(t)
	e, err := b.store.Adjust(b.ctx, c.ID, billing.Adjustment{Kind: billing.Credit, Amount: 500, Currency: "EUR", Reference: "goodwill", IdempotencyKey: rand.Text()})
	require.NoError(t, err)
	_, err = dbtest.Pool(t).Exec(b.ctx, `UPDATE ledger_entries SET amount = 1 WHERE id = $1`, e.ID)
	require.ErrorContains(t, err, "append-only")
	_, err = dbtest.Pool(t).Exec(b.ctx, `DELETE FROM ledger_entries WHERE id = $1`, e.ID)
	require.ErrorContains(t, err, "append-only")
}

func TestAdjustIsIdempotent(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newCustomer(t)
	a := billing.Adjustment{Kind: billing.Debit, Amount: 250, Currency: "USD", Reference: "fee", IdempotencyKey: rand.Text()}
	first, err := b.store.Adjust(b.ctx, c.ID, a)
	require.NoError(t, err)
	again, err := b.store.Adjust(b.ctx, c.ID, a)
	require.NoError(t, err)
	require.Equal(t, first.ID, again.ID)

	a.Amount = 999
	_, err = b.store.Adjust(b.ctx, c.ID, a)
	require.Equal(t, billing.ECONFLICT, billing.ErrorCode(err), "a reused key with another amount must not pass silently")

	bal, err := b.store.Balance(b.ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, []billing.Money{{Amount: -250, Currency: "USD"}}, bal.Balances)
}

func TestPaymentPaidCreditsOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newCustomer(t)
	p, err := b.store.CreatePayment(b.ctx, billing.PaymentCreate{CustomerID: c.ID, Method: billing.MethodWireTransfer, Amount: 1999, Currency: "EUR"})
	require.NoError(t, err)
	for range 3 {
		p, err = b.store.MarkPaymentPaid(b.ctx, p.ID)
		require.NoError(t, err)
		require.Equal(t, billing.PaymentPaid, p.Status)
	}
	bal, err := b.store.Balance(b.ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, int64(1999), bal.Of("EUR"))
	_, err = b.store.CancelPayment(b.ctx, p.ID)
	require.Equal(t, billing.ECONFLICT, billing.ErrorCode(err))

	q, err := b.store.CreatePayment(b.ctx, billing.PaymentCreate{CustomerID: c.ID, Method: billing.MethodElectronic, Amount: 5, Currency: "EUR"})
	require.NoError(t, err)
	_, err = b.store.CancelPayment(b.ctx, q.ID)
	require.NoError(t, err)
	_, err = b.store.MarkPaymentPaid(b.ctx, q.ID)
	require.Equal(t, billing.ECONFLICT, billing.ErrorCode(err))
	_, err = b.store.MarkPaymentPaid(b.ctx, 1<<60)
	require.Equal(t, billing.ENOTFOUND, billing.ErrorCode(err))
}

// TestConcurrentPayments records and pays 200 payments to one customer at
// once, each paid twice, and checks the balance is their exact sum.
func TestConcurrentPayments(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newCustomer(t)
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, 2*n)
	var want int64
	for i := range n {
		amount := int64(1000 + i*7)
		want += amount
		wg.Go(func() {
			p, err := b.store.CreatePayment(b.ctx, billing.PaymentCreate{CustomerID: c.ID, Method: billing.MethodElectronic, Amount: amount, Currency: "EUR"})
			if err != nil {
				errs <- err
				return
			}
			var inner sync.WaitGroup
			for range 2 {
				inner.Go(func() {
					if _, err := b.store.MarkPaymentPaid(b.ctx, p.ID); err != nil {
						errs <- err
					}
				})
			}
			inner.Wait()
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	bal, err := b.store.Balance(b.ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, want, bal.Of("EUR"))
	ledger, err := b.store.Ledger(b.ctx, c.ID, 1, 0)
	require.NoError(t, err)
	require.Equal(t, n, ledger.Total)
}

func TestMainUserSwitch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newCustomer(t)
	login := "s" + strings.ToLower(rand.Text()[:10])
	u, err := b.store.CreateUser(b.ctx, c.ID, billing.UserCreate{Login: login, Email: login + "@example.org", Language: "en"}, "hash")
	require.NoError(t, err)
	require.False(t, u.Main)
	yes := true
	u, err = b.store.UpdateUser(b.ctx, c.ID, u.ID, billing.UserUpdate{Main: &yes}, "", 0)
	require.NoError(t, err)
	require.True(t, u.Main)
	users, err := b.store.Users(b.ctx, c.ID)
	require.NoError(t, err)
	require.Len(t, users, 2)
	require.Equal(t, u.ID, users[0].ID)
	require.False(t, users[1].Main)
	require.Equal(t, billing.ECONFLICT, billing.ErrorCode(b.store.DeleteUser(b.ctx, c.ID, u.ID)))
	require.NoError(t, b.store.DeleteUser(b.ctx, c.ID, users[1].ID))

	other := b.newCustomer(t)
	_, err = b.store.User(b.ctx, other.ID, u.ID)
	require.Equal(t, billing.ENOTFOUND, billing.ErrorCode(err), "a user is only found under its own customer")
}

func TestChargeOnceAndNeverOverdraw(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newCustomer(t)
	_, err := b.store.Adjust(b.ctx, c.ID, billing.Adjustment{Kind: billing.Credit, Amount: 1000, Currency: "EUR", Reference: "top-up", IdempotencyKey: rand.Text()})
	require.NoError(t, err)

	// 20 charges of 300 under 10 keys, each key tried twice at once: 3 keys fit in 1000.
	var wg sync.WaitGroup
	var mu sync.Mutex
	charged, refused := map[string]int{}, map[string]int{}
	entries := map[int64]bool{}
	for i := range 20 {
		key := fmt.Sprintf("sub:%d:period:%d", c.ID, i/2)
		wg.Go(func() {
			e, err := b.store.Charge(b.ctx, billing.Charge{CustomerID: c.ID, Amount: 300, Currency: "EUR", Reason: billing.ReasonCharge, IdempotencyKey: key})
			mu.Lock()
			defer mu.Unlock()
			switch billing.ErrorCode(err) {
			case billing.EINSUFFICIENT:
				refused[key]++
			case "":
				charged[key]++
				entries[e.ID] = true
			default:
				t.Errorf("charge %s: %v", key, err)
			}
		})
	}
	wg.Wait()
	// A key charged answers both of its calls with the one entry; a key
	// refused is refused both times, since the balance only goes down.
	require.Len(t, charged, 3, "three charges of 3.00 fit in 10.00")
	require.Len(t, entries, 3, "each charged key wrote one entry, whichever call came first")
	for key, n := range charged {
		require.Equal(t, 2, n, "both calls of %s answer the charge", key)
		require.Zero(t, refused[key], "%s was not refused too", key)
	}
	require.Len(t, refused, 7, "the other seven keys are refused")
	for key, n := range refused {
		require.Equal(t, 2, n, "both calls of %s are refused", key)
	}
	bal, err := b.store.Balance(b.ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, int64(100), bal.Of("EUR"))
	ledger, err := b.store.Ledger(b.ctx, c.ID, 100, 0)
	require.NoError(t, err)
	require.Equal(t, 4, ledger.Total, "one top-up and three charges")
}

func TestChargePostPaidGoesNegative(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newCustomer(t, func(in *billing.CustomerCreate) { in.PostPaid = true })
	_, err := b.store.Charge(b.ctx, billing.Charge{CustomerID: c.ID, Amount: 700, Currency: "USD", Reason: billing.ReasonCharge, IdempotencyKey: rand.Text()})
	require.NoError(t, err)
	bal, err := b.store.Balance(b.ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, int64(-700), bal.Of("USD"))
}
