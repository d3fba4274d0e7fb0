package api

import (
	"context"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/activities"
	"github.com/tempobill/billing/store"
)

// TicketPosted is the answer to a post: the message and the ticket after it.
type TicketPosted struct {
	Ticket  billing.Ticket        `json:"ticket"`
	Message billing.TicketMessage `json:"message"`
}

// ticketAccess is who may see and change a ticket: a client their own
// customer's, staff the tickets of their departments (admins every one).
// Anyone else is told it doesn't exist, so IDs can't be probed.
func ticketAccess(p billing.Principal) store.TicketCheck {
	return func(t billing.Ticket) error {
		if p.IsClient() && t.CustomerID == p.CustomerID || !p.IsClient() && p.SeesDepartment(t.DepartmentID) {
			return nil
		}
		return billing.NotFound("ticket", t.ID)
	}
}

// staffID is the staff member acting, 0 for a client (staff impersonating a
// client act as the client).
func staffID(p billing.Principal) int64 {
	if p.IsStaff() {
		return p.StaffID
	}
	return 0
}

// author is who writes a message through the API.
func author(p billing.Principal) billing.TicketAuthor {
	if p.IsStaff() {
		return billing.TicketAuthor{StaffID: p.StaffID}
	}
	return billing.TicketAuthor{UserID: p.UserID}
}

