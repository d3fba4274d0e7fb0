package store_test

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/internal/dbtest"
	"github.com/tempobill/billing/store"
)

// invoiced charges a funded order of c's period 1 with invoicing on and
// returns its invoice (12.99 EUR).
func (b bundle) invoiced(t *testing.T, c billing.Customer) (billing.Invoice, store.PeriodCharge) {
	t.Helper()
	p, sub := b.order(t, c)
	pc := periodCharge(p, sub, 1)
	_, err := b.store.ChargePeriod(b.ctx, pc)
	require.NoError(t, err)
	inv, err := b.store.InvoiceByChargeKey(b.ctx, pc.Charge.IdempotencyKey)
	require.NoError(t, err)
	return inv, pc
}

func (b bundle) balance(t *testing.T, customerID int64) int64 {
	t.Helper()
	bal, err := b.store.Balance(b.ctx, customerID)
	require.NoError(t, err)
	return bal.Of("EUR")
}

// TestCreditNotes: a credit note references its invoice, credits the
// customer once under its own ledger key, and takes CN-<year>-000001, 2...;
// a request resent with its key returns the same one and credits nothing;
// more than the invoice's rest is refused, the rest is the default, nothing
// left is a conflict; the invoice's status follows (paid,
// partially_credited, credited) while its row never changes; a credit note
// can't be updated or deleted.
func TestCreditNotes(t *testing.T) {
	t.Parallel()
	pool := dbtest.OwnPool(t)
	b := bundle{ctx: t.Context(), store: store.New(pool)}
	b.invoicing(t, true)
	c := b.newCustomer(t)
	inv, _ := b.invoiced(t, c)
	require.Equal(t, billing.InvoicePaid, inv.Status)
	require.Empty(t, inv.CreditNotes)
	require.Equal(t, int64(10000-1299), b.balance(t, c.ID))
	year := time.Now().UTC().Year()

	amount := int64(300)
	cn, created, err := b.store.IssueCreditNote(b.ctx, inv.ID, billing.CreditNoteCreate{Amount: &amount, Reason: "outage"}, "k1")
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, billing.CreditNoteNumber(year, 1), cn.Number)
	require.Equal(t, inv.ID, cn.InvoiceID)
	require.Equal(t, inv.Number, cn.InvoiceNumber)
	require.Equal(t, c.ID, cn.CustomerID)
	require.Equal(t, int64(300), cn.Amount)
	require.Equal(t, "EUR", cn.Currency)
	require.Equal(t, "outage", cn.Reason)
	require.Equal(t, int64(10000-1299+300), b.balance(t, c.ID))
	ledger, err := b.store.Ledger(b.ctx, c.ID, 10, 0)
	require.NoError(t, err)
	require.Equal(t, cn.LedgerEntryID, ledger.Items[0].ID)
	require.Equal(t, billing.Credit, ledger.Items[0].Kind)
	require.Equal(t, billing.ReasonCreditNote, ledger.Items[0].Reason)
	require.Equal(t, "credit_note:"+cn.Number, ledger.Items[0].IdempotencyKey)

	again, created, err := b.store.IssueCreditNote(b.ctx, inv.ID, billing.CreditNoteCreate{Amount: &amount, Reason: "outage"}, "k1")
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, cn, again)
	require.Equal(t, int64(10000-1299+300), b.balance(t, c.ID), "credited once")
	_, _, err = b.store.IssueCreditNote(b.ctx, inv.ID, billing.CreditNoteCreate{Reason: "other"}, "k1")
	require.Equal(t, billing.ECONFLICT, billing.ErrorCode(err), "the key with another reason")

	got, err := b.store.Invoice(b.ctx, inv.ID)
	require.NoError(t, err)
	require.Equal(t, billing.InvoicePartiallyCredited, got.Status)
	require.Equal(t, int64(300), got.Credited)
	require.Equal(t, []billing.CreditNoteRef{{ID: cn.ID, Number: cn.Number, Amount: 300}}, got.CreditNotes)

	tooMuch := int64(1000)
	_, _, err = b.store.IssueCreditNote(b.ctx, inv.ID, billing.CreditNoteCreate{Amount: &tooMuch, Reason: "x"}, "")
	require.Equal(t, billing.EINVALID, billing.ErrorCode(err), "999 left")
	rest, created, err := b.store.IssueCreditNote(b.ctx, inv.ID, billing.CreditNoteCreate{Reason: "cancelled"}, "")
	require.NoError(t, err)
	require.True(t, created)
	require.Equal(t, int64(999), rest.Amount)
	require.Equal(t, billing.CreditNoteNumber(year, 2), rest.Number, "no number taken by the refusal")
	require.Equal(t, int64(10000), b.balance(t, c.ID))
	_, _, err = b.store.IssueCreditNote(b.ctx, inv.ID, billing.CreditNoteCreate{Reason: "again"}, "")
	require.Equal(t, billing.ECONFLICT, billing.ErrorCode(err), "credited in full")

	got, err = b.store.Invoice(b.ctx, inv.ID)
	require.NoError(t, err)
	require.Equal(t, billing.InvoiceCredited, got.Status)
	require.Equal(t, int64(1299), got.Credited)
	for status, n := range map[string]int{billing.InvoicePaid: 0, billing.InvoicePartiallyCredited: 0, billing.InvoiceCredited: 1} {
		page, err := b.store.Invoices(b.ctx, billing.InvoiceFilter{Status: status})
		require.NoError(t, err)
		require.Equal(t, n, page.Total, status)
	}
	var stored string
	require.NoError(t, pool.QueryRow(b.ctx, `SELECT status FROM invoices WHERE id = $1`, inv.ID).Scan(&stored))
	require.Equal(t, billing.InvoicePaid, stored, "the invoice's row never changes")

	list, err := b.store.CreditNotes(b.ctx, billing.CreditNoteFilter{InvoiceID: &inv.ID})
	require.NoError(t, err)
	require.Equal(t, []billing.CreditNote{rest, cn}, list.Items)

	_, err = pool.Exec(b.ctx, `UPDATE credit_notes SET amount = 1 WHERE id = $1`, cn.ID)
	require.ErrorContains(t, err, "never changes")
	_, err = pool.Exec(b.ctx, `DELETE FROM credit_notes WHERE id = $1`, cn.ID)
	require.ErrorContains(t, err, "never changes")
	_, _, err = b.store.IssueCreditNote(b.ctx, -1, billing.CreditNoteCreate{Reason: "x"}, "")
	require.Equal(t, billing.ENOTFOUND, billing.ErrorCode(err))
}

