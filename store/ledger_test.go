package store_test

import (
	"crypto/rand"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
)

// seed writes n entries of amount straight into the ledger: quicker than n
// writes through the store, and able to build what a ledger written before
// balances were capped may hold.
func (b bundle) seed(t *testing.T, customerID int64, kind string, n int, amount int64, currency string) {
	t.Helper()
	_, err := b.store.Pool().Exec(b.ctx, `INSERT INTO ledger_entries (customer_id, kind, amount, currency,
		reason, reference, idempotency_key) SELECT $1, $2, $3, $4, 'adjustment', 'seed', $5 || g
		FROM generate_series(1, $6::int) g`, customerID, kind, amount, currency, "seed:"+rand.Text()+":", n)
	require.NoError(t, err)
}

// entries counts the customer's ledger entries.
func (b bundle) entries(t *testing.T, customerID int64) int {
	t.Helper()
	page, err := b.store.Ledger(b.ctx, customerID, 1, 0)
	require.NoError(t, err)
	return page.Total
}

func credit(amount int64, currency string) billing.Adjustment {
	return billing.Adjustment{Kind: billing.Credit, Amount: amount, Currency: currency, Reference: "top-up", IdempotencyKey: rand.Text()}
}

func TestBalanceCapRefusesTheCreditThatPassesIt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newCustomer(t)
	const m = billing.MaxAmount
	b.seed(t, c.ID, billing.Credit, 998, m, "EUR")

	// Up to the cap exactly: a payment and two adjustments.
	paid, err := b.store.CreatePayment(b.ctx, billing.PaymentCreate{CustomerID: c.ID, Method: billing.MethodWireTransfer, Amount: m, Currency: "EUR"})
	require.NoError(t, err)
	_, err = b.store.MarkPaymentPaid(b.ctx, paid.ID)
	require.NoError(t, err)
	_, err = b.store.Adjust(b.ctx, c.ID, credit(m-1, "EUR"))
	require.NoError(t, err)
	last := credit(1, "EUR")
	lastEntry, err := b.store.Adjust(b.ctx, c.ID, last)
	require.NoError(t, err)
	bal, err := b.store.Balance(b.ctx, c.ID)
	require.NoError(t, err, "a balance at the cap reads")
	require.Equal(t, []billing.Money{{Amount: billing.MaxBalance, Currency: "EUR"}}, bal.Balances)
	written := b.entries(t, c.ID)

	// One minor unit more is refused, by payment or adjustment, and writes nothing.
	p, err := b.store.CreatePayment(b.ctx, billing.PaymentCreate{CustomerID: c.ID, Method: billing.MethodElectronic, Amount: 1, Currency: "EUR"})
	require.NoError(t, err)
	_, err = b.store.MarkPaymentPaid(b.ctx, p.ID)
	require.Equal(t, billing.EINVALID, billing.ErrorCode(err), "%v", err)
	require.Contains(t, billing.ErrorMessage(err), "EUR")
	require.Contains(t, billing.ErrorMessage(err), "10000000000000000.00 EUR", "the message names the cap")
	p, err = b.store.Payment(b.ctx, p.ID)
	require.NoError(t, err)
	require.Equal(t, billing.PaymentNew, p.Status, "the refused payment is not marked paid")
	_, err = b.store.Adjust(b.ctx, c.ID, credit(1, "EUR"))
	require.Equal(t, billing.EINVALID, billing.ErrorCode(err), "%v", err)
	require.Equal(t, written, b.entries(t, c.ID))

	// Replays of entries already written still answer them.
	again, err := b.store.Adjust(b.ctx, c.ID, last)
	require.NoError(t, err)
	require.Equal(t, lastEntry.ID, again.ID)
	_, err = b.store.MarkPaymentPaid(b.ctx, paid.ID)
	require.NoError(t, err)

	// The cap is per currency, and a debit makes room again.
	_, err = b.store.Adjust(b.ctx, c.ID, credit(1, "USD"))
	require.NoError(t, err)
	_, err = b.store.Adjust(b.ctx, c.ID, billing.Adjustment{Kind: billing.Debit, Amount: 1, Currency: "EUR", Reference: "fee", IdempotencyKey: rand.Text()})
	require.NoError(t, err)
	_, err = b.store.MarkPaymentPaid(b.ctx, p.ID)
	require.NoError(t, err)
	bal, err = b.store.Balance(b.ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, billing.MaxBalance, bal.Of("EUR"))
	require.Equal(t, int64(1), bal.Of("USD"))
}

