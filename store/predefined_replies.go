package store

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

func predefinedReplyFromRow(r dbsqlc.PredefinedReply) billing.PredefinedReply {
	return billing.PredefinedReply{ID: r.ID, Name: r.Name, Body: r.Body, Scope: billing.ReplyScope(r.DepartmentID, r.StaffID),
		DepartmentID: r.DepartmentID, StaffID: r.StaffID, CreatedByID: r.CreatedByID, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// replyScopeError turns a reply naming a department or staff member that
// doesn't exist (a foreign key violation, also when deleted meanwhile) into
// a field error.
func replyScopeError(err error) error {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "23503" {
		return err
	}
	switch pe.ConstraintName {
	case "predefined_replies_department_id_fkey":
		return &billing.Error{Code: billing.EINVALID, Message: "the reply names a department that does not exist; see fields",
			Fields: map[string]string{"department_id": "is not a department"}}
	case "predefined_replies_staff_id_fkey":
		return &billing.Error{Code: billing.EINVALID, Message: "the reply names a staff member who does not exist; see fields",
			Fields: map[string]string{"staff_id": "is not a staff member"}}
	}
	return err
}

// CreatePredefinedReply saves r (its ID and times are ignored); the caller
// has checked that its author may keep a reply of its scope.
func (s *Store) CreatePredefinedReply(ctx context.Context, r billing.PredefinedReply) (billing.PredefinedReply, error) {
	var out billing.PredefinedReply
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		row, err := q.PredefinedReplyInsert(ctx, dbsqlc.PredefinedReplyInsertParams{Name: r.Name, Body: r.Body,
			DepartmentID: r.DepartmentID, StaffID: r.StaffID, CreatedByID: r.CreatedByID})
		if err != nil {
			return replyScopeError(err)
		}
		out = predefinedReplyFromRow(row)
		auditObject(ctx, "predefined_reply", out.ID, 0)
		return nil
	})
	return out, dbError(err, "pre-defined reply", "")
}

// PredefinedReply returns reply id.
func (s *Store) PredefinedReply(ctx context.Context, id int64) (billing.PredefinedReply, error) {
	row, err := s.q.PredefinedReplyGet(ctx, id)
	return predefinedReplyFromRow(row), dbError(err, "pre-defined reply", id)
}

// UpdatePredefinedReply replaces reply id with r after check has accepted
// the reply as it was (locked, so that a concurrent change or delete can't
// slip between the check and the write). check answers who may change it.
func (s *Store) UpdatePredefinedReply(ctx context.Context, id int64, r billing.PredefinedReply,
	check func(old billing.PredefinedReply) error) (billing.PredefinedReply, error) {
	var out billing.PredefinedReply
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		old, err := q.PredefinedReplyLock(ctx, id)
		if err != nil {
			return err
		}
		if err := check(predefinedReplyFromRow(old)); err != nil {
			return err
		}
		auditObject(ctx, "predefined_reply", id, 0)
		row, err := q.PredefinedReplyUpdate(ctx, dbsqlc.PredefinedReplyUpdateParams{ID: id, Name: r.Name, Body: r.Body,
			DepartmentID: r.DepartmentID, StaffID: r.StaffID})
		if err != nil {
			return replyScopeError(err)
		}
		out = predefinedReplyFromRow(row)
		return nil
	})
	return out, dbError(err, "pre-defined reply", id)
}

// DeletePredefinedReply deletes reply id after check has accepted it.
func (s *Store) DeletePredefinedReply(ctx context.Context, id int64, check func(old billing.PredefinedReply) error) error {
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		old, err := q.PredefinedReplyLock(ctx, id)
		if err != nil {
			return err
		}
		if err := check(predefinedReplyFromRow(old)); err != nil {
			return err
		}
		auditObject(ctx, "predefined_reply", id, 0)
		n, err := q.PredefinedReplyDelete(ctx, id)
		if err == nil && n == 0 {
			err = pgx.ErrNoRows
		}
		return err
	})
	return dbError(err, "pre-defined reply", id)
}

