package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store"
)

// createMessage records a message to one customer or to all and starts the
// workflow that sends it; it answers at once, with the message to follow.
func (s *Server) createMessage(c echo.Context) error {
	var in billing.MessageCreate
	if err := bind(c, &in); err != nil {
		return err
	}
	ctx := c.Request().Context()
	if in.TextID != nil && *in.TextID > 0 {
		t, err := s.store.MessageText(ctx, *in.TextID)
		if e := (*billing.Error)(nil); errors.As(err, &e) && e.Code == billing.ENOTFOUND {
			return store.UnknownMessageText(*in.TextID)
		} else if err != nil {
			return err
		}
		in.FromText(t)
	}
	if err := in.Validate(); err != nil {
		return err
	}
	var staffID *int64
	if p := principalOf(c); p.StaffID != 0 {
		staffID = &p.StaffID
	}
	m, err := s.store.CreateMessage(ctx, in, s.messageRate, staffID)
	if err != nil {
		return err
	}
	if err := s.workflows.StartMessage(ctx, m); err != nil {
		// Nothing was sent: the message ends cancelled, so that it is not
		// taken for one under way; the caller sends it again.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if _, ferr := s.store.FinishMessage(fctx, m.ID, billing.MessageCancelled, 0); ferr != nil {
			s.log.Error("message not started and not marked cancelled", "message", m.ID, "err", ferr)
		}
		return err
	}
	return c.JSON(http.StatusAccepted, m)
}

func (s *Server) listMessages(c echo.Context) error {
	q := query{c: c}
	f := billing.MessageFilter{
		Status:      q.oneOf("status", billing.MessageSending, billing.MessageDone, billing.MessageCancelled),
		PageRequest: q.page(),
	}
	if err := q.v.Err(); err != nil {
		return err
	}
	page, err := s.store.Messages(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

func (s *Server) getMessage(c echo.Context) error {
	id, err := pathID(c, "id", "message")
	if err != nil {
		return err
	}
	m, err := s.store.Message(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, m)
}

// cancelMessage stops a message's sending after the batch in flight.
func (s *Server) cancelMessage(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := pathID(c, "id", "message")
	if err != nil {
		return err
	}
	m, err := s.store.Message(ctx, id)
	if err != nil {
		return err
	}
	if e := billing.AuditFrom(ctx); e != nil {
		e.SetObject("message", m.ID, 0)
	}
	if m.Status != billing.MessageSending {
		return billing.Errorf(billing.ECONFLICT, "message %d is %s", id, m.Status)
	}
	if _, err := s.workflows.CancelMessage(ctx, id); err != nil {
		return err
	}
	if m, err = s.store.Message(ctx, id); err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, m)
}

// Saved message texts: staff with notices.write keep them, staff with
// subscriptions.read read them, and a message may be sent from one.

func (s *Server) createMessageText(c echo.Context) error {
	var in billing.MessageTextInput
	if err := bind(c, &in); err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return err
	}
	t, err := s.store.CreateMessageText(c.Request().Context(), in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, t)
}

func (s *Server) listMessageTexts(c echo.Context) error {
	q := query{c: c}
	category := q.oneOf("category", billing.MessageCategories...)
	pr := q.page()
	if err := q.v.Err(); err != nil {
		return err
	}
	page, err := s.store.MessageTexts(c.Request().Context(), category, pr)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

func (s *Server) getMessageText(c echo.Context) error {
	id, err := pathID(c, "id", "message text")
	if err != nil {
		return err
	}
	t, err := s.store.MessageText(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

func (s *Server) updateMessageText(c echo.Context) error {
	id, err := pathID(c, "id", "message text")
	if err != nil {
		return err
	}
	var in billing.MessageTextInput
	if err := bind(c, &in); err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return err
	}
	t, err := s.store.UpdateMessageText(c.Request().Context(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, t)
}

func (s *Server) deleteMessageText(c echo.Context) error {
	id, err := pathID(c, "id", "message text")
	if err != nil {
		return err
	}
	if err := s.store.DeleteMessageText(c.Request().Context(), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
