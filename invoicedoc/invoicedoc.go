// Package invoicedoc renders the billing documents, invoices and credit
// notes, as a printable HTML page (html/template, everything escaped) and an
// A4 PDF (go-pdf/fpdf). The API serves them and the notices attach the PDFs.
package invoicedoc

import (
	"fmt"
	"html/template"
	"io"
	"strings"

	"github.com/go-pdf/fpdf"

	"github.com/tempobill/billing"
)

// document is what an invoice and a credit note both show: a title, a line
// under it, the provider, the party it is addressed to, lines and a total.
type document struct {
	Title    string
	Meta     string
	Provider string
	// CustomerName is who it is addressed to without a payer.
	CustomerName string
	Payer        *billing.InvoicePayer
	Currency     string
	Lines        []billing.InvoiceLine
	TotalLabel   string
	Total        int64
	// Notes follow the total: the credit notes of an invoice, the invoice
	// and reason of a credit note.
	Notes []string
}

func invoiceDocument(inv billing.Invoice) document {
	d := document{Title: "Invoice " + inv.Number, Meta: "Issued " + inv.IssuedAt.Format("2006-01-02") + " · Status: " + inv.Status,
		Provider: inv.Provider, CustomerName: inv.CustomerName, Payer: inv.Payer, Currency: inv.Currency, Lines: inv.Lines,
		TotalLabel: "Total", Total: inv.Total}
	for _, cn := range inv.CreditNotes {
		d.Notes = append(d.Notes, fmt.Sprintf("Credit note %s: %s", cn.Number, billing.Money{Amount: cn.Amount, Currency: inv.Currency}))
	}
	return d
}

// creditNoteDocument shows cn, addressed like inv, the invoice it corrects.
func creditNoteDocument(cn billing.CreditNote, inv billing.Invoice) document {
	return document{Title: "Credit note " + cn.Number,
		Meta:     "Issued " + cn.IssuedAt.Format("2006-01-02") + " · Corrects invoice " + inv.Number + " of " + inv.IssuedAt.Format("2006-01-02"),
		Provider: inv.Provider, CustomerName: inv.CustomerName, Payer: inv.Payer, Currency: cn.Currency,
		Lines: []billing.InvoiceLine{{Name: "Credit on invoice " + inv.Number, Description: cn.Reason, Quantity: 1,
			UnitPrice: cn.Amount, Total: cn.Amount}},
		TotalLabel: "Total credited", Total: cn.Amount,
		Notes: []string{fmt.Sprintf("Invoice %s total: %s", inv.Number, billing.Money{Amount: inv.Total, Currency: inv.Currency})}}
}

// period is a line's period, or "" for a line without one.
func period(l billing.InvoiceLine, dash string) string {
	if l.PeriodFrom.IsZero() {
		return ""
	}
	return l.PeriodFrom.Format("2006-01-02") + dash + l.PeriodUntil.Format("2006-01-02")
}

// InvoiceHTML writes inv as a printable HTML page.
func InvoiceHTML(w io.Writer, inv billing.Invoice) error {
	return page.Execute(w, invoiceDocument(inv))
}

// CreditNoteHTML writes cn, a credit note of inv, as a printable HTML page.
func CreditNoteHTML(w io.Writer, cn billing.CreditNote, inv billing.Invoice) error {
	return page.Execute(w, creditNoteDocument(cn, inv))
}