// TestCreditNotesNeverExceedTheInvoice: 30 concurrent credit notes of 1.00
// EUR on an invoice of 12.99 EUR: exactly 12 are issued, the others refused,
// and the balance got exactly 12.00 EUR back.
func TestCreditNotesNeverExceedTheInvoice(t *testing.T) {
	t.Parallel()
	b := bundle{ctx: t.Context(), store: store.New(dbtest.OwnPool(t))}
	b.invoicing(t, true)
	c := b.newCustomer(t)
	inv, _ := b.invoiced(t, c)
	before := b.balance(t, c.ID)
	const n = 30
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			amount := int64(100)
			_, _, errs[i] = b.store.IssueCreditNote(b.ctx, inv.ID, billing.CreditNoteCreate{Amount: &amount, Reason: "concurrent"}, "")
		})
	}
	wg.Wait()
	issued := 0
	for _, err := range errs {
		if err == nil {
			issued++
		} else {
			require.Equal(t, billing.EINVALID, billing.ErrorCode(err), "%v", err)
		}
	}
	require.Equal(t, 12, issued)
	got, err := b.store.Invoice(b.ctx, inv.ID)
	require.NoError(t, err)
	require.Equal(t, int64(1200), got.Credited)
	require.Len(t, got.CreditNotes, 12)
	require.Equal(t, billing.InvoicePartiallyCredited, got.Status)
	require.Equal(t, before+1200, b.balance(t, c.ID))
}

