package api

import (
	"encoding/csv"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
)

// listExpenses answers a customer's debits with their totals per currency,
// or, with ?format=csv or Accept: text/csv, every debit the filters select
// as CSV (no paging: an export is the whole selection).
func (s *Server) listExpenses(c echo.Context) error {
	id, err := pathID(c, "id", "customer")
	if err != nil {
		return err
	}
	q := query{c: c}
	f := billing.ExpenseFilter{CustomerID: id, SubscriptionID: q.id("subscription_id"), From: q.time("from"),
		Until: q.time("until"), PageRequest: q.page()}
	if f.Currency = c.QueryParam("currency"); f.Currency != "" {
		q.v.Currency("currency", f.Currency)
	}
	format := q.oneOf("format", "json", "csv")
	if err := q.v.Err(); err != nil {
		return err
	}
	asCSV := format == "csv" || format == "" && strings.Contains(c.Request().Header.Get(echo.HeaderAccept), "text/csv")
	if !asCSV {
		page, err := s.store.Expenses(c.Request().Context(), f)
		if err != nil {
			return err
		}
		return c.JSON(http.StatusOK, page)
	}
	var rows []billing.Expense
	for f.Offset = 0; ; f.Offset += f.Limit {
		f.Limit = 200
		page, err := s.store.Expenses(c.Request().Context(), f)
		if err != nil {
			return err
		}
		// Newest first: a debit written meanwhile shifts the pages by one,
		// repeating rows already written, never skipping one (the ledger
		// only grows). The repeats are left out.
		for _, e := range page.Items {
			if len(rows) == 0 || e.ID < rows[len(rows)-1].ID {
				rows = append(rows, e)
			}
		}
		if len(page.Items) < f.Limit {
			break
		}
	}
	return writeExpensesCSV(c, id, rows)
}

// writeExpensesCSV writes one row per expense after a header row; amounts
// in the currency's units ("12.99"), as a spreadsheet reads them.
func writeExpensesCSV(c echo.Context, customerID int64, rows []billing.Expense) error {
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="expenses-`+strconv.FormatInt(customerID, 10)+`.csv"`)
	c.Response().WriteHeader(http.StatusOK)
	w := csv.NewWriter(c.Response())
	_ = w.Write([]string{"id", "charged_at", "subscription_id", "period", "product_id", "product", "reason", "reference", "amount", "currency"})
	opt := func(v *int64) string {
		if v == nil {
			return ""
		}
		return strconv.FormatInt(*v, 10)
	}
	for _, e := range rows {
		period := ""
		if e.Period != nil {
			period = strconv.Itoa(*e.Period)
		}
		amount := strings.TrimSuffix(billing.Money{Amount: e.Amount, Currency: e.Currency}.String(), " "+e.Currency)
		_ = w.Write([]string{strconv.FormatInt(e.ID, 10), e.ChargedAt.UTC().Format(time.RFC3339), opt(e.SubscriptionID), period,
			opt(e.ProductID), e.ProductName, e.Reason, e.Reference, amount, e.Currency})
	}
	w.Flush()
	return w.Error()
}
