package api

import (
	"bytes"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/go-pdf/fpdf"

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
<table><thead><tr><th>Item</th><th>Period</th><th>Quantity</th><th>Unit price</th><th>Discount</th><th>Total</th></tr></thead><tbody>
{{$cur := .Currency}}{{range .Lines}}<tr><td>{{.Name}}<br><small>{{.Description}}</small>{{if .DiscountLabel}}<br><small>{{.DiscountLabel}}</small>{{end}}</td><td>{{date .PeriodFrom}} – {{date .PeriodUntil}}</td><td class="n">{{.Quantity}}</td><td class="n">{{money .UnitPrice $cur}}</td><td class="n">{{if .Discount}}-{{money .Discount $cur}}{{end}}</td><td class="n">{{money .Total $cur}}</td></tr>
{{end}}</tbody><tfoot><tr><th colspan="5">Total</th><th class="n">{{money .Total .Currency}}</th></tr></tfoot></table>
</body></html>
`))

func (s *Server) getInvoicePDF(c echo.Context) error {
	inv, err := s.invoice(c)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := invoicePDF(&buf, inv); err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf("inline; filename=%q", inv.Number+".pdf"))
	return c.Blob(http.StatusOK, "application/pdf", buf.Bytes())
}

// invoicePDF writes inv as an A4 PDF with the core Helvetica font; text is
// translated to its code page (cp1252), so Western European text prints.
func invoicePDF(w *bytes.Buffer, inv billing.Invoice) error {
	pdf := fpdf.New("P", "mm", "A4", "")
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	money := func(a int64) string { return billing.Money{Amount: a, Currency: inv.Currency}.String() }
	pdf.SetTitle(tr("Invoice "+inv.Number), false)
	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 18)
	pdf.CellFormat(0, 10, tr("Invoice "+inv.Number), "", 1, "", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	pdf.CellFormat(0, 6, tr("Issued "+inv.IssuedAt.Format("2006-01-02")+" - Status: "+inv.Status), "", 1, "", false, 0, "")
	pdf.Ln(4)
	block := func(title, text string) {
		pdf.SetFont("Helvetica", "B", 11)
		pdf.CellFormat(0, 6, title, "", 1, "", false, 0, "")
		pdf.SetFont("Helvetica", "", 10)
		pdf.MultiCell(0, 5, tr(text), "", "", false)
		pdf.Ln(3)
	}
	block("From", inv.Provider)
	to := inv.CustomerName
	if p := inv.Payer; p != nil {
		to = strings.Join([]string{p.LegalName, p.Address, p.Country}, "\n")
		if p.TaxID != "" {
			to += "\nTax ID: " + p.TaxID
		}
		if p.RegistrationNumber != "" {
			to += "\nRegistration: " + p.RegistrationNumber
		}
	}
	block("To", to)
	widths := []float64{62, 44, 10, 25, 24, 25}
	pdf.SetFont("Helvetica", "B", 10)
	for i, h := range []string{"Item", "Period", "Qty", "Unit price", "Discount", "Total"} {
		pdf.CellFormat(widths[i], 7, h, "B", 0, "", false, 0, "")
	}
	pdf.Ln(-1)
	pdf.SetFont("Helvetica", "", 10)
	for _, l := range inv.Lines {
		cells := []string{l.Name, l.PeriodFrom.Format("2006-01-02") + " - " + l.PeriodUntil.Format("2006-01-02"),
			fmt.Sprint(l.Quantity), money(l.UnitPrice), "", money(l.Total)}
		if l.Discount != 0 {
			cells[4] = "-" + money(l.Discount)
		}
		for i, text := range cells {
			align := ""
			if i >= 2 {
				align = "R"
			}
			pdf.CellFormat(widths[i], 7, tr(text), "", 0, align, false, 0, "")
		}
		pdf.Ln(-1)
		for _, note := range []string{l.Description, l.DiscountLabel} {
			if note != "" {
				pdf.SetFont("Helvetica", "I", 9)
				pdf.MultiCell(widths[0]+widths[1], 5, tr(note), "", "", false)
				pdf.SetFont("Helvetica", "", 10)
			}
		}
	}
	pdf.SetFont("Helvetica", "B", 10)
	pdf.CellFormat(widths[0]+widths[1]+widths[2]+widths[3]+widths[4], 8, "Total", "T", 0, "", false, 0, "")
	pdf.CellFormat(widths[5], 8, money(inv.Total), "T", 1, "R", false, 0, "")
	return pdf.Output(w)
}