// TestCreditNoteNumbersGapless: 100 concurrent credit notes of different
// invoices, and 10 more whose transaction rolls back after taking a number,
// leave CN numbers 1 to 100: no gap, no duplicate.
func TestCreditNoteNumbersGapless(t *testing.T) {
	t.Parallel()
	b := bundle{ctx: t.Context(), store: store.New(dbtest.OwnPool(t))}
	b.invoicing(t, true)
	const n, failing = 100, 10
	invs := make([]billing.Invoice, n+failing)
	for i := range invs {
		invs[i], _ = b.invoiced(t, b.newCustomer(t))
	}
	rollback := errors.New("rolled back after taking a number")
	errs := make([]error, len(invs))
	var wg sync.WaitGroup
	for i, inv := range invs {
		wg.Go(func() {
			errs[i] = b.store.Tx(b.ctx, func(st *store.Store) error {
				_, _, err := st.IssueCreditNote(b.ctx, inv.ID, billing.CreditNoteCreate{Reason: "gapless"}, "")
				if err == nil && i >= n {
					return rollback
				}
				return err
			})
		})
	}
	wg.Wait()
	for i, err := range errs {
		if i < n {
			require.NoError(t, err)
		} else {
			require.ErrorIs(t, err, rollback)
		}
	}
	page, err := b.store.CreditNotes(b.ctx, billing.CreditNoteFilter{PageRequest: billing.PageRequest{Limit: 500}})
	require.NoError(t, err)
	require.Equal(t, n, page.Total)
	var numbers []string
	for _, cn := range page.Items {
		numbers = append(numbers, cn.Number)
	}
	slices.Sort(numbers)
	year := time.Now().UTC().Year()
	for i, num := range numbers {
		require.Equal(t, billing.CreditNoteNumber(year, int64(i+1)), num)
	}
	for _, inv := range invs[n:] {
		got, err := b.store.Invoice(b.ctx, inv.ID)
		require.NoError(t, err)
		require.Equal(t, billing.InvoicePaid, got.Status, "rolled back: nothing credited")
	}
}

// TestRefundIssuesCreditNote: the refund of a period charge that has an
// invoice gives back what its credit notes left and issues the credit note
// of that rest, recording the refund as its credit, once: a replayed refund
// finds both. A charge without an invoice is refunded in full, without one.
func TestRefundIssuesCreditNote(t *testing.T) {
	t.Parallel()
	b := bundle{ctx: t.Context(), store: store.New(dbtest.OwnPool(t))}
	b.invoicing(t, true)
	c := b.newCustomer(t)
	inv, pc := b.invoiced(t, c)
	amount := int64(200)
	first, _, err := b.store.IssueCreditNote(b.ctx, inv.ID, billing.CreditNoteCreate{Amount: &amount, Reason: "goodwill"}, "")
	require.NoError(t, err)
	require.Equal(t, int64(10000-1299+200), b.balance(t, c.ID))

	key := pc.Charge.IdempotencyKey
	refund, err := b.store.Refund(b.ctx, c.ID, key, "cancelled before it began")
	require.NoError(t, err)
	require.Equal(t, int64(1099), refund.Amount, "the charge less the credit note")
	require.Equal(t, billing.ReasonRefund, refund.Reason)
	require.Equal(t, int64(10000), b.balance(t, c.ID))
	cn, err := b.store.CreditNoteByRefund(b.ctx, key)
	require.NoError(t, err)
	require.Equal(t, refund.ID, cn.LedgerEntryID, "the refund is its credit")
	require.Equal(t, int64(1099), cn.Amount)
	require.Equal(t, inv.ID, cn.InvoiceID)
	require.Equal(t, "cancelled before it began", cn.Reason)
	require.Equal(t, billing.CreditNoteNumber(time.Now().UTC().Year(), 2), cn.Number)

	replay, err := b.store.Refund(b.ctx, c.ID, key, "cancelled before it began")
	require.NoError(t, err)
	require.Equal(t, refund.ID, replay.ID)
	require.Equal(t, int64(10000), b.balance(t, c.ID))
	got, err := b.store.Invoice(b.ctx, inv.ID)
	require.NoError(t, err)
	require.Equal(t, billing.InvoiceCredited, got.Status)
	require.Equal(t, []billing.CreditNoteRef{{ID: first.ID, Number: first.Number, Amount: 200},
		{ID: cn.ID, Number: cn.Number, Amount: 1099}}, got.CreditNotes)

	b.invoicing(t, false)
	plain := b.newCustomer(t)
	p, sub := b.order(t, plain)
	pc2 := periodCharge(p, sub, 1)
	_, err = b.store.ChargePeriod(b.ctx, pc2)
	require.NoError(t, err)
	refund, err = b.store.Refund(b.ctx, plain.ID, pc2.Charge.IdempotencyKey, "cancelled")
	require.NoError(t, err)
	require.Equal(t, int64(1299), refund.Amount)
	_, err = b.store.CreditNoteByRefund(b.ctx, pc2.Charge.IdempotencyKey)
	require.Equal(t, billing.ENOTFOUND, billing.ErrorCode(err), "no invoice, no credit note")
}

