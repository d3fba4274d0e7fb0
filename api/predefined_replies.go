package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/notices"
	"github.com/tempobill/billing/store"
)

// Pre-defined replies (seed 003): any staff member reads the replies they
// may use; keeping one needs the right for its scope (billing.PredefinedReply.CheckKeeper).
// A reply the caller may not see is not found, like a ticket of another department.

func (s *Server) createPredefinedReply(c echo.Context) error {
	var in billing.PredefinedReplyInput
	if err := bind(c, &in); err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return err
	}
	p := principalOf(c)
	r := in.Reply()
	if err := r.CheckKeeper(p); err != nil {
		return err
	}
	r.CreatedByID = &p.StaffID
	r, err := s.store.CreatePredefinedReply(c.Request().Context(), r)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, r)
}

// listPredefinedReplies answers the replies the caller may use, by name:
// all departments', their departments' (an admin: every department's) and
// their own. An admin may ask for another staff member's personal ones
// (staff_id).
func (s *Server) listPredefinedReplies(c echo.Context) error {
	p := principalOf(c)
	q := query{c: c}
	f := store.PredefinedRepliesFor(p)
	department, owner := q.id("department_id"), q.id("staff_id")
	f.Scope = q.oneOf("scope", billing.ReplyScopes...)
	f.PageRequest = q.page()
	if err := q.v.Err(); err != nil {
		return err
	}
	if department != nil {
		f.DepartmentID = *department
	}
	if owner != nil {
		if *owner != p.StaffID && p.Role != billing.RoleAdmin {
			return billing.Errorf(billing.EFORBIDDEN, "only an admin sees another staff member's personal replies")
		}
		f.PersonalOf, f.OwnerID = *owner, *owner
	}
	page, err := s.store.PredefinedReplies(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}

func (s *Server) getPredefinedReply(c echo.Context) error {
	id, err := pathID(c, "id", "pre-defined reply")
	if err != nil {
		return err
	}
	r, err := s.store.PredefinedReply(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if !r.VisibleTo(principalOf(c)) {
		return billing.NotFound("pre-defined reply", id)
	}
	return c.JSON(http.StatusOK, r)
}

// updatePredefinedReply replaces a reply: the caller needs the right for
// its scope as it was and as it will be.
func (s *Server) updatePredefinedReply(c echo.Context) error {
	id, err := pathID(c, "id", "pre-defined reply")
	if err != nil {
		return err
	}
	var in billing.PredefinedReplyInput
	if err := bind(c, &in); err != nil {
		return err
	}
	if err := in.Validate(); err != nil {
		return err
	}
	p := principalOf(c)
	r, err := s.store.UpdatePredefinedReply(c.Request().Context(), id, in.Reply(), func(old billing.PredefinedReply) error {
		if err := keeperOf(p, old); err != nil {
			return err
		}
		return in.Reply().CheckKeeper(p)
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, r)
}

func (s *Server) deletePredefinedReply(c echo.Context) error {
	id, err := pathID(c, "id", "pre-defined reply")
	if err != nil {
		return err
	}
	p := principalOf(c)
	err = s.store.DeletePredefinedReply(c.Request().Context(), id, func(old billing.PredefinedReply) error { return keeperOf(p, old) })
	if err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// keeperOf refuses p changing or deleting r: not found if p may not see it, forbidden if p may not keep it.
func keeperOf(p billing.Principal, r billing.PredefinedReply) error {
	if !r.VisibleTo(p) {
		return billing.NotFound("pre-defined reply", r.ID)
	}
	return r.CheckKeeper(p)
}

// ticketPredefinedReplies answers the replies the caller may use in a
// ticket (all departments', the ticket's department's, their own), each
// body with its variables filled for the ticket and the caller. A ticket of
// a department the caller is not a member of is not found.
func (s *Server) ticketPredefinedReplies(c echo.Context) error {
	id, err := pathID(c, "id", "ticket")
	if err != nil {
		return err
	}
	p := principalOf(c)
	q := query{c: c}
	pr := q.page()
	if err := q.v.Err(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	facts, err := s.store.TicketReplyFacts(ctx, id, p.StaffID)
	if err != nil {
		return err
	}
	if !p.SeesDepartment(facts.DepartmentID) {
		return billing.NotFound("ticket", id)
	}
	page, err := s.store.TicketPredefinedReplies(ctx, facts.DepartmentID, p.StaffID, pr)
	if err != nil {
		return err
	}
	values := facts.Values()
	for i := range page.Items {
		page.Items[i].Body = notices.Render(page.Items[i].Body, values)
	}
	return c.JSON(http.StatusOK, page)
}
