package store_test

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/notices"
	"github.com/tempobill/billing/store"
)

// lowBalanceRecorder is a low-balance notifier that records what it is told.
type lowBalanceRecorder struct {
	mu   sync.Mutex
	seen []store.LowBalance
}

func (r *lowBalanceRecorder) notify(_ context.Context, _ *store.Store, l store.LowBalance) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.seen = append(r.seen, l)
	return nil
}

// take returns what was recorded since the last take.
func (r *lowBalanceRecorder) take() []store.LowBalance {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.seen
	r.seen = nil
	return out
}

// dailyProduct creates a product charged every day at price.
func (b bundle) dailyProduct(t testing.TB, price int64, currency string, count int) billing.Product {
	t.Helper()
	p, err := b.store.CreateProduct(b.ctx, (&billing.ProductInput{Name: "Daily VPS " + currency, Price: &price,
		Currency: currency, PeriodUnit: billing.PeriodDay, PeriodCount: count}).Product())
	require.NoError(t, err)
	return p
}

// daily orders p for c and charges its first period: the service is active.
func (b bundle) daily(t testing.TB, c billing.Customer, p billing.Product) billing.Subscription {
	t.Helper()
	o, err := b.store.CreateSubscription(b.ctx, billing.SubscriptionCreate{CustomerID: c.ID, ProductID: p.ID}, "", 0)
	require.NoError(t, err)
	_, err = b.store.ChargePeriod(b.ctx, dayCharge(p, o.Subscription, 1))
	require.NoError(t, err)
	return o.Subscription
}

// dayCharge is the charge of a daily service's nth day.
func dayCharge(p billing.Product, sub billing.Subscription, n int) store.PeriodCharge {
	from := periodFrom.AddDate(0, 0, n-1)
	return store.PeriodCharge{SubscriptionID: sub.ID, ProductID: p.ID, PeriodFrom: from, PaidUntil: from.AddDate(0, 0, 1),
		Charge: billing.Charge{CustomerID: sub.CustomerID, Amount: p.Price, Currency: p.Currency,
			Reason: billing.ReasonCharge, Reference: "day", IdempotencyKey: fmt.Sprintf("subscription:%d:period:%d", sub.ID, n)}}
}

// adjust writes a staff adjustment of amount (a credit if positive).
func (b bundle) adjust(t *testing.T, customerID, amount int64, currency string) {
	t.Helper()
	a := billing.Adjustment{Kind: billing.Credit, Amount: amount, Currency: currency, Reference: "test", IdempotencyKey: rand.Text()}
	if amount < 0 {
		a.Kind, a.Amount = billing.Debit, -amount
	}
	_, err := b.store.Adjust(b.ctx, customerID, a)
	require.NoError(t, err)
}

// payment records a payment and marks it paid.
func (b bundle) payment(t *testing.T, customerID, amount int64, currency string) {
	t.Helper()
	p, err := b.store.CreatePayment(b.ctx, billing.PaymentCreate{CustomerID: customerID, Method: billing.MethodWireTransfer,
		Amount: amount, Currency: currency})
	require.NoError(t, err)
	_, err = b.store.MarkPaymentPaid(b.ctx, p.ID)
	require.NoError(t, err)
}

func (b bundle) setState(t *testing.T, sub billing.Subscription, status string) {
	t.Helper()
	require.NoError(t, b.store.SetSubscriptionState(b.ctx, sub.ID, status, "", nil, true, 0, false))
}

func TestLowBalanceLevel(t *testing.T) {
	t.Parallel()
	period := []int{10, 5, 4, 3, 2, 1, 0}
	for days, want := range map[int64]int{0: 0, 1: 1, 3: 3, 4: 4, 5: 5, 6: 10, 9: 10, 10: 10, 11: -1, 1000: -1} {
		level, ok := store.LowBalanceLevel(days, period)
		if want < 0 {
			require.False(t, ok, "%d days", days)
			continue
		}
		require.True(t, ok, "%d days", days)
		require.Equal(t, want, level, "%d days", days)
	}
	_, ok := store.LowBalanceLevel(0, nil)
	require.False(t, ok, "no values: never")
}

