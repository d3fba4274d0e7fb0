package store

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tempobill/billing/store/dbsqlc"
)

// MailIntake is what became of a mail a gateway took (the mail_intake row).
type MailIntake struct {
	GatewayID int64
	MailboxID string
	MessageID string // "" if the mail has none, or it was not the gateway's
	// Fingerprint is a digest of what the mail says: with MessageID, what
	// names one mail (a broken client gives different mails one id).
	Fingerprint     string
	Outcome         string // ticket, message, incoming, ignored
	Reason          string
	TicketID        int64
	IncomingEmailID int64
}

// LockMail serialises, to the end of the transaction, the intake of the
// mail known in gateway gatewayID's mailbox as mailboxID, and of its
// Message-ID (if any), and returns its intake if it was taken before (by
// that mailbox identity, or by that Message-ID and fingerprint through any
// gateway). The locks are taken in one order (mailbox, then Message-ID),
// so two intakes never wait on each other. reused: not taken before, but
// another mail (another fingerprint) took the Message-ID.
func (s *Store) LockMail(ctx context.Context, gatewayID int64, mailboxID, messageID, fingerprint string) (prev *MailIntake, reused bool, err error) {
	if err := s.q.MailIntakeLock(ctx, "mailbox "+strconv.FormatInt(gatewayID, 10)+" "+mailboxID); err != nil {
		return nil, false, dbError(err, "mail", mailboxID)
	}
	var mid *string
	if messageID != "" {
		mid = &messageID
		if err := s.q.MailIntakeLock(ctx, "message "+messageID); err != nil {
			return nil, false, dbError(err, "mail", mailboxID)
		}
	}
	row, err := s.q.MailIntakeFind(ctx, dbsqlc.MailIntakeFindParams{GatewayID: gatewayID, MailboxID: mailboxID, MessageID: mid,
		Fingerprint: fingerprint})
	if errors.Is(err, pgx.ErrNoRows) {
		if mid == nil {
			return nil, false, nil
		}
		reused, err := s.q.MailIntakeMessageIDTaken(ctx, messageID)
		return nil, reused, dbError(err, "mail", mailboxID)
	} else if err != nil {
		return nil, false, dbError(err, "mail", mailboxID)
	}
	m := &MailIntake{GatewayID: row.GatewayID, MailboxID: row.MailboxID, Fingerprint: row.Fingerprint, Outcome: row.Outcome,
		Reason: row.Reason}
	if row.MessageID != nil {
		m.MessageID = *row.MessageID
	}
	if row.TicketID != nil {
		m.TicketID = *row.TicketID
	}
	if row.IncomingEmailID != nil {
		m.IncomingEmailID = *row.IncomingEmailID
	}
	return m, false, nil
}

// RecordMail records what became of a mail (in the transaction of what it
// became, after LockMail).
func (s *Store) RecordMail(ctx context.Context, m MailIntake) error {
	err := s.q.MailIntakeInsert(ctx, dbsqlc.MailIntakeInsertParams{GatewayID: m.GatewayID, MailboxID: m.MailboxID,
		MessageID: nonEmpty(m.MessageID), Fingerprint: m.Fingerprint, Outcome: m.Outcome, Reason: m.Reason, TicketID: optionalID(m.TicketID),
		IncomingEmailID: optionalID(m.IncomingEmailID)})
	return dbError(err, "mail", m.MailboxID)
}

// NewIncomingEmail is a mail for staff to handle (Incoming emails).
type NewIncomingEmail struct {
	GatewayID, DepartmentID int64
	FromAddress, FromName   string
	Subject, Body           string
	MessageID               string
	Reason, Detail          string
	Raw                     []byte
}

// AddIncomingEmail stores a mail under Incoming emails and returns its id.
func (s *Store) AddIncomingEmail(ctx context.Context, in NewIncomingEmail) (int64, error) {
	id, err := s.q.IncomingEmailInsert(ctx, dbsqlc.IncomingEmailInsertParams{GatewayID: in.GatewayID,
		DepartmentID: in.DepartmentID, FromAddress: in.FromAddress, FromName: in.FromName, Subject: in.Subject,
		Body: in.Body, MessageID: nonEmpty(in.MessageID), Reason: in.Reason, Detail: in.Detail, Raw: in.Raw})
	return id, dbError(err, "incoming email", "")
}

// MailSender is a user or a payer whose email is a mail's sender address:
// UserID is 0 for a payer.
type MailSender struct{ UserID, CustomerID int64 }

// MailSenders returns the users, then the payers (of customers not
// deleted), whose email is address, compared case-insensitively: a user's
// confirmed email (email_verified), a verified payer's email. An address
// nobody confirmed is not theirs yet: a client can give a user or a payer
// anyone's address, and the mail of that address must not become the
// client's tickets.
func (s *Store) MailSenders(ctx context.Context, address string) ([]MailSender, error) {
	rows, err := s.q.MailSenders(ctx, strings.TrimSpace(address))
	if err != nil {
		return nil, dbError(err, "user", "")
	}
	out := make([]MailSender, len(rows))
	for i, r := range rows {
		out[i] = MailSender{UserID: r.UserID, CustomerID: r.CustomerID}
	}
	return out, nil
}

// MailTicketByToken returns the ticket id whose reply token is token and
// whose customer is customerID; 0 if there is none (a forged or stale
// reference, or another customer's ticket).
func (s *Store) MailTicketByToken(ctx context.Context, id int64, token string, customerID int64) (int64, error) {
	row, err := s.q.MailTicketToken(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	} else if err != nil {
		return 0, dbError(err, "ticket", id)
	}
	if token == "" || row.ReplyToken != token || row.CustomerID != customerID {
		return 0, nil
	}
	return row.ID, nil
}

// MailThreadTicket returns the ticket of customerID that one of the
// Message-IDs ids names (a message stored from that mail, or a notice
// about the ticket sent with it); 0 if none does.
func (s *Store) MailThreadTicket(ctx context.Context, customerID int64, ids []string) (int64, error) {
	if len(ids) == 0 {
		return 0, nil
	}
	id, err := s.q.MailThreadTicket(ctx, dbsqlc.MailThreadTicketParams{CustomerID: customerID, Ids: ids})
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return id, dbError(err, "ticket", "")
}

// LockMailAddress serialises, to the end of the transaction, what concerns
// the mail address: a mail's intake deciding who sent it, a user confirming
// it (api's senderConfirmed) and the auto-answers to it, so that a mail
// read while its address is confirmed is never filed as an unknown
// sender's after the confirmation took the waiting ones.
func (s *Store) LockMailAddress(ctx context.Context, address string) error {
	return dbError(s.q.MailSenderLock(ctx, address), "mail", address)
}

// LockMailSender serialises the auto-answers to address to the end of the
// transaction and returns how many gateway notices went to it since since.
func (s *Store) LockMailSender(ctx context.Context, address string, since time.Time) (int, error) {
	if err := s.q.MailSenderLock(ctx, address); err != nil {
		return 0, dbError(err, "notice", "")
	}
	n, err := s.q.MailAnswersSince(ctx, dbsqlc.MailAnswersSinceParams{Address: address, Since: since})
	return int(n), dbError(err, "notice", "")
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}
