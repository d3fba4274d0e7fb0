package api

import (
	"bytes"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/invoicedoc"
	"github.com/tempobill/billing/store"
)

// createCreditNote issues a credit note of the path's invoice and queues its
// notice, in one transaction. The same Idempotency-Key returns the same
// credit note.
func (s *Server) createCreditNote(c echo.Context) error {
	id, err := pathID(c, "id", "invoice")
	if err != nil {
		return err
	}
	var in billing.CreditNoteCreate
	if err := bind(c, &in); err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return err
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	var cn billing.CreditNote
	var created bool
	err = s.store.Tx(ctx, func(st *store.Store) error {
		if cn, created, err = st.IssueCreditNote(ctx, id, in, key); err != nil || !created {
			return err
		}
		return activities.QueueCreditNoteIssued(ctx, st, cn, s.defaults.DefaultLanguage)
	})
	if err != nil {
		return err
	}
	if !created {
		return c.JSON(http.StatusOK, cn)
	}
	return c.JSON(http.StatusCreated, cn)
}

func (s *Server) listCreditNotes(c echo.Context) error {
	q := query{c: c}
	f := billing.CreditNoteFilter{
		CustomerID:  q.id("customer_id"),
		InvoiceID:   q.id("invoice_id"),
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
	page, err := s.store.CreditNotes(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

// creditNote reads the credit note of the path's id that the caller may see.
func (s *Server) creditNote(c echo.Context) (billing.CreditNote, error) {
	id, err := pathID(c, "id", "credit note")
	if err != nil {
		return billing.CreditNote{}, err
	}
	cn, err := s.store.CreditNote(c.Request().Context(), id)
	if err != nil {
		return billing.CreditNote{}, err
	}
	if who := principalOf(c); who.IsClient() && cn.CustomerID != who.CustomerID {
		return billing.CreditNote{}, billing.NotFound("credit note", id)
	}
	return cn, nil
}

func (s *Server) getCreditNote(c echo.Context) error {
	cn, err := s.creditNote(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, cn)
}

// creditNoteDocument renders the path's credit note with render, which is
// given the invoice it corrects.
func (s *Server) creditNoteDocument(c echo.Context, render func(*bytes.Buffer, billing.CreditNote, billing.Invoice) error) (billing.CreditNote, []byte, error) {
	cn, err := s.creditNote(c)
	if err != nil {
		return cn, nil, err
	}
	inv, err := s.store.Invoice(c.Request().Context(), cn.InvoiceID)
	if err != nil {
		return cn, nil, err
	}
	var buf bytes.Buffer
	err = render(&buf, cn, inv)
	return cn, buf.Bytes(), err
}

func (s *Server) getCreditNoteHTML(c echo.Context) error {
	_, html, err := s.creditNoteDocument(c, func(b *bytes.Buffer, cn billing.CreditNote, inv billing.Invoice) error {
		return invoicedoc.CreditNoteHTML(b, cn, inv)
	})
	if err != nil {
		return err
	}
	return c.HTMLBlob(http.StatusOK, html)
}

func (s *Server) getCreditNotePDF(c echo.Context) error {
	cn, pdf, err := s.creditNoteDocument(c, func(b *bytes.Buffer, cn billing.CreditNote, inv billing.Invoice) error {
		return invoicedoc.CreditNotePDF(b, cn, inv)
	})
	if err != nil {
		return err
	}
	return pdfBlob(c, cn.Number, pdf)
}