// TestBalanceCapHoldsUnderConcurrentCredits: 30 credits of 1 at once, with
// room for 10: exactly 10 pass, whichever way they come.
func TestBalanceCapHoldsUnderConcurrentCredits(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newCustomer(t)
	b.seed(t, c.ID, billing.Credit, 1000, billing.MaxAmount, "EUR")
	_, err := b.store.Adjust(b.ctx, c.ID, billing.Adjustment{Kind: billing.Debit, Amount: 10, Currency: "EUR", Reference: "room for 10", IdempotencyKey: rand.Text()})
	require.NoError(t, err)

	var wg sync.WaitGroup
	var mu sync.Mutex
	ok, refused := 0, 0
	for i := range 30 {
		wg.Go(func() {
			var err error
			if i%2 == 0 {
				_, err = b.store.Adjust(b.ctx, c.ID, credit(1, "EUR"))
			} else {
				var p billing.Payment
				p, err = b.store.CreatePayment(b.ctx, billing.PaymentCreate{CustomerID: c.ID, Method: billing.MethodElectronic, Amount: 1, Currency: "EUR"})
				if err == nil {
					_, err = b.store.MarkPaymentPaid(b.ctx, p.ID)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			switch billing.ErrorCode(err) {
			case "":
				ok++
			case billing.EINVALID:
				refused++
			default:
				t.Errorf("credit %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	require.Equal(t, 10, ok)
	require.Equal(t, 20, refused)
	bal, err := b.store.Balance(b.ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, billing.MaxBalance, bal.Of("EUR"))
}

func TestBalanceCapRefusesThePostPaidDebitThatPassesIt(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newCustomer(t, func(in *billing.CustomerCreate) { in.PostPaid = true })
	b.seed(t, c.ID, billing.Debit, 999, billing.MaxAmount, "USD")
	charge := func(amount int64, key string) (billing.LedgerEntry, error) {
		return b.store.Charge(b.ctx, billing.Charge{CustomerID: c.ID, Amount: amount, Currency: "USD", Reason: billing.ReasonCharge, IdempotencyKey: key})
	}
	_, err := charge(billing.MaxAmount-5, "charge:"+rand.Text())
	require.NoError(t, err)
	key := "charge:" + rand.Text()
	first, err := charge(5, key)
	require.NoError(t, err)
	written := b.entries(t, c.ID)

	_, err = charge(1, "charge:"+rand.Text())
	require.Equal(t, billing.EINVALID, billing.ErrorCode(err), "%v", err)
	require.Contains(t, billing.ErrorMessage(err), "-10000000000000000.00 USD")
	_, err = b.store.Adjust(b.ctx, c.ID, billing.Adjustment{Kind: billing.Debit, Amount: 1, Currency: "USD", Reference: "fee", IdempotencyKey: rand.Text()})
	require.Equal(t, billing.EINVALID, billing.ErrorCode(err), "%v", err)
	require.Equal(t, written, b.entries(t, c.ID), "a refused debit writes nothing")

	again, err := charge(5, key)
	require.NoError(t, err, "the replay of a charge already written answers it")
	require.Equal(t, first.ID, again.ID)
	bal, err := b.store.Balance(b.ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, -billing.MaxBalance, bal.Of("USD"))
}

// TestBalanceBeyondInt64WrittenBeforeTheCap: a ledger written before the cap
// may sum beyond int64. Reading it is a clear conflict, not a failed cast;
// entries that bring it back are allowed, entries that go further are not.
func TestBalanceBeyondInt64WrittenBeforeTheCap(t *testing.T) {
	t.Parallel()
	b := setup(t)
	for _, tc := range []struct {
		kind, back, further string
	}{
		{kind: billing.Credit, back: billing.Debit, further: billing.Credit},
		{kind: billing.Debit, back: billing.Credit, further: billing.Debit},
	} {
		t.Run(tc.kind, func(t *testing.T) {
			t.Parallel()
			c := b.newCustomer(t)
			b.seed(t, c.ID, tc.kind, 9300, billing.MaxAmount, "EUR") // 9.3e18, beyond int64
			_, err := b.store.Balance(b.ctx, c.ID)
			require.Equal(t, billing.ECONFLICT, billing.ErrorCode(err), "%v", err)
			require.Contains(t, billing.ErrorMessage(err), "EUR")

			adjust := func(kind string) error {
				_, err := b.store.Adjust(b.ctx, c.ID, billing.Adjustment{Kind: kind, Amount: billing.MaxAmount, Currency: "EUR", Reference: "x", IdempotencyKey: rand.Text()})
				return err
			}
			require.Equal(t, billing.EINVALID, billing.ErrorCode(adjust(tc.further)))
			require.NoError(t, adjust(tc.back))
			_, err = b.store.Charge(b.ctx, billing.Charge{CustomerID: c.ID, Amount: 100, Currency: "EUR", Reason: billing.ReasonCharge, IdempotencyKey: rand.Text()})
			if tc.kind == billing.Credit {
				require.NoError(t, err, "plenty of money")
			} else {
				require.Equal(t, billing.EINVALID, billing.ErrorCode(err), "%v", err)
			}

			// Brought back within int64, it reads again.
			b.seed(t, c.ID, tc.back, 9299, billing.MaxAmount, "EUR")
			bal, err := b.store.Balance(b.ctx, c.ID)
			require.NoError(t, err)
			want := int64(0)
			if tc.kind == billing.Credit {
				want = -100
			}
			require.Equal(t, want, bal.Of("EUR"), fmt.Sprint(bal))
		})
	}
}

// TestChargeReplayAtAnotherPrice: a charge replayed after its price changed
// (a period charge retried once the product's price moved) returns the
// charge made and writes nothing, whatever the cap or the balance.
func TestChargeReplayAtAnotherPrice(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newCustomer(t)
	_, err := b.store.Adjust(b.ctx, c.ID, credit(1000, "EUR"))
	require.NoError(t, err)
	key := "subscription:" + rand.Text() + ":period:1"
	first, err := b.store.Charge(b.ctx, billing.Charge{CustomerID: c.ID, Amount: 600, Currency: "EUR", Reason: billing.ReasonCharge, IdempotencyKey: key})
	require.NoError(t, err)
	again, err := b.store.Charge(b.ctx, billing.Charge{CustomerID: c.ID, Amount: 900, Currency: "EUR", Reason: billing.ReasonCharge, IdempotencyKey: key})
	require.NoError(t, err)
	require.Equal(t, first, again)
	bal, err := b.store.Balance(b.ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, int64(400), bal.Of("EUR"))
}

// TestRefundOnce: a refund credits back the charge under its key once,
// however often it is asked; a charge never written refunds nothing.
func TestRefundOnce(t *testing.T) {
	t.Parallel()
	b := setup(t)
	c := b.newCustomer(t)
	_, err := b.store.Adjust(b.ctx, c.ID, billing.Adjustment{Kind: billing.Credit, Amount: 1000, Currency: "EUR", Reference: "top-up", IdempotencyKey: rand.Text()})
	require.NoError(t, err)
	// Not a real subscription's key: parallel tests charge and invoice those,
	// and a refund looks for the charge's invoice by its key.
	key := fmt.Sprintf("test-refund:%d:%s", c.ID, rand.Text())
	_, err = b.store.Charge(b.ctx, billing.Charge{CustomerID: c.ID, Amount: 300, Currency: "EUR", Reason: billing.ReasonCharge, IdempotencyKey: key})
	require.NoError(t, err)
	first, err := b.store.Refund(b.ctx, c.ID, key, "refund")
	require.NoError(t, err)
	require.Equal(t, int64(300), first.Amount)
	again, err := b.store.Refund(b.ctx, c.ID, key, "refund")
	require.NoError(t, err)
	require.Equal(t, first.ID, again.ID, "the same refund entry")
	none, err := b.store.Refund(b.ctx, c.ID, key+"-never-charged", "refund")
	require.NoError(t, err)
	require.Zero(t, none.ID, "nothing charged, nothing refunded")
	bal, err := b.store.Balance(b.ctx, c.ID)
	require.NoError(t, err)
	require.Equal(t, int64(1000), bal.Of("EUR"))
}
