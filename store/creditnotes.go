package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

func creditNoteFromRow(r dbsqlc.CreditNoteGetRow) billing.CreditNote {
	return billing.CreditNote{ID: r.ID, Number: r.Number, InvoiceID: r.InvoiceID, InvoiceNumber: r.InvoiceNumber,
		CustomerID: r.CustomerID, LedgerEntryID: r.LedgerEntryID, Currency: r.Currency, Amount: r.Amount,
		Reason: r.Reason, IssuedAt: r.IssuedAt}
}

// invoiceStatus is the status an invoice of total shows once its credit
// notes sum to credited (the SQL function invoice_status says the same).
func invoiceStatus(total, credited int64) string {
	switch {
	case credited == 0:
		return billing.InvoicePaid
	case credited < total:
		return billing.InvoicePartiallyCredited
	}
	return billing.InvoiceCredited
}

// withCredits completes invs with their credit notes and derived status.
func withCredits(ctx context.Context, q *dbsqlc.Queries, invs []billing.Invoice) error {
	ids := make([]int64, len(invs))
	for i, inv := range invs {
		ids[i] = inv.ID
	}
	rows, err := q.CreditNotesOfInvoices(ctx, ids)
	if err != nil {
		return err
	}
	for i := range invs {
		inv := &invs[i]
		inv.CreditNotes = []billing.CreditNoteRef{}
		for _, r := range rows {
			if r.InvoiceID == inv.ID {
				inv.CreditNotes = append(inv.CreditNotes, billing.CreditNoteRef{ID: r.ID, Number: r.Number, Amount: r.Amount})
				inv.Credited += r.Amount // never beyond the invoice's total
			}
		}
		inv.Status = invoiceStatus(inv.Total, inv.Credited)
	}
	return nil
}

// issueCreditNote issues a credit note of amount for inv in q's transaction,
// which holds the customer's row lock: amount must be within what its credit
// notes leave uncredited. credit writes (or finds) the ledger credit it
// records, given the credit note's number. Its number is the next of the
// year on the credit notes' own counter, taken under its lock: gapless.
func issueCreditNote(ctx context.Context, q *dbsqlc.Queries, inv dbsqlc.Invoice, amount int64, reason, requestKey string,
	credit func(number string) (billing.LedgerEntry, error)) (int64, error) {
	credited, err := q.CreditNoteCredited(ctx, inv.ID)
	if err != nil {
		return 0, err
	}
	if rest := inv.Total - credited; amount > rest {
		return 0, &billing.Error{Code: billing.EINVALID, Message: fmt.Sprintf("invoice %s has %s left to credit, less than %s",
			inv.Number, billing.Money{Amount: rest, Currency: inv.Currency}, billing.Money{Amount: amount, Currency: inv.Currency}),
			Fields: map[string]string{"amount": fmt.Sprintf("must be at most %d, what the invoice's credit notes leave", rest)}}
	}
	issued := time.Now().UTC()
	seq, err := q.CreditNoteNextNumber(ctx, issued.Year())
	if err != nil {
		return 0, err
	}
	number := billing.CreditNoteNumber(issued.Year(), seq)
	e, err := credit(number)
	if err != nil {
		return 0, err
	}
	if requestKey == "" {
		requestKey = fmt.Sprintf("invoice:%d:%s", inv.ID, number)
	}
	id, err := q.CreditNoteInsert(ctx, dbsqlc.CreditNoteInsertParams{Number: number, Year: issued.Year(), Seq: seq,
		InvoiceID: inv.ID, CustomerID: inv.CustomerID, LedgerEntryID: e.ID, RequestKey: requestKey, Currency: inv.Currency,
		Amount: amount, Reason: reason, IssuedAt: issued})
	return id, err
}