var page = template.Must(template.New("document").Funcs(template.FuncMap{
	"money": func(amount int64, currency string) string {
		return billing.Money{Amount: amount, Currency: currency}.String()
	},
	"lines":  func(s string) []string { return strings.Split(s, "\n") },
	"period": func(l billing.InvoiceLine) string { return period(l, " – ") },
}).Parse(`<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<style>body{font-family:sans-serif;max-width:50em;margin:2em auto}table{width:100%;border-collapse:collapse}
th,td{border-bottom:1px solid #ccc;padding:.3em;text-align:left}td.n{text-align:right}@media print{body{margin:0}}</style>
</head><body>
<h1>{{.Title}}</h1>
<p>{{.Meta}}</p>
<section><h2>From</h2><p>{{range lines .Provider}}{{.}}<br>{{end}}</p></section>
<section><h2>To</h2><p>{{with .Payer}}{{.LegalName}}<br>{{.Address}}<br>{{.Country}}{{if .TaxID}}<br>Tax ID: {{.TaxID}}{{end}}{{if .RegistrationNumber}}<br>Registration: {{.RegistrationNumber}}{{end}}{{else}}{{.CustomerName}}{{end}}</p></section>
<table><thead><tr><th>Item</th><th>Period</th><th>Quantity</th><th>Unit price</th><th>Discount</th><th>Total</th></tr></thead><tbody>
{{$cur := .Currency}}{{range .Lines}}<tr><td>{{.Name}}<br><small>{{.Description}}</small>{{if .DiscountLabel}}<br><small>{{.DiscountLabel}}</small>{{end}}</td><td>{{period .}}</td><td class="n">{{.Quantity}}</td><td class="n">{{money .UnitPrice $cur}}</td><td class="n">{{if .Discount}}-{{money .Discount $cur}}{{end}}</td><td class="n">{{money .Total $cur}}</td></tr>
{{end}}</tbody><tfoot><tr><th colspan="5">{{.TotalLabel}}</th><th class="n">{{money .Total .Currency}}</th></tr></tfoot></table>
{{range .Notes}}<p>{{.}}</p>
{{end}}</body></html>
`))

// InvoicePDF writes inv as an A4 PDF.
func InvoicePDF(w io.Writer, inv billing.Invoice) error {
	return writePDF(w, invoiceDocument(inv))
}

// CreditNotePDF writes cn, a credit note of inv, as an A4 PDF.
func CreditNotePDF(w io.Writer, cn billing.CreditNote, inv billing.Invoice) error {
	return writePDF(w, creditNoteDocument(cn, inv))
}

// writePDF writes d as an A4 PDF with the core Helvetica font; text is
// translated to its code page (cp1252), so Western European text prints.
func writePDF(w io.Writer, d document) error {
	pdf := fpdf.New("P", "mm", "A4", "")
	tr := pdf.UnicodeTranslatorFromDescriptor("")
	money := func(a int64) string { return billing.Money{Amount: a, Currency: d.Currency}.String() }
	pdf.SetTitle(tr(d.Title), false)
	pdf.AddPage()
	pdf.SetFont("Helvetica", "B", 18)
	pdf.CellFormat(0, 10, tr(d.Title), "", 1, "", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	pdf.CellFormat(0, 6, tr(strings.ReplaceAll(d.Meta, " · ", " - ")), "", 1, "", false, 0, "")
	pdf.Ln(4)
	block := func(title, text string) {
		pdf.SetFont("Helvetica", "B", 11)
		pdf.CellFormat(0, 6, title, "", 1, "", false, 0, "")
		pdf.SetFont("Helvetica", "", 10)
		pdf.MultiCell(0, 5, tr(text), "", "", false)
		pdf.Ln(3)
	}
	block("From", d.Provider)
	to := d.CustomerName
	if p := d.Payer; p != nil {
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
	for _, l := range d.Lines {
		cells := []string{l.Name, period(l, " - "), fmt.Sprint(l.Quantity), money(l.UnitPrice), "", money(l.Total)}
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
	pdf.CellFormat(widths[0]+widths[1]+widths[2]+widths[3]+widths[4], 8, tr(d.TotalLabel), "T", 0, "", false, 0, "")
	pdf.CellFormat(widths[5], 8, money(d.Total), "T", 1, "R", false, 0, "")
	if len(d.Notes) > 0 {
		pdf.Ln(4)
		pdf.SetFont("Helvetica", "", 10)
		for _, n := range d.Notes {
			pdf.MultiCell(0, 5, tr(n), "", "", false)
		}
	}
	return pdf.Output(w)
}