// createTicket opens a ticket: a client for their own customer in a
// department of the support center, staff for a customer in one of their
// departments (admins: any). The ticket, its message, attachments, support
// incident and notices are one transaction.
func (s *Server) createTicket(c echo.Context) error {
	var in billing.TicketCreate
	if err := bind(c, &in); err != nil {
		return err
	}
	p := principalOf(c)
	if p.IsClient() {
		if in.CustomerID != nil && *in.CustomerID != p.CustomerID {
			return billing.NotFound("customer", *in.CustomerID)
		}
		in.CustomerID = &p.CustomerID
	} else if in.CustomerID == nil {
		return &billing.Error{Code: billing.EINVALID, Message: "name the customer the ticket is for; see fields",
			Fields: map[string]string{"customer_id": "is required"}}
	}
	if err := in.Validate(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	var out billing.TicketView
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		cust, err := tx.Customer(ctx, *in.CustomerID)
		if err != nil {
			return err
		}
		if cust.Status == billing.CustomerDeleted {
			return billing.Errorf(billing.ECONFLICT, "customer %d is deleted; a ticket can't be opened for it", cust.ID)
		}
		if err := s.mayOpenIn(ctx, tx, p, in.DepartmentID); err != nil {
			return err
		}
		ch, err := tx.OpenTicket(ctx, store.NewTicket{CustomerID: cust.ID, DepartmentID: in.DepartmentID, Subject: in.Subject,
			Body: in.Body, Attachments: in.Attachments, Author: author(p)})
		if err != nil {
			return err
		}
		out = billing.TicketView{Ticket: ch.Ticket, Messages: []billing.TicketMessage{*ch.Message}}
		return s.queueTicketNotices(ctx, tx, activities.TicketNotice{Ticket: ch.Ticket, Message: ch.Message, Opened: true,
			ByStaffID: staffID(p)})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

// mayOpenIn refuses a department p can't open a ticket in: for a client one
// not shown in the support center (told apart from none at all by nothing),
// for staff one they are not a member of.
func (s *Server) mayOpenIn(ctx context.Context, tx *store.Store, p billing.Principal, id int64) error {
	d, err := tx.Department(ctx, id)
	if billing.ErrorCode(err) == billing.ENOTFOUND || err == nil && p.IsClient() && !d.ShowInSupport {
		return &billing.Error{Code: billing.EINVALID, Message: "there is no such department in the support center; see GET /departments",
			Fields: map[string]string{"department_id": fmt.Sprintf("department %d does not exist", id)}}
	}
	if err != nil {
		return err
	}
	if !p.IsClient() && !p.SeesDepartment(id) {
		return notMember(id)
	}
	return nil
}

func notMember(departmentID int64) error {
	return &billing.Error{Code: billing.EFORBIDDEN, Message: "you are not a member of this department; see fields",
		Fields: map[string]string{"department_id": fmt.Sprintf("you are not a member of department %d", departmentID)}}
}

// listTickets lists a client's customer's tickets, or for staff the tickets
// of their departments (admins: all), latest message first.
func (s *Server) listTickets(c echo.Context) error {
	q := query{c: c}
	f := billing.TicketFilter{
		DepartmentID: q.id("department_id"),
		Status:       q.oneOf("status", billing.TicketStatuses...),
		AssigneeID:   q.id("assignee_id"),
		CustomerID:   q.id("customer_id"),
		PageRequest:  q.page(),
	}
	if u := q.bool("unassigned"); u != nil {
		f.Unassigned = *u
		q.v.Check(!*u || f.AssigneeID == nil, "unassigned", "can't be true with assignee_id")
	}
	if err := q.v.Err(); err != nil {
		return err
	}
	if err := ownCustomerFilter(c, &f.CustomerID); err != nil {
		return err
	}
	if p := principalOf(c); !p.IsClient() && p.Role != billing.RoleAdmin {
		f.Departments = append([]int64{}, p.DepartmentIDs...) // not nil: no department, no tickets
	}
	page, err := s.store.Tickets(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

// getTicket answers a ticket with its messages; a client never sees the
// internal notes or their attachments.
func (s *Server) getTicket(c echo.Context) error {
	id, err := pathID(c, "id", "ticket")
	if err != nil {
		return err
	}
	v, err := s.store.Ticket(c.Request().Context(), id)
	if err != nil {
		return err
	}
	p := principalOf(c)
	if err := ticketAccess(p)(v.Ticket); err != nil {
		return err
	}
	if p.IsClient() {
		v = v.ForClient()
	}
	return c.JSON(http.StatusOK, v)
}

// postTicketMessage posts a client's message, a staff answer or (internal)
// a staff note, with its attachments and notices, in one transaction.
func (s *Server) postTicketMessage(c echo.Context) error {
	id, err := pathID(c, "id", "ticket")
	if err != nil {
		return err
	}
	var in billing.TicketPost
	if err := bind(c, &in); err != nil {
		return err
	}
	p := principalOf(c)
	if err := staffFields(p, map[string]bool{"internal": in.Internal, "status": in.Status != nil}); err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return err
	}
	msg := store.NewTicketMessage{TicketID: id, Kind: billing.MessageFromClient, Body: in.Body, Attachments: in.Attachments, Author: author(p)}
	if p.IsStaff() {
		msg.Kind = billing.MessageFromStaff
		if in.Internal {
			msg.Kind = billing.MessageNote
		}
		if in.Status != nil {
			msg.Status = *in.Status
		}
	}
	ctx := c.Request().Context()
	var out TicketPosted
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		ch, err := tx.PostTicketMessage(ctx, msg, ticketAccess(p))
		if err != nil {
			return err
		}
		out = TicketPosted{Ticket: ch.Ticket, Message: *ch.Message}
		return s.queueTicketNotices(ctx, tx, activities.TicketNotice{Ticket: ch.Ticket, Message: ch.Message,
			ByStaffID: staffID(p)})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, out)
}

// updateTicket changes a ticket: staff its status, assignee and department
// (a move only to one of their own departments; admins: any); a client only
// closes it or opens it again.
func (s *Server) updateTicket(c echo.Context) error {
	id, err := pathID(c, "id", "ticket")
	if err != nil {
		return err
	}
	var up billing.TicketUpdate
	if err := bind(c, &up); err != nil {
		return err
	}
	p := principalOf(c)
	if err := staffFields(p, map[string]bool{"assignee_id": up.AssigneeIDSet, "department_id": up.DepartmentID != nil}); err != nil {
		return err
	}
	if err := up.Validate(p.IsClient()); err != nil {
		return err
	}
	ctx := c.Request().Context()
	check := ticketAccess(p)
	if up.DepartmentID != nil && !p.SeesDepartment(*up.DepartmentID) {
		check = func(t billing.Ticket) error {
			if err := ticketAccess(p)(t); err != nil {
				return err // a ticket they can't see is not found, whatever the body says
			}
			return notMember(*up.DepartmentID)
		}
	}
	var out billing.Ticket
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		ch, err := tx.UpdateTicket(ctx, id, up, check)
		if err != nil || !ch.Assigned && !ch.Moved {
			out = ch.Ticket
			return err
		}
		out = ch.Ticket
		return s.queueTicketNotices(ctx, tx, activities.TicketNotice{Ticket: ch.Ticket, Assigned: ch.Assigned, Moved: ch.Moved,
			ByStaffID: staffID(p)})
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}
