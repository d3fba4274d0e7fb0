package billing

import (
	"fmt"
	"time"
)

// CreditNote corrects an issued invoice: a document of its own, with its own
// number, that references the invoice and credits the customer's balance.
// Once issued it never changes; the credit notes of an invoice never sum to
// more than its total.
type CreditNote struct {
	ID            int64  `json:"id"`
	Number        string `json:"number"`
	InvoiceID     int64  `json:"invoice_id"`
	InvoiceNumber string `json:"invoice_number"`
	CustomerID    int64  `json:"customer_id"`
	// LedgerEntryID is its credit: its own entry, or a refund's.
	LedgerEntryID int64     `json:"ledger_entry_id"`
	Currency      string    `json:"currency"`
	Amount        int64     `json:"amount"`
	Reason        string    `json:"reason"`
	IssuedAt      time.Time `json:"issued_at"`
}

// CreditNoteRef is a credit note as its invoice lists it.
type CreditNoteRef struct {
	ID     int64  `json:"id"`
	Number string `json:"number"`
	Amount int64  `json:"amount"`
}

// CreditNoteNumber is the number of the seq-th credit note of year: CN-2026-000001.
func CreditNoteNumber(year int, seq int64) string {
	return fmt.Sprintf("CN-%d-%06d", year, seq)
}

// ReasonCreditNote is the reason of the ledger credit of a credit note that
// staff issue.
const ReasonCreditNote = "credit_note"

// CreditNoteCreate asks for a credit note of an invoice: Amount (nil: what
// is not credited yet) for Reason.
type CreditNoteCreate struct {
	Amount *int64 `json:"amount"`
	Reason string `json:"reason"`
}

// Validate reports every invalid field of c.
func (c *CreditNoteCreate) Validate() error {
	var v Validator
	if c.Amount != nil {
		v.Amount("amount", *c.Amount)
	}
	v.Text("reason", c.Reason, 500)
	return v.Err()
}

// CreditNoteFilter selects credit notes for a list: issued at or after From
// and before Until.
type CreditNoteFilter struct {
	CustomerID *int64
	InvoiceID  *int64
	From       *time.Time
	Until      *time.Time
	PageRequest
}