// TestCreditNotesRaceTheRefund: 12 credit notes of 1.00 EUR issued at the
// same moment as the refund of the invoice's charge never credit more than
// the charge: the credit notes, the refund's included, sum to at most 12.99
// EUR, the balance got back exactly what they sum to, and the refund is the
// credit of its own credit note.
func TestCreditNotesRaceTheRefund(t *testing.T) {
	t.Parallel()
	b := bundle{ctx: t.Context(), store: store.New(dbtest.OwnPool(t))}
	b.invoicing(t, true)
	c := b.newCustomer(t)
	inv, pc := b.invoiced(t, c)
	require.Equal(t, int64(10000-1299), b.balance(t, c.ID))
	var wg sync.WaitGroup
	errs := make(chan error, 13)
	for range 12 {
		wg.Go(func() {
			amount := int64(100)
			_, _, err := b.store.IssueCreditNote(b.ctx, inv.ID, billing.CreditNoteCreate{Amount: &amount, Reason: "outage"}, "")
			errs <- err
		})
	}
	var refund billing.LedgerEntry
	wg.Go(func() {
		var err error
		refund, err = b.store.Refund(b.ctx, c.ID, pc.Charge.IdempotencyKey, "cancelled")
		errs <- err
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			require.Contains(t, []string{billing.EINVALID, billing.ECONFLICT}, billing.ErrorCode(err), "%v", err)
		}
	}
	got, err := b.store.Invoice(b.ctx, inv.ID)
	require.NoError(t, err)
	require.LessOrEqual(t, got.Credited, int64(1299))
	require.Equal(t, int64(10000-1299)+got.Credited, b.balance(t, c.ID), "the balance got back what the credit notes sum to")
	if refund.ID != 0 {
		cn, err := b.store.CreditNoteByRefund(b.ctx, pc.Charge.IdempotencyKey)
		require.NoError(t, err)
		require.Equal(t, refund.ID, cn.LedgerEntryID)
		require.Equal(t, refund.Amount, cn.Amount)
		require.Equal(t, int64(1299), got.Credited, "the refund gave back the rest")
	}
}

// TestCreditNoteOnACreditedInvoiceConflicts: once an invoice is credited in
// full, a credit note of it is a conflict (409) whether it names an amount
// or not: nothing is left, so no amount can be valid.
func TestCreditNoteOnACreditedInvoiceConflicts(t *testing.T) {
	t.Parallel()
	b := bundle{ctx: t.Context(), store: store.New(dbtest.OwnPool(t))}
	b.invoicing(t, true)
	c := b.newCustomer(t)
	inv, _ := b.invoiced(t, c)
	_, _, err := b.store.IssueCreditNote(b.ctx, inv.ID, billing.CreditNoteCreate{Reason: "cancelled"}, "")
	require.NoError(t, err)
	require.Equal(t, int64(10000), b.balance(t, c.ID))
	one := int64(1)
	_, _, err = b.store.IssueCreditNote(b.ctx, inv.ID, billing.CreditNoteCreate{Amount: &one, Reason: "one more cent"}, "")
	require.Equal(t, billing.ECONFLICT, billing.ErrorCode(err), "%v", err)
	_, _, err = b.store.IssueCreditNote(b.ctx, inv.ID, billing.CreditNoteCreate{Reason: "again"}, "")
	require.Equal(t, billing.ECONFLICT, billing.ErrorCode(err), "%v", err)
	require.Equal(t, int64(10000), b.balance(t, c.ID))
}
