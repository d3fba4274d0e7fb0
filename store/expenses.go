package store

import (
	"context"
	"math"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

// Expenses returns a page of the customer's debits that f selects, newest
// first, with their totals per currency. The totals are summed in numeric; a
// total beyond int64 is a conflict naming its currency (narrow the filter).
func (s *Store) Expenses(ctx context.Context, f billing.ExpenseFilter) (billing.Expenses, error) {
	out := billing.Expenses{Page: billing.Page[billing.Expense]{Items: []billing.Expense{}}, Totals: []billing.Money{}}
	out.Limit, out.Offset = clampPage(f.Limit, f.Offset)
	if _, err := s.Customer(ctx, f.CustomerID); err != nil {
		return out, err
	}
	p, err := page(f.PageRequest, func() (int64, error) {
		return s.q.ExpenseCount(ctx, dbsqlc.ExpenseCountParams{CustomerID: f.CustomerID, SubscriptionID: f.SubscriptionID,
			From: f.From, Until: f.Until, Currency: f.Currency})
	}, func(limit, offset int64) ([]billing.Expense, error) {
		rows, err := s.q.ExpenseList(ctx, dbsqlc.ExpenseListParams{CustomerID: f.CustomerID, SubscriptionID: f.SubscriptionID,
			From: f.From, Until: f.Until, Currency: f.Currency, Limit: limit, Offset: offset})
		return fromRows(rows, expenseFromRow), err
	})
	if err != nil {
		return out, dbError(err, "expenses", f.CustomerID)
	}
	out.Page = p
	totals, err := s.q.ExpenseTotals(ctx, dbsqlc.ExpenseTotalsParams{CustomerID: f.CustomerID, SubscriptionID: f.SubscriptionID,
		From: f.From, Until: f.Until, Currency: f.Currency})
	if err != nil {
		return out, dbError(err, "expenses", f.CustomerID)
	}
	for _, r := range totals {
		v, err := r.Total.Int64Value()
		if err != nil || !v.Valid {
			return out, billing.Errorf(billing.ECONFLICT, "the %s expenses of customer %d add up beyond what an amount can hold (%d minor units); choose a shorter period",
				r.Currency, f.CustomerID, int64(math.MaxInt64))
		}
		out.Totals = append(out.Totals, billing.Money{Amount: v.Int64, Currency: r.Currency})
	}
	return out, nil
}

func expenseFromRow(r dbsqlc.ExpenseListRow) billing.Expense {
	e := billing.Expense{ID: r.ID, ProductName: r.ProductName, Amount: r.Amount, Currency: r.Currency, Reason: r.Reason,
		Reference: r.Reference, ChargedAt: r.CreatedAt}
	if r.SubscriptionID != 0 {
		e.SubscriptionID, e.Period = &r.SubscriptionID, &r.Period
	}
	if r.ProductID != 0 {
		e.ProductID = &r.ProductID
	}
	return e
}
