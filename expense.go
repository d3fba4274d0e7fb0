package billing

import "time"

// Expense is one of a customer's debits: a charge of a service's period (or,
// with no subscription, a debit staff wrote). Charges name their
// subscription, its period number and its product (the product it has now).
type Expense struct {
	ID             int64     `json:"id"`
	SubscriptionID *int64    `json:"subscription_id"`
	Period         *int      `json:"period"`
	ProductID      *int64    `json:"product_id"`
	ProductName    string    `json:"product_name"`
	Amount         int64     `json:"amount"`
	Currency       string    `json:"currency"`
	Reason         string    `json:"reason"`
	Reference      string    `json:"reference"`
	ChargedAt      time.Time `json:"charged_at"`
}

// ExpenseFilter selects a customer's expenses: charged in [From, Until), of
// one subscription, in one currency.
type ExpenseFilter struct {
	CustomerID     int64
	SubscriptionID *int64
	From, Until    *time.Time
	Currency       string
	PageRequest
}

// Expenses is one page of a customer's expenses and the totals, per
// currency, of every expense the filter selects (not only this page's).
type Expenses struct {
	Page[Expense]
	Totals []Money `json:"totals"`
}
