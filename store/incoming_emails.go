package store

import (
	"context"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

func incomingFromRow(r dbsqlc.IncomingEmailGetRow) billing.IncomingEmailView {
	return billing.IncomingEmailView{HasRaw: r.HasRaw, IncomingEmail: billing.IncomingEmail{ID: r.ID, GatewayID: r.GatewayID,
		DepartmentID: r.DepartmentID, FromAddress: r.FromAddress, FromName: r.FromName, Subject: r.Subject, Body: r.Body,
		MessageID: r.MessageID, Reason: r.Reason, Detail: r.Detail, Status: r.Status, TicketID: r.TicketID,
		CustomerID: r.CustomerID, HandledBy: r.HandledBy, HandledAt: r.HandledAt, CreatedAt: r.CreatedAt}}
}

// LockedIncomingEmail is an incoming email whose row is locked for its
// handling, with the mail as received (nil if it was not kept).
type LockedIncomingEmail struct {
	billing.IncomingEmail
	Raw []byte
}

func lockedFromRow(r dbsqlc.IncomingEmail) LockedIncomingEmail {
	return LockedIncomingEmail{Raw: r.Raw, IncomingEmail: incomingFromRow(dbsqlc.IncomingEmailGetRow{ID: r.ID, GatewayID: r.GatewayID,
		DepartmentID: r.DepartmentID, FromAddress: r.FromAddress, FromName: r.FromName, Subject: r.Subject, Body: r.Body,
		MessageID: r.MessageID, Reason: r.Reason, Detail: r.Detail, Status: r.Status, TicketID: r.TicketID,
		CustomerID: r.CustomerID, HandledBy: r.HandledBy, HandledAt: r.HandledAt, CreatedAt: r.CreatedAt}).IncomingEmail}
}

// IncomingEmail returns incoming email id with its text (not the raw mail).
func (s *Store) IncomingEmail(ctx context.Context, id int64) (billing.IncomingEmailView, error) {
	r, err := s.q.IncomingEmailGet(ctx, id)
	if err != nil {
		return billing.IncomingEmailView{}, dbError(err, "incoming email", id)
	}
	return incomingFromRow(r), nil
}

// IncomingEmailRaw returns the mail of incoming email id as received (nil
// if it was not kept) and the email's department.
func (s *Store) IncomingEmailRaw(ctx context.Context, id int64) (departmentID int64, raw []byte, err error) {
	r, err := s.q.IncomingEmailRaw(ctx, id)
	if err != nil {
		return 0, nil, dbError(err, "incoming email", id)
	}
	return r.DepartmentID, r.Raw, nil
}

// IncomingEmails lists the incoming emails that match f, latest first.
func (s *Store) IncomingEmails(ctx context.Context, f billing.IncomingEmailFilter) (billing.Page[billing.IncomingEmailView], error) {
	p, err := page(f.PageRequest, func() (int64, error) {
		return s.q.IncomingEmailCount(ctx, dbsqlc.IncomingEmailCountParams{DepartmentIds: f.Departments, DepartmentID: f.DepartmentID,
			GatewayID: f.GatewayID, Status: f.Status, Reason: f.Reason})
	}, func(limit, offset int64) ([]billing.IncomingEmailView, error) {
		rows, err := s.q.IncomingEmailList(ctx, dbsqlc.IncomingEmailListParams{DepartmentIds: f.Departments, DepartmentID: f.DepartmentID,
			GatewayID: f.GatewayID, Status: f.Status, Reason: f.Reason, Limit: limit, Offset: offset})
		return fromRows(rows, func(r dbsqlc.IncomingEmailListRow) billing.IncomingEmailView {
			return incomingFromRow(dbsqlc.IncomingEmailGetRow(r))
		}), err
	})
	return p, dbError(err, "incoming email", "")
}

// LockIncomingEmail locks incoming email id's row to the end of s's
// transaction: of two staff members handling it at once, the second sees
// what the first did.
func (s *Store) LockIncomingEmail(ctx context.Context, id int64) (LockedIncomingEmail, error) {
	r, err := s.q.IncomingEmailLock(ctx, id)
	if err != nil {
		return LockedIncomingEmail{}, dbError(err, "incoming email", id)
	}
	return lockedFromRow(r), nil
}

// WaitingIncomingEmails locks and returns the incoming emails of the unknown
// sender address still waiting (new), oldest first.
func (s *Store) WaitingIncomingEmails(ctx context.Context, address string) ([]LockedIncomingEmail, error) {
	rows, err := s.q.IncomingEmailsWaitingFrom(ctx, address)
	if err != nil {
		return nil, dbError(err, "incoming email", "")
	}
	return fromRows(rows, lockedFromRow), nil
}

// IncomingHandled is what became of an incoming email: a ticket of a
// customer, or nothing (discarded); StaffID is who decided, 0 for the
// system (the sender confirmed their address).
type IncomingHandled struct {
	Status     string
	TicketID   int64
	CustomerID int64
	StaffID    int64
}

// HandleIncomingEmail records what became of incoming email id; one already
// handled is a conflict.
func (s *Store) HandleIncomingEmail(ctx context.Context, id int64, h IncomingHandled) error {
	_, err := s.q.IncomingEmailHandle(ctx, dbsqlc.IncomingEmailHandleParams{ID: id, Status: h.Status, TicketID: optionalID(h.TicketID),
		CustomerID: optionalID(h.CustomerID), HandledBy: optionalID(h.StaffID)})
	if err != nil {
		if e := dbError(err, "incoming email", id); billing.ErrorCode(e) == billing.ENOTFOUND {
			return alreadyHandled(id)
		}
		return dbError(err, "incoming email", id)
	}
	return nil
}

func alreadyHandled(id int64) error {
	return billing.Errorf(billing.ECONFLICT, "incoming email %d was handled already; see its status and ticket_id", id)
}
