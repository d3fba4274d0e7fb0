package billing

import (
	"fmt"
	"time"
)

// InvoicePaid is the status of an invoice without credit notes: it records a
// charge already taken from the balance. The status shown is derived from the
// invoice's credit notes (the row never changes): partially credited while
// they sum to less than its total, credited when they sum to all of it.
const (
	InvoicePaid              = "paid"
	InvoicePartiallyCredited = "partially_credited"
	InvoiceCredited          = "credited"
)

// Invoice is the document of one charge, issued in the charge's transaction
// when the setting auto_invoicing is on. Once issued it never changes.
type Invoice struct {
	ID             int64  `json:"id"`
	Number         string `json:"number"`
	CustomerID     int64  `json:"customer_id"`
	SubscriptionID *int64 `json:"subscription_id"`
	LedgerEntryID  int64  `json:"ledger_entry_id"`
	Status         string `json:"status"`
	Currency       string `json:"currency"`
	// Total is the sum of the lines, in minor units of Currency.
	Total        int64         `json:"total"`
	Lines        []InvoiceLine `json:"lines"`
	CustomerName string        `json:"customer_name"`
	// Payer is the customer's payer's legal details when it was issued; nil
	// without a payer.
	Payer *InvoicePayer `json:"payer"`
	// Provider is the setting invoice_provider when it was issued.
	Provider string    `json:"provider"`
	IssuedAt time.Time `json:"issued_at"`
	// Credited is what its credit notes sum to; CreditNotes lists them.
	Credited    int64           `json:"credited"`
	CreditNotes []CreditNoteRef `json:"credit_notes"`
}

// InvoiceLine is one line of an invoice: a product for a period.
type InvoiceLine struct {
	Name        string    `json:"name"`
	Description string    `json:"description"`
	PeriodFrom  time.Time `json:"period_from"`
	PeriodUntil time.Time `json:"period_until"`
	Quantity    int64     `json:"quantity"`
	UnitPrice   int64     `json:"unit_price"`
	// Discount is what the customer's discount took off the line's price
	// (0: none), named by DiscountLabel ("discount #4 10%").
	Discount      int64  `json:"discount"`
	DiscountLabel string `json:"discount_label,omitempty"`
	Total         int64  `json:"total"`
}

// InvoicePayer is the legal party an invoice is addressed to.
type InvoicePayer struct {
	Type               string `json:"type"`
	LegalName          string `json:"legal_name"`
	Country            string `json:"country"`
	Address            string `json:"address"`
	TaxID              string `json:"tax_id"`
	RegistrationNumber string `json:"registration_number"`
	Email              string `json:"email"`
}

// InvoiceNumber is the number of the seq-th invoice of year: INV-2026-000001.
func InvoiceNumber(year int, seq int64) string {
	return fmt.Sprintf("INV-%d-%06d", year, seq)
}

// InvoiceFilter selects invoices for a list: issued at or after From and
// before Until.
type InvoiceFilter struct {
	CustomerID *int64
	Status     string
	From       *time.Time
	Until      *time.Time
	PageRequest
}

// AsIssued is inv as it was issued: paid, before any credit note. The "new
// invoice" mail attaches this document, whenever it is sent.
func (inv Invoice) AsIssued() Invoice {
	inv.Status, inv.Credited, inv.CreditNotes = InvoicePaid, 0, []CreditNoteRef{}
	return inv
}
