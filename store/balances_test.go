package store_test

import (
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/store"
)

// balanceRowsMatchLedger requires that customer_balances holds, for each of
// the customers and each currency of their ledgers, the ledger's sum, and no
// other row; it returns how many (customer, currency) balances it compared.
func (b bundle) balanceRowsMatchLedger(t *testing.T, customers ...int64) int {
	t.Helper()
	rows, err := b.store.Pool().Query(b.ctx, `
		WITH sums AS (
			SELECT customer_id, currency, sum(CASE kind WHEN 'credit' THEN amount ELSE -amount END) AS sum
			FROM ledger_entries WHERE customer_id = ANY($1) GROUP BY customer_id, currency),
		rows AS (SELECT customer_id, currency, balance FROM customer_balances WHERE customer_id = ANY($1))
		SELECT customer_id, currency::text, coalesce(s.sum::text, 'none'), coalesce(r.balance::text, 'none')
		FROM sums s FULL JOIN rows r USING (customer_id, currency)
		ORDER BY 1, 2`, customers)
	require.NoError(t, err)
	defer rows.Close()
	n := 0
	for rows.Next() {
		var customer int64
		var currency, sum, balance string
		require.NoError(t, rows.Scan(&customer, &currency, &sum, &balance))
		require.Equal(t, sum, balance, "customer %d, %s: the balance row is not the ledger's sum", customer, currency)
		n++
	}
	require.NoError(t, rows.Err())
	return n
}

// TestBalanceRowIsTheLedgerSum: every kind of ledger write the store has
// (payments marked paid, adjustments both ways, charges, period charges with
// their invoices, refunds, credit notes, usage overage, replays and refused
// writes, and entries inserted straight into the table in bulk, for several
// customers in one statement) leaves each customer's balance row in each
// currency equal to the sum of its ledger, and Balance reads those rows.
func TestBalanceRowIsTheLedgerSum(t *testing.T) {
	t.Parallel()
	b := bundle{ctx: t.Context(), store: store.New(dbtest.OwnPool(t))}
	b.invoicing(t, true)
	var ids []int64
	for range 3 {
		c := b.newCustomer(t)
		ids = append(ids, c.ID)

		b.payment(t, c.ID, 50_000, "EUR")
		b.payment(t, c.ID, 7_000, "USD")
		b.adjust(t, c.ID, 1_234, "EUR")
		b.adjust(t, c.ID, -234, "USD")

		// A charge, its replay, a refused one, and its refund.
		ch := billing.Charge{CustomerID: c.ID, Amount: 2_500, Currency: "USD", Reason: billing.ReasonCharge,
			Reference: "setup fee", IdempotencyKey: "fee:" + rand.Text()}
		_, err := b.store.Charge(b.ctx, ch)
		require.NoError(t, err)
		_, err = b.store.Charge(b.ctx, ch)
		require.NoError(t, err)
		_, err = b.store.Charge(b.ctx, billing.Charge{CustomerID: c.ID, Amount: 1_000_000, Currency: "USD",
			Reason: billing.ReasonCharge, IdempotencyKey: "big:" + rand.Text()})
		require.Equal(t, billing.EINSUFFICIENT, billing.ErrorCode(err), "%v", err)
		_, err = b.store.Refund(b.ctx, c.ID, ch.IdempotencyKey, "refund of the fee")
		require.NoError(t, err)

		// A period charge with its invoice, a credit note of part of it, and
		// the refund of the rest.
		inv, pc := b.invoiced(t, c)
		amount := int64(299)
		_, _, err = b.store.IssueCreditNote(b.ctx, inv.ID, billing.CreditNoteCreate{Amount: &amount, Reason: "outage"}, "")
		require.NoError(t, err)
		_, err = b.store.Refund(b.ctx, c.ID, pc.Charge.IdempotencyKey, "cancelled")
		require.NoError(t, err)

		// Usage beyond what the product includes, charged when its period closes.
		_, sub := b.metered(t, c, 500)
		at := periodFrom.Add(time.Hour)
		_, err = b.store.IngestUsage(b.ctx, sub.ID, events(at, billing.UsageEvent{Resource: "disk", Quantity: 12, IdempotencyKey: "d"}), at, 90)
		require.NoError(t, err)
		oc, err := b.store.ChargeOverage(b.ctx, sub.ID, c.ID, 1)
		require.NoError(t, err)
		require.EqualValues(t, 400, oc.Entry.Amount)
	}
	// Entries typed straight into the table, for two customers and two
	// currencies in one statement, and a statement whose rows all conflict
	// (ON CONFLICT DO NOTHING inserts none, and must add nothing).
	key := "bulk:" + rand.Text() + ":"
	insert := `INSERT INTO ledger_entries (customer_id, kind, amount, currency, reason, idempotency_key)
		SELECT c, CASE WHEN g % 3 = 0 THEN 'debit' ELSE 'credit' END, g, CASE WHEN g % 2 = 0 THEN 'EUR' ELSE 'GBP' END,
			'adjustment', $3 || c || ':' || g
		FROM unnest($1::bigint[]) c, generate_series(1, $2::int) g
		ON CONFLICT (idempotency_key) DO NOTHING`
	_, err := b.store.Pool().Exec(b.ctx, insert, ids[:2], 100, key)
	require.NoError(t, err)
	_, err = b.store.Pool().Exec(b.ctx, insert, ids[:2], 50, key)
	require.NoError(t, err)

	require.Equal(t, 3*2+2*1, b.balanceRowsMatchLedger(t, ids...), "EUR and USD for each customer, GBP for two")
	for _, id := range ids {
		bal, err := b.store.Balance(b.ctx, id)
		require.NoError(t, err)
		var sums []billing.Money
		rows, err := b.store.Pool().Query(b.ctx, `SELECT currency::text, sum(CASE kind WHEN 'credit' THEN amount ELSE -amount END)::bigint
			FROM ledger_entries WHERE customer_id = $1 GROUP BY currency ORDER BY currency`, id)
		require.NoError(t, err)
		for rows.Next() {
			var m billing.Money
			require.NoError(t, rows.Scan(&m.Currency, &m.Amount))
			sums = append(sums, m)
		}
		require.NoError(t, rows.Err())
		require.Equal(t, sums, bal.Balances)
	}
	// The values themselves, for the customer without bulk entries. EUR: the
	// payment, the adjustment, the order's funds, its period charge, the
	// credit note, the refund of the rest, the metered period and its
	// overage. USD: the fee is refunded.
	bal, err := b.store.Balance(b.ctx, ids[2])
	require.NoError(t, err)
	require.Equal(t, []billing.Money{{Amount: 50_000 + 1_234 + 10_000 - 1_299 + 299 + 1_000 - 500 - 400, Currency: "EUR"},
		{Amount: 7_000 - 234, Currency: "USD"}}, bal.Balances)
}

