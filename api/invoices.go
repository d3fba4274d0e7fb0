package api

import (
	"bytes"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/invoicedoc"
)

func (s *Server) listInvoices(c echo.Context) error {
	q := query{c: c}
	f := billing.InvoiceFilter{
		CustomerID:  q.id("customer_id"),
		Status:      q.oneOf("status", billing.InvoicePaid, billing.InvoicePartiallyCredited, billing.InvoiceCredited),
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
	if err := invoicedoc.InvoiceHTML(&buf, inv); err != nil {
		return err
	}
	return c.HTMLBlob(http.StatusOK, buf.Bytes())
}

func (s *Server) getInvoicePDF(c echo.Context) error {
	inv, err := s.invoice(c)
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	if err := invoicedoc.InvoicePDF(&buf, inv); err != nil {
		return err
	}
	return pdfBlob(c, inv.Number, buf.Bytes())
}

// pdfBlob answers with a PDF document named number.pdf.
func pdfBlob(c echo.Context, number string, pdf []byte) error {
	c.Response().Header().Set(echo.HeaderContentDisposition, fmt.Sprintf("inline; filename=%q", number+".pdf"))
	return c.Blob(http.StatusOK, "application/pdf", pdf)
}
