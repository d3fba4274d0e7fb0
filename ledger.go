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
	ReasonRefund     = "refund"
)

// CheckBalanceCap returns an EINVALID error if e would take balance, the
// customer's balance in e's currency before e, above MaxBalance (a credit)
// or below -MaxBalance (a debit). An entry that takes a balance beyond the
// cap, written before there was one, back towards zero passes.
func (e LedgerEntry) CheckBalanceCap(balance int64) error {
	limit := Money{Amount: MaxBalance, Currency: e.Currency}
	amount := Money{Amount: e.Amount, Currency: e.Currency}
	switch {
	// Compared as balance against the cap minus the amount: balance + amount could overflow.
	case e.Kind == Credit && balance > MaxBalance-e.Amount:
		return Errorf(EINVALID, "crediting %s would take the %s balance of customer %d above %s, the most a balance may hold (%d minor units in any currency)",
			amount, e.Currency, e.CustomerID, limit, MaxBalance)
	case e.Kind == Debit && balance < e.Amount-MaxBalance:
		limit.Amount = -MaxBalance
		return Errorf(EINVALID, "debiting %s would take the %s balance of customer %d below %s, the least a balance may hold (%d minor units in any currency)",
			amount, e.Currency, e.CustomerID, limit, -MaxBalance)
	}
	return nil
}

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

// Charge takes money from a customer's balance, once per IdempotencyKey.
type Charge struct {
	CustomerID     int64  `json:"customer_id"`
	Amount         int64  `json:"amount"`
	Currency       string `json:"currency"`
	Reason         string `json:"reason"`
	Reference      string `json:"reference"`
	IdempotencyKey string `json:"idempotency_key"`
}