// PredefinedReplyFilter selects among the replies a staff member may use.
type PredefinedReplyFilter struct {
	// DepartmentIDs are the caller's departments; EveryDepartment: an admin's.
	DepartmentIDs   []int64
	EveryDepartment bool
	// PersonalOf is the staff member whose personal replies are included: the caller (an admin may name another).
	PersonalOf int64
	// DepartmentID (0: any) keeps one department's replies; OwnerID (0: any) one staff member's; Scope ("": any) one scope's.
	DepartmentID int64
	OwnerID      int64
	Scope        string
	billing.PageRequest
}

// PredefinedRepliesFor returns the filter of the replies p may use.
func PredefinedRepliesFor(p billing.Principal) PredefinedReplyFilter {
	ids := p.DepartmentIDs
	if ids == nil {
		ids = []int64{}
	}
	return PredefinedReplyFilter{DepartmentIDs: ids, EveryDepartment: p.Role == billing.RoleAdmin, PersonalOf: p.StaffID}
}

// PredefinedReplies lists the replies f selects, by name.
func (s *Store) PredefinedReplies(ctx context.Context, f PredefinedReplyFilter) (billing.Page[billing.PredefinedReply], error) {
	p, err := page(f.PageRequest, func() (int64, error) {
		return s.q.PredefinedReplyUsableCount(ctx, dbsqlc.PredefinedReplyUsableCountParams{EveryDepartment: f.EveryDepartment,
			DepartmentIds: f.DepartmentIDs, PersonalOf: f.PersonalOf, DepartmentID: f.DepartmentID, OwnerID: f.OwnerID, Scope: f.Scope})
	}, func(limit, offset int64) ([]billing.PredefinedReply, error) {
		rows, err := s.q.PredefinedReplyUsable(ctx, dbsqlc.PredefinedReplyUsableParams{EveryDepartment: f.EveryDepartment,
			DepartmentIds: f.DepartmentIDs, PersonalOf: f.PersonalOf, DepartmentID: f.DepartmentID, OwnerID: f.OwnerID, Scope: f.Scope,
			Limit: limit, Offset: offset})
		return fromRows(rows, predefinedReplyFromRow), err
	})
	return p, dbError(err, "pre-defined reply", "")
}

// TicketReplyFacts reads what the reply variables are filled with in
// ticket ticketID for staff member staffID. It reads the tickets table
// itself (not the tickets' store code), so that replies need nothing else
// of tickets.
func (s *Store) TicketReplyFacts(ctx context.Context, ticketID, staffID int64) (billing.TicketReplyFacts, error) {
	t, err := s.q.PredefinedReplyTicketFacts(ctx, ticketID)
	if err != nil {
		return billing.TicketReplyFacts{}, dbError(err, "ticket", ticketID)
	}
	name, err := s.q.PredefinedReplyStaffName(ctx, staffID)
	return billing.TicketReplyFacts{TicketID: t.ID, DepartmentID: t.DepartmentID, TicketSubject: t.Subject,
		CustomerName: t.CustomerName, UserName: t.UserName, Department: t.DepartmentName, StaffName: name}, dbError(err, "staff member", staffID)
}

// TicketPredefinedReplies lists the replies staff member staffID may use in
// a ticket of department departmentID: all departments', the department's,
// their own; by name.
func (s *Store) TicketPredefinedReplies(ctx context.Context, departmentID, staffID int64, pr billing.PageRequest) (billing.Page[billing.PredefinedReply], error) {
	p, err := page(pr, func() (int64, error) {
		return s.q.PredefinedReplyForTicketCount(ctx, dbsqlc.PredefinedReplyForTicketCountParams{DepartmentID: departmentID, StaffID: staffID})
	}, func(limit, offset int64) ([]billing.PredefinedReply, error) {
		rows, err := s.q.PredefinedReplyForTicket(ctx, dbsqlc.PredefinedReplyForTicketParams{DepartmentID: departmentID, StaffID: staffID,
			Limit: limit, Offset: offset})
		return fromRows(rows, predefinedReplyFromRow), err
	})
	return p, dbError(err, "pre-defined reply", "")
}
