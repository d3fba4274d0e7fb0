package api

import (
	"bytes"
	"html/template"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
)

func (s *Server) listInvoices(c echo.Context) error {
	q := query{c: c}
	f := billing.InvoiceFilter{
		CustomerID:  q.id("customer_id"),
		Status:      q.oneOf("status", billing.InvoicePaid),
		From:        q.time("from"),
		Until:       q.time("until"),
		PageRequest: q.page(),
	}
	if err := q.v.Err(); err != nil {
		return err
	}
	if err := ownCustomerFilter(c, &f.CustomerID); err != nil {
		return err
	}
	page, err := s.store.Invoices(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

// invoice reads the invoice of the path's id that the caller may see.
func (s *Server) invoice(c echo.Context) (billing.Invoice, error) {
	id, err := pathID(c, "id", "invoice")
	if err != nil {
		return billing.Invoice{}, err
	}
	inv, err := s.store.Invoice(c.Request().Context(), id)
	if err != nil {
		return billing.Invoice{}, err
	}
	if who := principalOf(c); who.IsClient() && inv.CustomerID != who.CustomerID {
		return billing.Invoice{}, billing.NotFound("invoice", id)
	}
	return inv, nil
}

func (s *Server) getInvoice(c echo.Context) error {
	inv, err := s.invoice(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, inv)
}

func (s *Server) getInvoiceHTML(c echo.Context) error {
	inv, err := s.invoice(c)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := invoiceHTML.Execute(&buf, inv); err != nil {
		return err
	}
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}

var invoiceHTML = template.Must(template.New("invoice").Funcs(template.FuncMap{
	"money": func(amount int64, currency string) string {
		return billing.Money{Amount: amount, Currency: currency}.String()
	},
	"lines": func(s string) []string { return strings.Split(s, "\n") },
	"date":  func(t interface{ Format(string) string }) string { return t.Format("2006-01-02") },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Invoice {{.Number}}</title>
<style>body{font-family:sans-serif;max-width:50em;margin:2em auto}table{width:100%;border-collapse:collapse}
th,td{border-bottom:1px solid #ccc;padding:.3em;text-align:left}td.n{text-align:right}@media print{body{margin:0}}</style>
</head><body>
<h1>Invoice {{.Number}}</h1>
<p>Issued {{date .IssuedAt}} · Status: {{.Status}}</p>
<section><h2>From</h2><p>{{range lines .Provider}}{{.}}<br>{{end}}</p></section>
<section><h2>To</h2><p>{{with .Payer}}{{.LegalName}}<br>{{.Address}}<br>{{.Country}}{{if .TaxID}}<br>Tax ID: {{.TaxID}}{{end}}{{if .RegistrationNumber}}<br>Registration: {{.RegistrationNumber}}{{end}}{{else}}{{.CustomerName}}{{end}}</p></section>
<table><thead><tr><th>Item</th><th>Period</th><th>Quantity</th><th>Unit price</th><th>Total</th></tr></thead><tbody>
{{$cur := .Currency}}{{range .Lines}}<tr><td>{{.Name}}<br><small>{{.Description}}</small></td><td>{{date .PeriodFrom}} – {{date .PeriodUntil}}</td><td class="n">{{.Quantity}}</td><td class="n">{{money .UnitPrice $cur}}</td><td class="n">{{money .Total $cur}}</td></tr>
{{end}}</tbody><tfoot><tr><th colspan="4">Total</th><th class="n">{{money .Total .Currency}}</th></tr></tfoot></table>
</body></html>
`))