// TestLowBalanceCrossings: every change of the balance or of the daily
// services is checked, step by step, against the notice it must give (or
// none): charges, staff adjustments, payments, a refund, a second daily
// service ordered, suspended and resumed; one notice per fall, for the lowest
// value crossed; none while the level stays; again after a rise.
func TestLowBalanceCrossings(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rec := &lowBalanceRecorder{}
	b.store.SetLowBalanceNotifier(rec.notify)
	c := b.newCustomer(t)
	vps := b.dailyProduct(t, 100, "EUR", 1)
	// Products that are not charged every day count for nothing.
	monthly, err := b.store.CreateProduct(b.ctx, (&billing.ProductInput{Name: "Monthly", Price: ptr(int64(5000)),
		Currency: "EUR", PeriodUnit: billing.PeriodMonth, PeriodCount: 1}).Product())
	require.NoError(t, err)
	twoDays := b.dailyProduct(t, 1000, "EUR", 2)

	var sub, extra billing.Subscription
	day := 1
	next := func() {
		day++
		_, err := b.store.ChargePeriod(b.ctx, dayCharge(vps, sub, day))
		require.NoError(t, err)
	}
	steps := []struct {
		name      string
		do        func()
		balance   int64 // after the step
		notice    int   // the level notified, -1 for none
		days      int64 // the notice's days left
		dailyCost int64
	}{
		{"a payment without daily services", func() { b.payment(t, c.ID, 1300+5000+1000, "EUR") }, 7300, -1, 0, 0},
		{"monthly and two-day services", func() {
			b.daily(t, c, monthly)
			b.daily(t, c, twoDays)
		}, 1300, -1, 0, 0},
		{"a daily service: 12 days", func() { sub = b.daily(t, c, vps) }, 1200, -1, 0, 0},
		{"11 days", next, 1100, -1, 0, 0},
		{"10 days: the first value", next, 1000, 10, 10, 100},
		{"9 days", next, 900, -1, 0, 0},
		{"a credit, still 9 days", func() { b.adjust(t, c.ID, 50, "EUR") }, 950, -1, 0, 0},
		{"a debit to 3 days: one notice, for 3", func() { b.adjust(t, c.ID, -600, "EUR") }, 350, 3, 3, 100},
		{"a payment: 11 days", func() { b.payment(t, c.ID, 800, "EUR") }, 1150, -1, 0, 0},
		{"10 days again: told again", next, 1050, 10, 10, 100},
		{"9 days", next, 950, -1, 0, 0},
		{"a refund of that day: 10 days", func() {
			_, err := b.store.Refund(b.ctx, c.ID, dayCharge(vps, sub, day).Charge.IdempotencyKey, "refund")
			require.NoError(t, err)
		}, 1050, -1, 0, 0},
		{"a payment: 20 days", func() { b.payment(t, c.ID, 950, "EUR") }, 2000, -1, 0, 0},
		{"a second daily service: 1900 at 200 a day, 9 days", func() { extra = b.daily(t, c, b.dailyProduct(t, 100, "EUR", 1)) },
			1900, 10, 9, 200},
		{"it is suspended: 19 days", func() { b.setState(t, extra, billing.SubscriptionSuspended) }, 1900, -1, 0, 0},
		{"resumed: 9 days, told again", func() { b.setState(t, extra, billing.SubscriptionActive) }, 1900, 10, 9, 200},
		{"automatic renewal off: no longer counted, 19 days", func() {
			require.NoError(t, b.store.SetSubscriptionState(b.ctx, extra.ID, billing.SubscriptionActive, "", nil, false, 0, false))
		}, 1900, -1, 0, 0},
		{"automatic renewal on: 9 days, told again", func() { b.setState(t, extra, billing.SubscriptionActive) }, 1900, 10, 9, 200},
		{"cancelled: 19 days", func() { b.setState(t, extra, billing.SubscriptionCancelled) }, 1900, -1, 0, 0},
		{"a debit to 5 days", func() { b.adjust(t, c.ID, -1400, "EUR") }, 500, 5, 5, 100},
		{"4 days", next, 400, 4, 4, 100},
		{"3 days", next, 300, 3, 3, 100},
		{"2 days", next, 200, 2, 2, 100},
		{"1 day", next, 100, 1, 1, 100},
		{"0 days", next, 0, 0, 0, 100},
		{"below 0: still 0 days", func() { b.adjust(t, c.ID, -50, "EUR") }, -50, -1, 0, 0},
		{"a payment to 0.5 days: 0 days, no notice", func() { b.payment(t, c.ID, 100, "EUR") }, 50, -1, 0, 0},
		{"suspended: no daily service", func() { b.setState(t, sub, billing.SubscriptionSuspended) }, 50, -1, 0, 0},
		{"resumed: 0 days, told again", func() { b.setState(t, sub, billing.SubscriptionActive) }, 50, 0, 0, 100},
	}
	crossing := int64(0)
	for _, s := range steps {
		s.do()
		bal, err := b.store.Balance(b.ctx, c.ID)
		require.NoError(t, err)
		require.Equal(t, s.balance, bal.Of("EUR"), s.name)
		got := rec.take()
		if s.notice < 0 {
			require.Empty(t, got, s.name)
			continue
		}
		crossing++
		require.Equal(t, []store.LowBalance{{CustomerID: c.ID, Currency: "EUR", Balance: s.balance, DailyCost: s.dailyCost,
			DaysLeft: s.days, Level: s.notice, Crossing: crossing}}, got, s.name)
	}
}

