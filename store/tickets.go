package store

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"

	"github.com/jackc/pgx/v5"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

// NewTicket is a ticket to open with its first message: by a client
// (Author.UserID), by staff for a customer (Author.StaffID), or by the mail
// gateway (Author.Source email, with the mail's Message-ID).
type NewTicket struct {
	CustomerID   int64
	DepartmentID int64
	Subject      string
	Body         string
	Attachments  []billing.AttachmentUpload
	Author       billing.TicketAuthor
	// ByStaffID, if not 0, is the staff member who opens the ticket with a
	// message that is not theirs (an incoming email they turn into a
	// ticket): they are its opener, and no support incident is used.
	ByStaffID int64
}

// NewTicketMessage is a message to post to a ticket: a client's
// (MessageFromClient), a staff answer (MessageFromStaff, after which the
// ticket takes Status, answered if empty) or an internal note (MessageNote).
type NewTicketMessage struct {
	TicketID    int64
	Kind        string
	Body        string
	Status      string
	Attachments []billing.AttachmentUpload
	Author      billing.TicketAuthor
}

// TicketChange is what a write to a ticket did: the ticket before and
// after, and the message it posted, if any. Duplicate: the mail was seen
// before, nothing was written and Message is the one stored then (its
// notices went out then too).
type TicketChange struct {
	Before   billing.Ticket
	Ticket   billing.Ticket
	Message  *billing.TicketMessage
	Assigned bool
	// Moved: the ticket moved to another department.
	Moved     bool
	Duplicate bool
}

// TicketCheck is a caller's access rule, run on the locked ticket before a
// change: a ticket moved to another department meanwhile is judged as it
// is now.
type TicketCheck func(billing.Ticket) error

func ticketFromRow(r dbsqlc.Ticket) billing.Ticket {
	return billing.Ticket{ID: r.ID, CustomerID: r.CustomerID, DepartmentID: r.DepartmentID, Subject: r.Subject, Status: r.Status,
		AssigneeID: r.AssigneeID, OpenedByStaffID: r.OpenedByStaffID, OpenedByUserID: r.OpenedByUserID, Source: r.Source,
		ReplyToken: r.ReplyToken, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, LastMessageAt: r.LastMessageAt, ClosedAt: r.ClosedAt}
}

func ticketMessageFromRow(r dbsqlc.TicketMessage) billing.TicketMessage {
	return billing.TicketMessage{ID: r.ID, TicketID: r.TicketID, Kind: r.Kind, AuthorUserID: r.AuthorUserID,
		AuthorStaffID: r.AuthorStaffID, AuthorName: r.AuthorName, AuthorEmail: r.AuthorEmail, Body: r.Body, Source: r.Source,
		MailMessageID: r.MailMessageID, Attachments: []billing.TicketAttachment{}, CreatedAt: r.CreatedAt}
}

// newReplyToken returns a random token for the mails about a ticket: 128
// bits from crypto/rand, so that nobody can guess one to post into a
// ticket by mail.
func newReplyToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// OpenTicket opens a ticket with its first message and attachments, in one
// transaction (s's, if s is bound to one). A department that requires
// incidents takes one of the customer's (UseIncident) when a client or a
// mail opens the ticket; staff opening one for a customer use none. A
// ticket staff open waits for the client (answered). A mail whose
// Message-ID was seen before opens nothing: the change is Duplicate.
func (s *Store) OpenTicket(ctx context.Context, in NewTicket) (TicketChange, error) {
	var out TicketChange
	err := s.inTxStore(ctx, func(tx *Store) error {
		if dup, err := tx.seenMail(ctx, in.Author.MailMessageID); err != nil || dup != nil {
			if dup != nil {
				out = *dup
			}
			return err
		}
		dept, err := tx.q.DepartmentGet(ctx, in.DepartmentID)
		if errors.Is(err, pgx.ErrNoRows) {
			return unknownDepartment(in.DepartmentID)
		} else if err != nil {
			return err
		}
		author, err := tx.fillAuthor(ctx, in.Author)
		if err != nil {
			return err
		}
		row, err := tx.q.TicketInsert(ctx, dbsqlc.TicketInsertParams{CustomerID: in.CustomerID, DepartmentID: in.DepartmentID,
			Subject: in.Subject, OpenedByStaffID: optionalID(cmp.Or(in.ByStaffID, author.StaffID)), OpenedByUserID: optionalID(author.UserID),
			Source: author.Source, ReplyToken: newReplyToken()})
		if err != nil {
			return err
		}
		kind := billing.MessageFromClient
		if author.StaffID != 0 {
			kind = billing.MessageFromStaff
			if row, err = tx.q.TicketUpdate(ctx, dbsqlc.TicketUpdateParams{ID: row.ID, Status: billing.TicketAnswered,
				DepartmentID: row.DepartmentID}); err != nil {
				return err
			}
		}
		out.Ticket = ticketFromRow(row)
		auditObject(ctx, "ticket", row.ID, row.CustomerID)
		if out.Message, err = tx.insertMessage(ctx, row.ID, kind, in.Body, author, in.Attachments); err != nil {
			return err
		}
		if dept.RequiresIncidents && author.StaffID == 0 && in.ByStaffID == 0 {
			return tx.UseIncident(ctx, in.CustomerID, row.ID)
		}
		return nil
	})
	return out, dbError(err, "ticket", "")
}

