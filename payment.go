package billing

import "time"

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