func ptr[T any](v T) *T { return &v }

// TestLowBalanceNeverPostPaid: a post-paid customer whose balance falls and
// goes negative is never told; one who stops being post-paid is, at the next
// change.
func TestLowBalanceNeverPostPaid(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rec := &lowBalanceRecorder{}
	b.store.SetLowBalanceNotifier(rec.notify)
	c := b.newCustomer(t, func(in *billing.CustomerCreate) { in.PostPaid = true })
	p := b.dailyProduct(t, 100, "EUR", 1)
	b.payment(t, c.ID, 1100, "EUR")
	sub := b.daily(t, c, p)
	for day := 2; day <= 15; day++ {
		_, err := b.store.ChargePeriod(b.ctx, dayCharge(p, sub, day))
		require.NoError(t, err)
		require.Empty(t, rec.take(), "day %d", day)
	}
	b.adjust(t, c.ID, -100, "EUR")
	bal, err := b.store.Balance(b.ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, int64(-500), bal.Of("EUR"))
	require.Empty(t, rec.take())

	prepaid := false
	_, err = b.store.UpdateCustomer(b.ctx, c.ID, billing.CustomerUpdate{PostPaid: &prepaid})
	require.NoError(t, err)
	b.payment(t, c.ID, 800, "EUR")
	require.Equal(t, []store.LowBalance{{CustomerID: c.ID, Currency: "EUR", Balance: 300, DailyCost: 100, DaysLeft: 3,
		Level: 3, Crossing: 1}}, rec.take())
}

// TestLowBalancePerCurrency: each currency's daily services are counted
// against the balance in that currency, with levels and notice keys of their
// own.
func TestLowBalancePerCurrency(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rec := &lowBalanceRecorder{}
	b.store.SetLowBalanceNotifier(rec.notify)
	c := b.newCustomer(t)
	eur, usd := b.dailyProduct(t, 100, "EUR", 1), b.dailyProduct(t, 200, "USD", 1)
	usd2 := b.dailyProduct(t, 300, "USD", 1)
	b.payment(t, c.ID, 2100, "EUR")
	b.payment(t, c.ID, 11500, "USD")
	b.daily(t, c, eur)
	require.Empty(t, rec.take(), "EUR: 20 days")
	b.daily(t, c, usd)
	require.Empty(t, rec.take(), "USD: 56 days")
	b.daily(t, c, usd2)
	require.Empty(t, rec.take(), "USD: 22 days")
	b.adjust(t, c.ID, -1100, "EUR")
	require.Equal(t, []store.LowBalance{{CustomerID: c.ID, Currency: "EUR", Balance: 900, DailyCost: 100, DaysLeft: 9,
		Level: 10, Crossing: 1}}, rec.take())
	b.adjust(t, c.ID, -8600, "USD")
	require.Equal(t, []store.LowBalance{{CustomerID: c.ID, Currency: "USD", Balance: 2400, DailyCost: 500, DaysLeft: 4,
		Level: 4, Crossing: 1}}, rec.take(), "USD has its own level")
	b.adjust(t, c.ID, -100, "EUR")
	require.Empty(t, rec.take(), "EUR: 8 days, still at 10")
	b.adjust(t, c.ID, 5000, "GBP")
	require.Empty(t, rec.take(), "no daily services in GBP")
}

// lowBalanceNotices counts the low_balance notices queued for the customer.
func (b bundle) lowBalanceNotices(t *testing.T, customerID int64) []billing.Notice {
	t.Helper()
	page, err := b.store.Notifications(b.ctx, billing.NotificationFilter{CustomerID: &customerID,
		Event: notices.EventLowBalance, PageRequest: billing.PageRequest{Limit: 100}})
	require.NoError(t, err)
	return page.Items
}