// TestConcurrentChargesOnABalanceCoveringOne: charges made at once for one
// customer whose balance covers one of them, through Charge and ChargePeriod
// alike, pass once; the others are refused (EINSUFFICIENT) and write
// nothing; the balance is 0 and its row the ledger's sum.
func TestConcurrentChargesOnABalanceCoveringOne(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newCustomer(t)
	price := int64(1_000)
	p, err := b.store.CreateProduct(b.ctx, (&billing.ProductInput{Name: "Box", Price: &price, Currency: "EUR",
		PeriodUnit: billing.PeriodMonth}).Product())
	require.NoError(t, err)
	o, err := b.store.CreateSubscription(b.ctx, billing.SubscriptionCreate{CustomerID: c.ID, ProductID: p.ID}, "", 0)
	require.NoError(t, err)
	// Rounds make a lost race likely to show: without the customer's and the
	// balance row's locks, three runs out of three failed.
	const rounds, n = 5, 12
	for round := range rounds {
		b.adjust(t, c.ID, price, "EUR")
		var mu sync.Mutex
		ok, refused := 0, 0
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				var err error
				if i%2 == 0 {
					_, err = b.store.Charge(b.ctx, billing.Charge{CustomerID: c.ID, Amount: price, Currency: "EUR",
						Reason: billing.ReasonCharge, IdempotencyKey: fmt.Sprintf("once:%d:%d:%d", c.ID, round, i)})
				} else {
					_, err = b.store.ChargePeriod(b.ctx, periodCharge(p, o.Subscription, round*n+i))
				}
				mu.Lock()
				defer mu.Unlock()
				switch billing.ErrorCode(err) {
				case "":
					ok++
				case billing.EINSUFFICIENT:
					refused++
				default:
					t.Errorf("charge %d: %v", i, err)
				}
			})
		}
		wg.Wait()
		require.Equal(t, 1, ok, "round %d", round)
		require.Equal(t, n-1, refused, "round %d", round)
		require.Equal(t, int64(0), b.balance(t, c.ID), "round %d", round)
	}
	require.Equal(t, 2*rounds, b.entries(t, c.ID), "the funds and one charge a round")
	require.Equal(t, 1, b.balanceRowsMatchLedger(t, c.ID))
}
