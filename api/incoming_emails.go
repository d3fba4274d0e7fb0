package api

import (
	"cmp"
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/mailgateway/inbound"
	"github.com/tempobill/billing/notices"
	"github.com/tempobill/billing/store"
)

// incomingAccess is who may see and handle an incoming email: staff of its
// department (admins: all). Anyone else is told it doesn't exist.
func incomingAccess(p billing.Principal, e billing.IncomingEmail) error {
	if p.SeesDepartment(e.DepartmentID) {
		return nil
	}
	return billing.NotFound("incoming email", e.ID)
}

// listIncomingEmails lists the incoming emails of the caller's departments
// (admins: all), latest first.
func (s *Server) listIncomingEmails(c echo.Context) error {
	q := query{c: c}
	f := billing.IncomingEmailFilter{
		DepartmentID: q.id("department_id"),
		GatewayID:    q.id("gateway_id"),
		Status:       q.oneOf("status", billing.IncomingStatuses...),
		Reason:       q.oneOf("reason", billing.IncomingReasons...),
		PageRequest:  q.page(),
	}
	if err := q.v.Err(); err != nil {
		return err
	}
	if p := principalOf(c); p.Role != billing.RoleAdmin {
		f.Departments = append([]int64{}, p.DepartmentIDs...) // not nil: no department, no emails
	}
	page, err := s.store.IncomingEmails(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

// getIncomingEmail answers an incoming email with its text.
func (s *Server) getIncomingEmail(c echo.Context) error {
	id, err := pathID(c, "id", "incoming email")
	if err != nil {
		return err
	}
	e, err := s.store.IncomingEmail(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if err := incomingAccess(principalOf(c), e.IncomingEmail); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, e)
}

// getIncomingEmailRaw sends the mail as received, as a download (never
// rendered by the browser).
func (s *Server) getIncomingEmailRaw(c echo.Context) error {
	id, err := pathID(c, "id", "incoming email")
	if err != nil {
		return err
	}
	dept, raw, err := s.store.IncomingEmailRaw(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if err := incomingAccess(principalOf(c), billing.IncomingEmail{ID: id, DepartmentID: dept}); err != nil {
		return err
	}
	if raw == nil {
		return billing.Errorf(billing.ENOTFOUND, "incoming email %d was not kept as received (too large or unreadable); its text is in GET /incoming-emails/%d", id, id)
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentDisposition, contentDisposition(fmt.Sprintf("incoming-email-%d.eml", id)))
	h.Set(echo.HeaderXContentTypeOptions, "nosniff")
	h.Set(echo.HeaderContentSecurityPolicy, "sandbox")
	h.Set(echo.HeaderContentLength, strconv.Itoa(len(raw)))
	return c.Blob(http.StatusOK, "message/rfc822", raw)
}

// incomingEmailToTicket turns an incoming email into a ticket of a customer
// chosen by staff: its text, sender and attachments, in one transaction
// with the email's status and the staff notices. Staff open it, so no
// support incident is used. An email handled already is a conflict.
func (s *Server) incomingEmailToTicket(c echo.Context) error {
	id, err := pathID(c, "id", "incoming email")
	if err != nil {
		return err
	}
	var in billing.IncomingEmailToTicket
	if err := bind(c, &in); err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return err
	}
	p := principalOf(c)
	ctx := c.Request().Context()
	var out billing.TicketView
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		e, err := s.lockNewIncoming(ctx, tx, p, id)
		if err != nil {
			return err
		}
		dept := cmp.Or(in.DepartmentID, &e.DepartmentID)
		if err := s.mayOpenIn(ctx, tx, p, *dept); err != nil {
			return err
		}
		cust, err := tx.Customer(ctx, in.CustomerID)
		if billing.ErrorCode(err) == billing.ENOTFOUND {
			return &billing.Error{Code: billing.EINVALID, Message: "an unknown customer; see fields",
				Fields: map[string]string{"customer_id": fmt.Sprintf("customer %d does not exist", in.CustomerID)}}
		} else if err != nil {
			return err
		}
		if cust.Status == billing.CustomerDeleted {
			return billing.Errorf(billing.ECONFLICT, "customer %d is deleted; a ticket can't be opened for it", cust.ID)
		}
		author := billing.TicketAuthor{}
		if in.UserID != nil {
			u, err := tx.User(ctx, cust.ID, *in.UserID)
			if billing.ErrorCode(err) == billing.ENOTFOUND {
				return &billing.Error{Code: billing.EINVALID, Message: "the user is not one of the customer's; see fields",
					Fields: map[string]string{"user_id": fmt.Sprintf("user %d is not a user of customer %d", *in.UserID, cust.ID)}}
			} else if err != nil {
				return err
			}
			author.UserID = u.ID
		}
		ch, err := openFromIncoming(ctx, tx, e, cust.ID, *dept, author, p.StaffID)
		if err != nil {
			return err
		}
		// A mail stored before (its Message-ID) is the ticket it went to then, whoever's it is.
		if err := tx.HandleIncomingEmail(ctx, e.ID, store.IncomingHandled{Status: billing.IncomingTicket, TicketID: ch.Ticket.ID,
			CustomerID: ch.Ticket.CustomerID, StaffID: p.StaffID}); err != nil {
			return err
		}
		out = billing.TicketView{Ticket: ch.Ticket, Messages: []billing.TicketMessage{}}
		if ch.Message != nil {
			out.Messages = append(out.Messages, *ch.Message)
		}
		if ch.Duplicate {
			return nil // its notices went out when it was stored
		}
		return s.queueTicketNotices(ctx, tx, activities.TicketNotice{Ticket: ch.Ticket, Message: ch.Message, Opened: true,
			ByStaffID: p.StaffID})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

// discardIncomingEmail marks an incoming email discarded; one handled
// already is a conflict.
func (s *Server) discardIncomingEmail(c echo.Context) error {
	id, err := pathID(c, "id", "incoming email")
	if err != nil {
		return err
	}
	p := principalOf(c)
	ctx := c.Request().Context()
	var out billing.IncomingEmailView
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		if _, err := s.lockNewIncoming(ctx, tx, p, id); err != nil {
			return err
		}
		if err := tx.HandleIncomingEmail(ctx, id, store.IncomingHandled{Status: billing.IncomingDiscarded, StaffID: p.StaffID}); err != nil {
			return err
		}
		out, err = tx.IncomingEmail(ctx, id)
		return err
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// lockNewIncoming locks incoming email id for p to handle: one of another
// department is not found, one handled already a conflict.
func (s *Server) lockNewIncoming(ctx context.Context, tx *store.Store, p billing.Principal, id int64) (store.LockedIncomingEmail, error) {
	e, err := tx.LockIncomingEmail(ctx, id)
	if err != nil {
		return e, err
	}
	if err := incomingAccess(p, e.IncomingEmail); err != nil {
		return e, err
	}
	if e.Status != billing.IncomingNew {
		return e, billing.Errorf(billing.ECONFLICT, "incoming email %d was handled already (%s); see its status and ticket_id", id, e.Status)
	}
	return e, nil
}

// openFromIncoming opens, in tx, the ticket of customer in department dept
// that incoming email e becomes: the text, sender and files of the mail as
// received when it was kept and can be read, else the text stored with the
// email. byStaffID is who decided (0: the sender confirmed their address,
// and a department's support incident is used as for a client's ticket).
func openFromIncoming(ctx context.Context, tx *store.Store, e store.LockedIncomingEmail, customer, dept int64,
	author billing.TicketAuthor, byStaffID int64) (store.TicketChange, error) {
	subject, body := e.Subject, e.Body
	author.Name, author.Email, author.Source = e.FromName, e.FromAddress, billing.SourceEmail
	if e.MessageID != nil {
		author.MailMessageID = *e.MessageID
	}
	var files []billing.AttachmentUpload
	if e.Raw != nil {
		if msg, err := inbound.Parse(e.Raw, inbound.DefaultLimits()); err == nil {
			subject, body = cmp.Or(msg.Subject, subject), cmp.Or(msg.Text, body)
			var left []string
			files, left = ticketFiles(msg.Attachments)
			if len(left) > 0 {
				body += "\n\n[Not attached: " + strings.Join(left, "; ") + "]"
			}
		}
	}
	return tx.OpenTicket(ctx, store.NewTicket{CustomerID: customer, DepartmentID: dept, Subject: cmp.Or(strings.TrimSpace(subject), "(no subject)"),
		Body: cmp.Or(strings.TrimSpace(body), "(the mail has no text)"), Attachments: files, Author: author, ByStaffID: byStaffID})
}

// ticketFiles keeps the attachments of a mail that a ticket message can
// hold (billing.CheckAttachments), in mail order, and names the others.
func ticketFiles(atts []inbound.Attachment) (kept []billing.AttachmentUpload, left []string) {
	for _, a := range atts {
		f := billing.AttachmentUpload{Name: a.Filename, ContentType: a.ContentType, Content: a.Data}
		if _, err := billing.CheckAttachments(append(append([]billing.AttachmentUpload{}, kept...), f)); err != nil {
			left = append(left, fmt.Sprintf("%s (%d bytes): %s", a.Filename, len(a.Data), fieldsText(err)))
			continue
		}
		kept = append(kept, f)
	}
	return kept, left
}

// fieldsText is an error's message with its field problems.
func fieldsText(err error) string {
	e, ok := err.(*billing.Error)
	if !ok || len(e.Fields) == 0 {
		return err.Error()
	}
	parts := make([]string, 0, len(e.Fields))
	for _, v := range e.Fields {
		parts = append(parts, v)
	}
	return strings.Join(parts, ", ")
}

// senderConfirmed follows a user's confirming their address, in tx (the
// confirmation's transaction): the mails that address sent as an unknown
// sender become tickets of their departments for the user's customer (a
// department's support incident used as for a client's ticket: one refused
// leaves its mail waiting), and the address gets email_confirmed, if any
// mail became a ticket.
func (s *Server) senderConfirmed(ctx context.Context, tx *store.Store, customerID, userID int64) error {
	u, err := tx.User(ctx, customerID, userID)
	if err != nil {
		return err
	}
	// The intake of a mail from the address waits on this lock, and then
	// sees the address confirmed: no mail is filed as unknown meanwhile.
	if err := tx.LockMailAddress(ctx, u.Email); err != nil {
		return err
	}
	mails, err := tx.WaitingIncomingEmails(ctx, u.Email)
	if err != nil || len(mails) == 0 {
		return err
	}
	cust, err := tx.Customer(ctx, customerID)
	if err != nil || cust.Status == billing.CustomerDeleted {
		return err
	}
	var tickets []string
	for _, m := range mails {
		err := tx.Tx(ctx, func(sp *store.Store) error { // a savepoint: a refused incident undoes this mail only
			ch, err := openFromIncoming(ctx, sp, m, cust.ID, m.DepartmentID, billing.TicketAuthor{UserID: u.ID}, 0)
			if err != nil {
				return err
			}
			if err := sp.HandleIncomingEmail(ctx, m.ID, store.IncomingHandled{Status: billing.IncomingTicket, TicketID: ch.Ticket.ID,
				CustomerID: ch.Ticket.CustomerID}); err != nil {
				return err
			}
			tickets = append(tickets, "#"+strconv.FormatInt(ch.Ticket.ID, 10))
			if ch.Duplicate {
				return nil
			}
			return s.queueTicketNotices(ctx, sp, activities.TicketNotice{Ticket: ch.Ticket, Message: ch.Message, Opened: true})
		})
		if billing.IsIncidentRequired(err) {
			continue
		} else if err != nil {
			return err
		}
	}
	if len(tickets) == 0 {
		return nil // every mail waits for staff: email_confirmed would name no ticket
	}
	return s.queueMailNotice(ctx, tx, notices.EventEmailConfirmed, u.Email, strconv.FormatInt(mails[0].ID, 10),
		map[string]string{"[EMAIL]": u.Email, "[TICKETS]": strings.Join(tickets, ", ")}, s.defaults.DefaultLanguage)
}