// queuingDaily is a store that queues low_balance and a customer with a
// daily service of 1.00 EUR, paid funds in EUR and its first day charged.
func queuingDaily(t *testing.T, funds int64) (bundle, billing.Customer, billing.Product, billing.Subscription) {
	t.Helper()
	b := setup(t)
	b.store.SetLowBalanceNotifier(activities.QueueLowBalance("en"))
	c := b.newCustomer(t)
	p := b.dailyProduct(t, 100, "EUR", 1)
	b.payment(t, c.ID, funds, "EUR")
	return b, c, p, b.daily(t, c, p)
}

// TestLowBalanceRetriedChargeQueuesOnce: the charge that makes the days
// fall queues low_balance (through activities.QueueLowBalance, once per user)
// in its transaction; the same charge retried finds its entry and queues
// nothing more.
func TestLowBalanceRetriedChargeQueuesOnce(t *testing.T) {
	t.Parallel()
	b, c, p, sub := queuingDaily(t, 1200)
	require.Empty(t, b.lowBalanceNotices(t, c.ID), "11 days")
	for range 3 {
		_, err := b.store.ChargePeriod(b.ctx, dayCharge(p, sub, 2))
		require.NoError(t, err)
		got := b.lowBalanceNotices(t, c.ID)
		require.Len(t, got, 1)
		require.Equal(t, billing.NoticeQueued, got[0].Status)
		require.Equal(t, "Low balance: 10.00 EUR left", got[0].Subject)
		require.Contains(t, got[0].Body, "cost 1.00 EUR a day, so your balance pays for 10 more days")
	}
}

// TestLowBalanceRolledBackQueuesNothing: a change whose transaction rolls
// back (a debit in a request that then fails) leaves neither the notice nor
// the level: the same debit made for good is told, as the first fall.
func TestLowBalanceRolledBackQueuesNothing(t *testing.T) {
	t.Parallel()
	b, c, _, _ := queuingDaily(t, 2100)
	failed := errors.New("the request failed after the debit")
	err := b.store.Tx(b.ctx, func(tx *store.Store) error {
		_, err := tx.Adjust(b.ctx, c.ID, billing.Adjustment{Kind: billing.Debit, Amount: 1000, Currency: "EUR",
			Reference: "fee", IdempotencyKey: "rolled-back"})
		require.NoError(t, err)
		return failed
	})
	require.ErrorIs(t, err, failed)
	require.Empty(t, b.lowBalanceNotices(t, c.ID))
	b.adjust(t, c.ID, -1000, "EUR")
	got := b.lowBalanceNotices(t, c.ID)
	require.Len(t, got, 1, "10 days: the first fall, not taken for a repeat")
	require.Contains(t, got[0].Body, "pays for 10 more days")
}

// TestLowBalanceConcurrentCharges: eight daily services of one customer
// charged at the same moment, the first of whose charges makes the days fall
// to 10, give one notice (recorded once, queued once): the level is read and
// written under the customer's row lock, in each charge's transaction.
func TestLowBalanceConcurrentCharges(t *testing.T) {
	t.Parallel()
	b := bundle{ctx: t.Context(), store: store.New(dbtest.OwnPool(t))}
	rec := &lowBalanceRecorder{}
	queue := activities.QueueLowBalance("en")
	b.store.SetLowBalanceNotifier(func(ctx context.Context, tx *store.Store, l store.LowBalance) error {
		_ = rec.notify(ctx, tx, l)
		return queue(ctx, tx, l)
	})
	p := b.dailyProduct(t, 100, "EUR", 1)
	const services = 8
	for round := range 10 {
		c := b.newCustomer(t)
		b.payment(t, c.ID, 100000, "EUR")
		var subs []billing.Subscription
		for range services {
			subs = append(subs, b.daily(t, c, p))
		}
		b.adjust(t, c.ID, -(100000 - services*100 - 11*services*100), "EUR") // 11 days of all
		require.Empty(t, rec.take())
		var wg sync.WaitGroup
		start := make(chan struct{})
		for _, sub := range subs {
			wg.Go(func() {
				<-start
				_, err := b.store.ChargePeriod(b.ctx, dayCharge(p, sub, 2))
				require.NoError(t, err)
			})
		}
		close(start)
		wg.Wait()
		got := rec.take()
		require.Len(t, got, 1, "round %d", round)
		require.Equal(t, int64(10), got[0].DaysLeft)
		queued := b.lowBalanceNotices(t, c.ID)
		require.Len(t, queued, 1, "round %d", round)
		require.Contains(t, queued[0].Body, "pays for 10 more days")
	}
}

