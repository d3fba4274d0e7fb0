package activities

import (
	"context"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store"
)

// ProcessMailInput is one mail fetched from a gateway's mailbox.
type ProcessMailInput struct {
	Gateway billing.MailGateway
	// MailboxID is the mail's identity in the mailbox: "UIDVALIDITY:UID"
	// for IMAP, the UIDL for POP3 (fetch.Message.ID).
	MailboxID string
	Raw       []byte
	// TooLargeBytes, if not 0, is the size of a mail over the gateway's
	// MaxMessageBytes: Raw is nil, and the mail goes to Incoming emails
	// (too_large) with what its headers say, if the poll could read them.
	TooLargeBytes int64
}

// ProcessMailResult says what became of a mail.
type ProcessMailResult struct {
	// Outcome: ticket, message, incoming, ignored, duplicate.
	Outcome  string
	TicketID int64
	// IncomingEmailID is the row of "Incoming emails" it went to, if any.
	IncomingEmailID int64
	// Reason says why (ignored: not addressed to the gateway, empty,
	// auto-generated; incoming: unknown sender, not unique, malformed).
	Reason string
}

// ProcessMail turns one mail into a ticket, a message of a ticket, an
// incoming email for staff, or nothing, exactly once per (gateway,
// MailboxID) and per Message-ID, and queues the gateway notices. The poll
// marks the mail processed on the server only after it returns.
// (The seam the poll calls; the intake work fills it in.)
func (a *Activities) ProcessMail(ctx context.Context, in ProcessMailInput) (ProcessMailResult, error) {
	return ProcessMailResult{Outcome: "ignored", Reason: "not built yet"}, nil
}

// QueueMailNotice queues, in tx, one gateway notice (ticket_from_email,
// incident_required, email_confirmation, email_confirmed,
// email_not_unique) to the address to, not a user: the sender of a mail,
// at most once per key, and never to a sender over the auto-answer rate
// limit. (The seam the incoming-emails work calls; the intake work fills
// it in.)
func QueueMailNotice(ctx context.Context, tx *store.Store, event, to, key string, vars map[string]string, defaultLanguage string) error {
	return nil
}