// PostTicketMessage posts a message to ticket in.TicketID under the lock of
// its row, after check (if any) allowed it. A client's post opens the ticket
// (a closed one again); a staff answer makes it in.Status (answered if
// empty); a note changes nothing. Posts move last_message_at and
// updated_at; notes don't, since a client sees them and must not learn of a
// note from them. A mail whose Message-ID was seen before is not stored
// again: the change is Duplicate.
func (s *Store) PostTicketMessage(ctx context.Context, in NewTicketMessage, check TicketCheck) (TicketChange, error) {
	var out TicketChange
	err := s.inTxStore(ctx, func(tx *Store) error {
		if dup, err := tx.seenMail(ctx, in.Author.MailMessageID); err != nil || dup != nil {
			if dup != nil {
				out = *dup
			}
			return err
		}
		before, err := tx.lockTicket(ctx, in.TicketID, check)
		if err != nil {
			return err
		}
		out.Before = before
		auditObject(ctx, "ticket", before.ID, before.CustomerID)
		author, err := tx.fillAuthor(ctx, in.Author)
		if err != nil {
			return err
		}
		out.Ticket = before
		if in.Kind != billing.MessageNote { // a note leaves the ticket as it was, updated_at too: the client sees it
			status := billing.TicketOpen
			if in.Kind == billing.MessageFromStaff {
				status = cmp.Or(in.Status, billing.TicketAnswered)
			}
			row, err := tx.q.TicketUpdate(ctx, dbsqlc.TicketUpdateParams{ID: before.ID, Status: status, AssigneeID: before.AssigneeID,
				DepartmentID: before.DepartmentID, Touch: true})
			if err != nil {
				return err
			}
			out.Ticket = ticketFromRow(row)
		}
		out.Message, err = tx.insertMessage(ctx, before.ID, in.Kind, in.Body, author, in.Attachments)
		return err
	})
	return out, dbError(err, "ticket", in.TicketID)
}