// BenchmarkLowBalanceWatch measures the watch one balance change runs (in
// a transaction rolled back, so without the commit), for a customer with 0,
// 1 or 200 daily services and a ledger of 100, 10,000 or 100,000 entries in
// the currency: how its cost grows. Other customers don't count: the
// package's database holds every other test's.
//
//	go test ./store -run '^$' -bench BenchmarkLowBalanceWatch -benchtime 200x
func BenchmarkLowBalanceWatch(bm *testing.B) {
	pool := dbtest.Pool(bm)
	for _, services := range []int{0, 1, 200} {
		for _, entries := range []int{100, 10000, 100000} {
			bm.Run(fmt.Sprintf("services=%d/entries=%d", services, entries), func(bm *testing.B) {
				b := bundle{ctx: bm.Context(), store: store.New(pool)}
				b.store.SetLowBalanceNotifier(activities.QueueLowBalance("en"))
				login := "bench" + strings.ToLower(rand.Text()[:12])
				in := billing.CustomerCreate{AccountType: billing.AccountIndividual, Name: login, Country: "DE",
					User: billing.UserCreate{Login: login, Email: login + "@example.com"}}
				in.Defaults()
				c, _, err := b.store.CreateCustomer(b.ctx, in, "hash")
				require.NoError(bm, err)
				_, err = b.store.Pool().Exec(b.ctx, `INSERT INTO ledger_entries (customer_id, kind, amount, currency,
					reason, reference, idempotency_key) SELECT $1, 'credit', 1000000, 'EUR', 'adjustment', 'seed', $2 || g
					FROM generate_series(1, $3::int) g`, c.ID, "seed:"+rand.Text()+":", entries)
				require.NoError(bm, err)
				p := b.dailyProduct(bm, 1, "EUR", 1)
				for range services {
					b.daily(bm, c, p)
				}
				_, err = b.store.Pool().Exec(b.ctx, "ANALYZE ledger_entries")
				require.NoError(bm, err)
				bm.ResetTimer()
				for range bm.N {
					require.NoError(bm, b.store.WatchLowBalanceRolledBack(b.ctx, c.ID))
				}
			})
		}
	}
}

// TestLowBalanceCountsTheDiscount: the days a balance lasts are counted with
// what the daily services are charged, the price less the customer's
// discount, as the renewals charge it: a 50% discount makes 8.50 EUR last 17
// days of a 1.00 EUR service, not 8; a service discounted to nothing costs
// nothing a day, so a balance of 0 is never told it lasts 0 days.
func TestLowBalanceCountsTheDiscount(t *testing.T) {
	t.Parallel()
	b := setup(t)
	rec := &lowBalanceRecorder{}
	b.store.SetLowBalanceNotifier(rec.notify)
	vps := b.dailyProduct(t, 100, "EUR", 1)

	half := b.newCustomer(t)
	_, err := b.store.CreateDiscount(b.ctx, half.ID, billing.DiscountInput{PercentBP: ptr(5000), ValidFrom: &periodFrom})
	require.NoError(t, err)
	b.payment(t, half.ID, 900, "EUR")
	require.Empty(t, rec.take(), "no daily service yet")
	sub := b.daily(t, half, vps)
	balance := func(c billing.Customer) int64 {
		t.Helper()
		bal, err := b.store.Balance(b.ctx, c.ID)
		require.NoError(t, err)
		return bal.Of("EUR")
	}
	require.Equal(t, int64(850), balance(half), "the first day charged at 0.50")
	require.Empty(t, rec.take(), "8.50 EUR at 0.50 a day: 17 days")
	_, err = b.store.ChargePeriod(b.ctx, dayCharge(vps, sub, 2))
	require.NoError(t, err)
	require.Equal(t, int64(800), balance(half))
	require.Empty(t, rec.take(), "16 days")
	b.adjust(t, half.ID, -350, "EUR")
	require.Equal(t, int64(450), balance(half))
	require.Equal(t, []store.LowBalance{{CustomerID: half.ID, Currency: "EUR", Balance: 450, DailyCost: 50, DaysLeft: 9,
		Level: 10, Crossing: 1}}, rec.take(), "9 days at 0.50 a day")

	free := b.newCustomer(t)
	_, err = b.store.CreateDiscount(b.ctx, free.ID, billing.DiscountInput{PercentBP: ptr(10000), ValidFrom: &periodFrom})
	require.NoError(t, err)
	fsub := b.daily(t, free, vps)
	require.Equal(t, int64(0), balance(free), "nothing charged")
	require.Empty(t, rec.take(), "a free service: no daily cost, no notice")
	_, err = b.store.ChargePeriod(b.ctx, dayCharge(vps, fsub, 2))
	require.NoError(t, err)
	require.Empty(t, rec.take(), "the next free day")
}
