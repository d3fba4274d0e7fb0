package billing

import "time"

// Ledger entry kinds. A credit adds to a balance, a debit takes from it.
const (
	Credit = "credit"
	Debit  = "debit"
)

// LedgerEntry is one append-only line of a customer's account. A correction is
// a new entry, never an edit. IdempotencyKey makes every write happen once.
type LedgerEntry struct {
	ID             int64     `json:"id"`
	CustomerID     int64     `json:"customer_id"`
	Kind           string    `json:"kind"`
	Amount         int64     `json:"amount"`
	Currency       string    `json:"currency"`
	Reason         string    `json:"reason"`
	Reference      string    `json:"reference"`
	IdempotencyKey string    `json:"idempotency_key"`
	CreatedAt      time.Time `json:"created_at"`
}

// Reasons written by the system itself.
const (
	ReasonPayment    = "payment"
	ReasonAdjustment = "adjustment"
	ReasonCharge     = "charge"
)

// Adjustment is a manual ledger entry by staff, e.g. a goodwill credit.
type Adjustment struct {
	Kind           string `json:"kind"`
	Amount         int64  `json:"amount"`
	Currency       string `json:"currency"`
	Reference      string `json:"reference"`
	IdempotencyKey string `json:"idempotency_key"`
}

// Validate reports every invalid field of a.
func (a *Adjustment) Validate() error {
	var v Validator
	v.OneOf("kind", a.Kind, Credit, Debit)
	v.Amount("amount", a.Amount)
	v.Currency("currency", a.Currency)
	v.Text("reference", a.Reference, 500)
	v.Text("idempotency_key", a.IdempotencyKey, 200)
	return v.Err()
}

// Balance is a customer's balance, one amount per currency the customer has
// entries in, each the exact sum of its ledger entries.
type Balance struct {
	CustomerID int64   `json:"customer_id"`
	Balances   []Money `json:"balances"`
}

// Of returns the balance in currency (zero if the customer has no entries in it).
func (b Balance) Of(currency string) int64 {
	for _, m := range b.Balances {
		if m.Currency == currency {
			return m.Amount
		}
	}
	return 0
}

// Payment methods.
const (
	MethodWireTransfer = "wire_transfer"
	MethodElectronic   = "electronic"
)

// Payment statuses.
const (
	PaymentNew       = "new"
	PaymentPaid      = "paid"
	PaymentCancelled = "cancelled"
)

// Payment is money a customer sends. Marking it paid credits the ledger once.
type Payment struct {
	ID          int64      `json:"id"`
	CustomerID  int64      `json:"customer_id"`
	Method      string     `json:"method"`
	Amount      int64      `json:"amount"`
	Currency    string     `json:"currency"`
	Status      string     `json:"status"`
	Description string     `json:"description"`
	ExternalID  string     `json:"external_id"`
	CreatedAt   time.Time  `json:"created_at"`
	PaidAt      *time.Time `json:"paid_at"`
	CancelledAt *time.Time `json:"cancelled_at"`
}

// PaymentCreate records a payment.
type PaymentCreate struct {
	CustomerID  int64  `json:"customer_id"`
	Method      string `json:"method"`
	Amount      int64  `json:"amount"`
	Currency    string `json:"currency"`
	Description string `json:"description"`
	ExternalID  string `json:"external_id"`
}

// Validate reports every invalid field of p.
func (p *PaymentCreate) Validate() error {
	var v Validator
	v.Check(p.CustomerID > 0, "customer_id", "is required")
	v.OneOf("method", p.Method, MethodWireTransfer, MethodElectronic)
	v.Amount("amount", p.Amount)
	v.Currency("currency", p.Currency)
	v.OptionalText("description", p.Description, 500)
	v.OptionalText("external_id", p.ExternalID, 200)
	return v.Err()
}

// PaymentFilter selects payments for a list.
type PaymentFilter struct {
	CustomerID *int64
	Status     string
	PageRequest
}

// Charge takes money from a customer's balance, once per IdempotencyKey.
type Charge struct {
	CustomerID     int64  `json:"customer_id"`
	Amount         int64  `json:"amount"`
	Currency       string `json:"currency"`
	Reason         string `json:"reason"`
	Reference      string `json:"reference"`
	IdempotencyKey string `json:"idempotency_key"`
}

// Codes of refused charges: for lack of funds, and for another reason (a
// post-paid customer's credit limit, a customer that is not active).
const (
	EINSUFFICIENT = "insufficient_funds"
	EDECLINED     = "declined"
)