// IssueCreditNote issues a credit note of an invoice for in.Amount (what is
// left to credit if nil) and credits it to the customer's balance, in one
// transaction. A request with a key (Idempotency-Key) is made once: resent,
// it returns the credit note made (created false); with another amount or
// reason it is a conflict. Nothing left to credit is a conflict; more than
// is left is invalid.
func (s *Store) IssueCreditNote(ctx context.Context, invoiceID int64, in billing.CreditNoteCreate, key string) (billing.CreditNote, bool, error) {
	var id int64
	var created bool
	err := s.inTxStore(ctx, func(tx *Store) error {
		q := tx.q
		inv, err := q.InvoiceGet(ctx, invoiceID)
		if err != nil {
			return dbError(err, "invoice", invoiceID)
		}
		if err := q.CustomerLock(ctx, inv.CustomerID); err != nil {
			return err
		}
		requestKey := ""
		if key != "" {
			requestKey = fmt.Sprintf("invoice:%d:%s", invoiceID, key)
			id, err = q.CreditNoteIDByKey(ctx, requestKey)
			if err == nil {
				prior, err := q.CreditNoteGet(ctx, id)
				if err == nil && (prior.Reason != in.Reason || (in.Amount != nil && *in.Amount != prior.Amount)) {
					return billing.Errorf(billing.ECONFLICT, "idempotency key %q was already used for credit note %s, of %d for %q",
						key, prior.Number, prior.Amount, prior.Reason)
				}
				auditObject(ctx, "credit_note", id, inv.CustomerID) // the resend names what it returns
				return err
			}
			if err != pgx.ErrNoRows {
				return err
			}
		}
		credited, err := q.CreditNoteCredited(ctx, invoiceID)
		if err != nil {
			return err
		}
		amount := inv.Total - credited
		if amount == 0 { // whether or not the request names an amount: none is left
			return billing.Errorf(billing.ECONFLICT, "invoice %s is credited in full", inv.Number)
		}
		if in.Amount != nil {
			amount = *in.Amount
		}
		id, err = issueCreditNote(ctx, q, inv, amount, in.Reason, requestKey, func(number string) (billing.LedgerEntry, error) {
			return insertEntry(ctx, q, billing.LedgerEntry{CustomerID: inv.CustomerID, Kind: billing.Credit, Amount: amount,
				Currency: inv.Currency, Reason: billing.ReasonCreditNote,
				Reference:      fmt.Sprintf("credit note %s of invoice %s: %s", number, inv.Number, in.Reason),
				IdempotencyKey: "credit_note:" + number}, nil)
		})
		if err != nil {
			return err
		}
		created = true
		auditObject(ctx, "credit_note", id, inv.CustomerID)
		return tx.watchLowBalance(ctx, inv.CustomerID, inv.Currency)
	})
	if err != nil {
		return billing.CreditNote{}, false, dbError(err, "credit note", "")
	}
	cn, err := s.CreditNote(ctx, id)
	return cn, created, err
}

// refundCreditNote issues, in the transaction of refund (the credit of the
// charge written under chargeKey, holding the customer's lock), the credit
// note of the charge's invoice for the refund's amount, once; none if the
// charge has no invoice.
func refundCreditNote(ctx context.Context, q *dbsqlc.Queries, chargeKey string, refund billing.LedgerEntry) error {
	inv, err := q.InvoiceGetByChargeKey(ctx, chargeKey)
	if err == pgx.ErrNoRows {
		return nil
	}
	if err != nil {
		return err
	}
	requestKey := "refund:" + chargeKey
	if _, err := q.CreditNoteIDByKey(ctx, requestKey); err != pgx.ErrNoRows {
		return err
	}
	_, err = issueCreditNote(ctx, q, inv, refund.Amount, refund.Reference, requestKey,
		func(string) (billing.LedgerEntry, error) { return refund, nil })
	return err
}

// refundable is what a refund of the charge written under chargeKey gives
// back: the charge, less what credit notes of its invoice credited already.
func refundable(ctx context.Context, q *dbsqlc.Queries, chargeKey string, charged int64) (int64, error) {
	inv, err := q.InvoiceGetByChargeKey(ctx, chargeKey)
	if err == pgx.ErrNoRows {
		return charged, nil
	}
	if err != nil {
		return 0, err
	}
	credited, err := q.CreditNoteCredited(ctx, inv.ID)
	return charged - credited, err
}

// CreditNote returns a credit note.
func (s *Store) CreditNote(ctx context.Context, id int64) (billing.CreditNote, error) {
	row, err := s.q.CreditNoteGet(ctx, id)
	return creditNoteFromRow(row), dbError(err, "credit note", id)
}

// CreditNoteByRefund returns the credit note the refund of the charge
// written under chargeKey issued.
func (s *Store) CreditNoteByRefund(ctx context.Context, chargeKey string) (billing.CreditNote, error) {
	id, err := s.q.CreditNoteIDByKey(ctx, "refund:"+chargeKey)
	if err != nil {
		return billing.CreditNote{}, dbError(err, "credit note", chargeKey)
	}
	return s.CreditNote(ctx, id)
}

// CreditNotes lists credit notes that match f, newest first.
func (s *Store) CreditNotes(ctx context.Context, f billing.CreditNoteFilter) (billing.Page[billing.CreditNote], error) {
	p, err := page(f.PageRequest, func() (int64, error) {
		return s.q.CreditNoteCount(ctx, dbsqlc.CreditNoteCountParams{CustomerID: f.CustomerID, InvoiceID: f.InvoiceID,
			From: f.From, Until: f.Until})
	}, func(limit, offset int64) ([]billing.CreditNote, error) {
		rows, err := s.q.CreditNoteList(ctx, dbsqlc.CreditNoteListParams{CustomerID: f.CustomerID, InvoiceID: f.InvoiceID,
			From: f.From, Until: f.Until, Limit: limit, Offset: offset})
		return fromRows(rows, func(r dbsqlc.CreditNoteListRow) billing.CreditNote {
			return creditNoteFromRow(dbsqlc.CreditNoteGetRow(r))
		}), err
	})
	return p, dbError(err, "credit note", "")
}