// UpdateTicket changes ticket id's status, assignee or department under the
// lock of its row, after check (if any) allowed it. The assignee must be an
// active member of the ticket's department (after a move); a move drops an
// assignee who is not a member of the new department, and withdraws the
// staff notices about the ticket not sent yet to staff who no longer see it
// (neither members of the new department nor admins).
func (s *Store) UpdateTicket(ctx context.Context, id int64, up billing.TicketUpdate, check TicketCheck) (TicketChange, error) {
	var out TicketChange
	err := s.inTxStore(ctx, func(tx *Store) error {
		before, err := tx.lockTicket(ctx, id, check)
		if err != nil {
			return err
		}
		out.Before = before
		auditObject(ctx, "ticket", before.ID, before.CustomerID)
		t := before
		if up.Status != nil {
			t.Status = *up.Status
		}
		if up.DepartmentID != nil && *up.DepartmentID != t.DepartmentID {
			if _, err := tx.q.DepartmentGet(ctx, *up.DepartmentID); errors.Is(err, pgx.ErrNoRows) {
				return unknownDepartment(*up.DepartmentID)
			} else if err != nil {
				return err
			}
			t.DepartmentID = *up.DepartmentID
			if t.AssigneeID != nil && !up.AssigneeIDSet {
				if member, err := tx.isActiveMember(ctx, *t.AssigneeID, t.DepartmentID); err != nil {
					return err
				} else if !member {
					t.AssigneeID = nil
				}
			}
		}
		if up.AssigneeIDSet {
			t.AssigneeID = up.AssigneeID
			if t.AssigneeID != nil {
				member, err := tx.isActiveMember(ctx, *t.AssigneeID, t.DepartmentID)
				if err != nil {
					return err
				}
				if !member {
					return &billing.Error{Code: billing.EINVALID, Message: "the assignee must be an active member of the ticket's department; see fields",
						Fields: map[string]string{"assignee_id": fmt.Sprintf("staff member %d is not an active member of department %d", *t.AssigneeID, t.DepartmentID)}}
				}
			}
		}
		row, err := tx.q.TicketUpdate(ctx, dbsqlc.TicketUpdateParams{ID: id, Status: t.Status, AssigneeID: t.AssigneeID,
			DepartmentID: t.DepartmentID})
		if err != nil {
			return err
		}
		out.Ticket = ticketFromRow(row)
		out.Assigned = out.Ticket.AssigneeID != nil && (before.AssigneeID == nil || *before.AssigneeID != *out.Ticket.AssigneeID)
		if out.Moved = before.DepartmentID != out.Ticket.DepartmentID; out.Moved {
			// Staff who no longer see the ticket are not sent what was
			// queued about it before the move.
			_, err = tx.q.TicketStaffNoticesWithdraw(ctx, dbsqlc.TicketStaffNoticesWithdrawParams{ObjectID: strconv.FormatInt(id, 10),
				DepartmentID: out.Ticket.DepartmentID})
		}
		return err
	})
	return out, dbError(err, "ticket", id)
}

// Ticket returns ticket id with its messages and their attachments' metadata.
func (s *Store) Ticket(ctx context.Context, id int64) (billing.TicketView, error) {
	row, err := s.q.TicketGet(ctx, id)
	if err != nil {
		return billing.TicketView{}, dbError(err, "ticket", id)
	}
	v := billing.TicketView{Ticket: ticketFromRow(row)}
	msgs, err := s.q.TicketMessages(ctx, id)
	if err != nil {
		return v, dbError(err, "ticket", id)
	}
	files, err := s.q.TicketAttachmentsOf(ctx, id)
	if err != nil {
		return v, dbError(err, "ticket", id)
	}
	byMessage := map[int64][]billing.TicketAttachment{}
	for _, f := range files {
		byMessage[f.MessageID] = append(byMessage[f.MessageID], billing.TicketAttachment{ID: f.ID, TicketID: f.TicketID,
			MessageID: f.MessageID, Name: f.Name, ContentType: f.ContentType, Size: f.Size, SHA256: hex.EncodeToString(f.Sha256),
			CreatedAt: f.CreatedAt})
	}
	v.Messages = fromRows(msgs, func(r dbsqlc.TicketMessage) billing.TicketMessage {
		m := ticketMessageFromRow(r)
		if a := byMessage[m.ID]; a != nil {
			m.Attachments = a
		}
		return m
	})
	return v, nil
}

// Tickets lists the tickets that match f, latest message first.
func (s *Store) Tickets(ctx context.Context, f billing.TicketFilter) (billing.Page[billing.Ticket], error) {
	p, err := page(f.PageRequest, func() (int64, error) {
		return s.q.TicketCount(ctx, dbsqlc.TicketCountParams{Departments: f.Departments, DepartmentID: f.DepartmentID,
			Status: f.Status, AssigneeID: f.AssigneeID, Unassigned: f.Unassigned, CustomerID: f.CustomerID})
	}, func(limit, offset int64) ([]billing.Ticket, error) {
		rows, err := s.q.TicketList(ctx, dbsqlc.TicketListParams{Departments: f.Departments, DepartmentID: f.DepartmentID,
			Status: f.Status, AssigneeID: f.AssigneeID, Unassigned: f.Unassigned, CustomerID: f.CustomerID, Limit: limit, Offset: offset})
		return fromRows(rows, ticketFromRow), err
	})
	return p, dbError(err, "ticket", "")
}

// lockTicket locks ticket id's row and runs check on it.
func (s *Store) lockTicket(ctx context.Context, id int64, check TicketCheck) (billing.Ticket, error) {
	row, err := s.q.TicketLock(ctx, id)
	if err != nil {
		return billing.Ticket{}, dbError(err, "ticket", id)
	}
	t := ticketFromRow(row)
	if check != nil {
		if err := check(t); err != nil {
			return t, err
		}
	}
	return t, nil
}

// seenMail returns the change that stored the mail mailID before, if it
// was; it holds a lock on the Message-ID to the end of the transaction, so
// that the same mail posted twice at once is stored once.
func (s *Store) seenMail(ctx context.Context, mailID string) (*TicketChange, error) {
	if mailID == "" {
		return nil, nil
	}
	if err := s.q.TicketMailLock(ctx, mailID); err != nil {
		return nil, err
	}
	msg, err := s.q.TicketMessageByMailID(ctx, &mailID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	view, err := s.Ticket(ctx, msg.TicketID)
	if err != nil {
		return nil, err
	}
	out := &TicketChange{Before: view.Ticket, Ticket: view.Ticket, Duplicate: true}
	for _, m := range view.Messages {
		if m.ID == msg.ID {
			out.Message = &m
		}
	}
	return out, nil
}

// fillAuthor names the author from their account when the caller didn't.
func (s *Store) fillAuthor(ctx context.Context, a billing.TicketAuthor) (billing.TicketAuthor, error) {
	a.Source = cmp.Or(a.Source, billing.SourceAPI)
	switch {
	case a.StaffID != 0 && a.Name == "":
		name, err := s.q.StaffName(ctx, a.StaffID)
		a.Name = name
		return a, dbError(err, "staff member", a.StaffID)
	case a.UserID != 0 && (a.Name == "" || a.Email == ""):
		u, err := s.q.UserName(ctx, a.UserID)
		a.Name, a.Email = cmp.Or(a.Name, u.Name), cmp.Or(a.Email, u.Email)
		return a, dbError(err, "user", a.UserID)
	}
	return a, nil
}

// insertMessage stores a message of ticket ticketID with its attachments.
func (s *Store) insertMessage(ctx context.Context, ticketID int64, kind, body string, a billing.TicketAuthor,
	files []billing.AttachmentUpload) (*billing.TicketMessage, error) {
	var mailID *string
	if a.MailMessageID != "" {
		mailID = &a.MailMessageID
	}
	row, err := s.q.TicketMessageInsert(ctx, dbsqlc.TicketMessageInsertParams{TicketID: ticketID, Kind: kind,
		AuthorUserID: optionalID(a.UserID), AuthorStaffID: optionalID(a.StaffID), AuthorName: a.Name, AuthorEmail: a.Email,
		Body: body, Source: a.Source, MailMessageID: mailID})
	if err != nil {
		return nil, err
	}
	m := ticketMessageFromRow(row)
	if len(files) > 0 {
		if m.Attachments, err = s.AddAttachments(ctx, ticketID, m.ID, files); err != nil {
			return nil, err
		}
		if m.Attachments == nil {
			m.Attachments = []billing.TicketAttachment{}
		}
	}
	return &m, nil
}

// IsActiveMember reports whether staffID is an active member of
// departmentID.
func (s *Store) IsActiveMember(ctx context.Context, staffID, departmentID int64) (bool, error) {
	ok, err := s.isActiveMember(ctx, staffID, departmentID)
	return ok, dbError(err, "staff member", staffID)
}

func (s *Store) isActiveMember(ctx context.Context, staffID, departmentID int64) (bool, error) {
	return s.q.StaffIsActiveMember(ctx, dbsqlc.StaffIsActiveMemberParams{StaffID: staffID, DepartmentID: departmentID})
}

func unknownDepartment(id int64) error {
	return &billing.Error{Code: billing.EINVALID, Message: "an unknown department; see fields",
		Fields: map[string]string{"department_id": fmt.Sprintf("department %d does not exist", id)}}
}

// optionalID is nil for 0.
func optionalID(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}
