package activities

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/mailgateway/inbound"
	"github.com/tempobill/billing/notices"
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

// Outcomes of ProcessMail.
const (
	MailTicket    = "ticket"    // a new ticket
	MailMessage   = "message"   // a post to the sender's ticket it answers
	MailIncoming  = "incoming"  // Incoming emails, for staff
	MailIgnored   = "ignored"   // nothing (Reason says why)
	MailDuplicate = "duplicate" // taken before; Reason names what it became then
)

// MaxAutoAnswersPerHour bounds the gateway notices (notices.MailSenderEvents)
// to one address in an hour, so that the gateway and another robot never
// answer each other for ever.
const MaxAutoAnswersPerHour = 5

// ReasonIncidentRequired is the reason of a mail ignored because its
// department takes tickets only against an incident the client does not
// have: no ticket is opened, and the sender gets incident_required.
const ReasonIncidentRequired = "incident required"

// mailLimits are what Parse accepts from gateway g: the gateway's size; the
// ticket rules judge each attachment afterwards (mailAttachments), so that
// one file too large is left out rather than the whole mail refused.
func mailLimits(g billing.MailGateway) inbound.Limits {
	return inbound.Limits{MaxSize: g.MaxMessageBytes, MaxAttachments: 100}
}

// ProcessMail turns one mail into a ticket, a message of a ticket, an
// incoming email for staff, or nothing, exactly once per (gateway,
// MailboxID) and per Message-ID (with what the mail says: two mails a
// broken client gave one Message-ID are two), and queues the gateway notices. The poll
// marks the mail processed on the server only after it returns.
//
// Everything happens in one transaction that also records the mail in
// mail_intake, under locks on its mailbox identity and its Message-ID: a
// retried or concurrent call finds the row and returns MailDuplicate with
// what the mail became. The rules, in order:
//  1. too large (TooLargeBytes, or Parse says so) → incoming too_large;
//     unreadable → incoming malformed, the raw mail kept;
//  2. not addressed to the gateway (To/Cc) → ignored, and its Message-ID
//     is not claimed (another gateway it was sent to takes it); empty →
//     ignored; auto-generated (a bounce, a list, a vacation reply) →
//     ignored, never answered;
//  3. the From address is matched case-insensitively against users' and
//     payers' emails: none → incoming unknown_sender + email_confirmation;
//     users or payers of several customers → incoming not_unique +
//     email_not_unique; a payer's alone → the customer's, with no user;
//  4. a ticket of the sender's customer that the mail answers (a
//     reference with the ticket's reply token, or an In-Reply-To/References
//     id equal to a stored mail's or a notice's Message-ID; never the
//     subject) → a post to it; else a new ticket in the gateway's
//     department + ticket_from_email; a department that requires an
//     incident the client lacks → no ticket, ignored (ReasonIncidentRequired)
//     + incident_required.
//
// Attachments the ticket rules refuse are left out with a line in the
// message saying which and why. The staff notices go as for the API.
func (a *Activities) ProcessMail(ctx context.Context, in ProcessMailInput) (ProcessMailResult, error) {
	g := in.Gateway
	var msg inbound.Message
	var perr error
	if in.TooLargeBytes == 0 {
		msg, perr = inbound.Parse(in.Raw, mailLimits(g))
	} else if len(in.Raw) > 0 {
		msg, _ = inbound.Parse(in.Raw, inbound.Limits{}) // the headers the poll could read
	}
	addressed := in.TooLargeBytes > 0 || perr != nil || inbound.Addressed(msg, g.Address)
	mid := msg.MessageID
	if !addressed {
		mid = "" // not this gateway's mail: a gateway it was sent to takes it
	}
	fp := mailFingerprint(msg)
	var res ProcessMailResult
	err := a.Store.Tx(ctx, func(tx *store.Store) error {
		prev, reused, err := tx.LockMail(ctx, g.ID, in.MailboxID, mid, fp)
		if err != nil || prev != nil {
			if prev != nil {
				res = duplicateResult(*prev)
			}
			return err
		}
		m := msg
		if reused {
			// Another mail has this Message-ID (a broken client): this one
			// is taken as a mail without one, so that the ticket store does
			// not take it for the other.
			m.MessageID = ""
		}
		r, dup, err := a.intake(ctx, tx, in, m, perr, addressed)
		if err != nil {
			return err
		}
		rec := store.MailIntake{GatewayID: g.ID, MailboxID: in.MailboxID, MessageID: mid, Fingerprint: fp, Outcome: r.Outcome,
			Reason: r.Reason, TicketID: r.TicketID, IncomingEmailID: r.IncomingEmailID}
		res = r
		if dup {
			res = duplicateResult(rec)
		}
		return tx.RecordMail(ctx, rec)
	})
	if err != nil {
		return ProcessMailResult{}, err
	}
	return res, nil
}

// mailFingerprint is a digest of what a mail says (its sender, subject,
// date, text and files): the same for one mail in however many mailboxes
// (only their trace headers differ), different for two mails a broken
// client gave one Message-ID, so that neither is lost as a duplicate.
func mailFingerprint(msg inbound.Message) string {
	h := sha256.New()
	field := func(b []byte) {
		fmt.Fprintf(h, "%d:", len(b))
		h.Write(b)
	}
	field([]byte(msg.From.Address))
	field([]byte(msg.Subject))
	field([]byte(strconv.FormatInt(msg.Date.Unix(), 10)))
	field([]byte(msg.Text))
	for _, at := range msg.Attachments {
		field([]byte(at.Filename))
		field(at.Data)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// duplicateResult is what ProcessMail returns for a mail taken before.
func duplicateResult(m store.MailIntake) ProcessMailResult {
	reason := m.Outcome
	if m.Reason != "" {
		reason += ": " + m.Reason
	}
	return ProcessMailResult{Outcome: MailDuplicate, TicketID: m.TicketID, IncomingEmailID: m.IncomingEmailID, Reason: reason}
}

// intake applies the rules (see ProcessMail) to a mail not taken before.
// dup: the ticket store had the Message-ID already (a mail staff posted
// by hand, say): nothing was written but the intake row.
func (a *Activities) intake(ctx context.Context, tx *store.Store, in ProcessMailInput, msg inbound.Message, perr error,
	addressed bool) (ProcessMailResult, bool, error) {
	g := in.Gateway
	from := msg.From.Address
	incoming := func(reason, detail string, raw []byte) (ProcessMailResult, bool, error) {
		id, err := tx.AddIncomingEmail(ctx, store.NewIncomingEmail{GatewayID: g.ID, DepartmentID: g.DepartmentID,
			FromAddress: from, FromName: msg.From.Name, Subject: msg.Subject, Body: msg.Text, MessageID: msg.MessageID,
			Reason: reason, Detail: detail, Raw: raw})
		return ProcessMailResult{Outcome: MailIncoming, IncomingEmailID: id, Reason: reason}, false, err
	}
	ignored := func(reason string) (ProcessMailResult, bool, error) {
		return ProcessMailResult{Outcome: MailIgnored, Reason: reason}, false, nil
	}
	switch {
	case in.TooLargeBytes > 0:
		return incoming(billing.IncomingTooLarge, fmt.Sprintf("the mail is %d bytes, over the gateway's limit of %d bytes",
			in.TooLargeBytes, g.MaxMessageBytes), nil)
	case errors.Is(perr, inbound.ErrTooLarge):
		return incoming(billing.IncomingTooLarge, perr.Error(), nil)
	case perr != nil:
		return incoming(billing.IncomingMalformed, perr.Error(), in.Raw)
	case !addressed:
		return ignored("not addressed to " + g.Address)
	case inbound.Empty(msg):
		return ignored("empty")
	}
	if auto, why := inbound.AutoGenerated(msg); auto {
		return ignored("auto-generated: " + why)
	}
	dept, err := tx.Department(ctx, g.DepartmentID)
	if err != nil {
		return ProcessMailResult{}, false, err
	}
	mailVars := map[string]string{"[MAIL_SUBJECT]": msg.Subject, "[DEPARTMENT]": dept.Name}
	// Under the address's lock, taken by a user confirming it too: a mail
	// read meanwhile waits and sees the confirmation.
	if err := tx.LockMailAddress(ctx, from); err != nil {
		return ProcessMailResult{}, false, err
	}
	senders, err := tx.MailSenders(ctx, from)
	if err != nil {
		return ProcessMailResult{}, false, err
	}
	customers := map[int64]bool{}
	for _, s := range senders {
		customers[s.CustomerID] = true
	}
	switch len(customers) {
	case 0:
		r, _, err := incoming(billing.IncomingUnknownSender, "", nil)
		if err != nil {
			return r, false, err
		}
		v := maps.Clone(mailVars)
		v["[REGISTER_URL]"] = strings.TrimRight(a.PublicURL, "/") + "/register?email=" + url.QueryEscape(from)
		// Once a day per address: a stranger who writes ten times is invited once.
		key := strings.ToLower(from) + ":" + time.Now().UTC().Format(time.DateOnly)
		return r, false, QueueMailNotice(ctx, tx, notices.EventEmailConfirmation, from, key, v, a.DefaultLanguage)
	case 1:
	default:
		r, _, err := incoming(billing.IncomingNotUnique, fmt.Sprintf("the address is the email of users or payers of %d clients", len(customers)), nil)
		if err != nil {
			return r, false, err
		}
		return r, false, QueueMailNotice(ctx, tx, notices.EventEmailNotUnique, from, "incoming:"+strconv.FormatInt(r.IncomingEmailID, 10),
			mailVars, a.DefaultLanguage)
	}
	sender := senders[0]
	ticketID, err := mailThread(ctx, tx, msg, sender.CustomerID)
	if err != nil {
		return ProcessMailResult{}, false, err
	}
	files, notes := mailAttachments(msg.Attachments)
	author := billing.TicketAuthor{UserID: sender.UserID, Email: from, Name: msg.From.Name, Source: billing.SourceEmail,
		MailMessageID: msg.MessageID}
	if ticketID != 0 {
		body := cmp.Or(msg.Reply, msg.Text)
		ch, err := tx.PostTicketMessage(ctx, store.NewTicketMessage{TicketID: ticketID, Kind: billing.MessageFromClient,
			Body: mailBody(body, notes), Attachments: files, Author: author}, nil)
		if err != nil {
			return ProcessMailResult{}, false, err
		}
		r := ProcessMailResult{Outcome: MailMessage, TicketID: ch.Ticket.ID}
		if ch.Duplicate {
			return r, true, nil
		}
		return r, false, QueueTicketNotices(ctx, tx, TicketNotice{Ticket: ch.Ticket, Message: ch.Message,
			PanelURL: a.PublicURL, MailFrom: a.MailFrom}, a.DefaultLanguage)
	}
	ch, err := tx.OpenTicket(ctx, store.NewTicket{CustomerID: sender.CustomerID, DepartmentID: g.DepartmentID,
		Subject: mailSubject(msg.Subject), Body: mailBody(msg.Text, notes), Attachments: files, Author: author})
	if billing.IsIncidentRequired(err) {
		cust, cerr := tx.Customer(ctx, sender.CustomerID)
		if cerr != nil {
			return ProcessMailResult{}, false, cerr
		}
		v := maps.Clone(mailVars)
		v["[CUSTOMER_NAME]"] = cust.Name
		key := "mail:" + cmp.Or(msg.MessageID, strconv.FormatInt(g.ID, 10)+":"+in.MailboxID)
		r, _, _ := ignored(ReasonIncidentRequired)
		return r, false, QueueMailNotice(ctx, tx, notices.EventIncidentRequired, from, key, v, a.DefaultLanguage)
	}
	if err != nil {
		return ProcessMailResult{}, false, err
	}
	r := ProcessMailResult{Outcome: MailTicket, TicketID: ch.Ticket.ID}
	if ch.Duplicate {
		if ch.Ticket.ID != 0 && ch.Message != nil && ch.Message.ID != 0 {
			// The Message-ID is a post of an existing ticket.
			r.Outcome = MailMessage
		}
		return r, true, nil
	}
	if err := QueueTicketNotices(ctx, tx, TicketNotice{Ticket: ch.Ticket, Message: ch.Message, Opened: true,
		PanelURL: a.PublicURL, MailFrom: a.MailFrom}, a.DefaultLanguage); err != nil {
		return r, false, err
	}
	if sender.UserID == 0 {
		// A payer is no user: ticket_from_email goes to users, and the
		// ticket's answers go to the customer's users as for any ticket.
		return r, false, nil
	}
	return r, false, a.queueTicketFromEmail(ctx, tx, ch.Ticket, dept, sender.UserID, from, msg)
}

// queueTicketFromEmail tells the user who wrote the mail that it became
// ticket t, threaded like ticket_reply, within the auto-answer rate limit.
func (a *Activities) queueTicketFromEmail(ctx context.Context, tx *store.Store, t billing.Ticket, dept billing.Department,
	userID int64, from string, msg inbound.Message) error {
	if n, err := tx.LockMailSender(ctx, from, time.Now().Add(-time.Hour)); err != nil || n >= MaxAutoAnswersPerHour {
		return err
	}
	th := newTicketThread(t, msg.MessageID, a.MailFrom, dept)
	vars := map[string]string{"[MAIL_SUBJECT]": msg.Subject, "[TICKET_ID]": strconv.FormatInt(t.ID, 10),
		"[TICKET_SUBJECT]": t.Subject, "[DEPARTMENT]": dept.Name, "[MESSAGE_TEXT]": "", "[TICKET_URL]": TicketURL(a.PublicURL, t.ID),
		"[TICKET_STATUS]": t.Status}
	return queueThreaded(ctx, tx, SendEventInput{Event: notices.EventTicketFromEmail, CustomerID: t.CustomerID,
		ObjectType: notices.ObjectTicket, ObjectID: strconv.FormatInt(t.ID, 10), Key: "mail", Vars: vars,
		UserIDs: []int64{userID}}, th, a.DefaultLanguage)
}

// mailThread returns the ticket of customerID that msg answers: one its
// ticket references name with the ticket's own reply token, or one whose
// stored mail or notice has a Message-ID in In-Reply-To or References;
// never by the subject. 0 if none.
func mailThread(ctx context.Context, tx *store.Store, msg inbound.Message, customerID int64) (int64, error) {
	for _, ref := range inbound.TicketRefs(msg) {
		id, err := tx.MailTicketByToken(ctx, ref.TicketID, ref.Token, customerID)
		if err != nil || id != 0 {
			return id, err
		}
	}
	ids := slices.Concat(msg.InReplyTo, msg.References)
	return tx.MailThreadTicket(ctx, customerID, ids)
}

// mailAttachments returns the files of a mail the ticket rules take, and a
// line for each one left out saying why.
func mailAttachments(atts []inbound.Attachment) ([]billing.AttachmentUpload, []string) {
	var files []billing.AttachmentUpload
	var notes []string
	total := 0
	for _, at := range atts {
		f := billing.AttachmentUpload{Name: at.Filename, ContentType: at.ContentType, Content: at.Data}
		why := ""
		switch {
		case len(files) == billing.MaxTicketAttachments:
			why = fmt.Sprintf("a message takes at most %d files", billing.MaxTicketAttachments)
		case total+len(f.Content) > billing.MaxTicketAttachmentsSize && len(f.Content) <= billing.MaxTicketAttachmentSize:
			why = "a message's files can take at most 10 MiB together"
		default:
			if _, err := billing.CheckAttachments([]billing.AttachmentUpload{f}); err != nil {
				why = attachmentProblem(err)
			}
		}
		if why != "" {
			notes = append(notes, fmt.Sprintf("[The attached file %q was left out: %s.]", at.Filename, why))
			continue
		}
		files = append(files, f)
		total += len(f.Content)
	}
	return files, notes
}

// attachmentProblem is what CheckAttachments says of one file.
func attachmentProblem(err error) string {
	var e *billing.Error
	if errors.As(err, &e) && len(e.Fields) > 0 {
		keys := slices.Sorted(maps.Keys(e.Fields))
		return strings.TrimSuffix(e.Fields[keys[0]], ".")
	}
	return err.Error()
}

// mailBody is a mail's text as a ticket message, with the notes about the
// files left out, within the longest message body.
func mailBody(text string, notes []string) string {
	body := strings.TrimSpace(text)
	if body == "" {
		body = "(The mail has no text; see the attached files.)"
	}
	if len(notes) > 0 {
		body += "\n\n" + strings.Join(notes, "\n")
	}
	return truncateRunes(body, billing.MaxTicketBody)
}

// mailSubject is a mail's subject as a ticket's.
func mailSubject(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return "(no subject)"
	}
	return truncateRunes(s, 200)
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// defaultLang is defaultLanguage, for QueueMailNotice whose parameter hides it.
var defaultLang = defaultLanguage

// QueueMailNotice queues, in tx, one gateway notice (ticket_from_email,
// incident_required, email_confirmation, email_confirmed,
// email_not_unique) to the address to, not a user: the sender of a mail,
// at most once per key, and never to a sender over the auto-answer rate
// limit. (The seam the incoming-emails work calls; the intake work fills
// it in.)
//
// The notice names neither a customer nor a staff member (clients never
// list it), is about the address (notices.ObjectMailSender), in the
// default language; [EMAIL] is to unless vars say otherwise. An event
// that does not go to a sender address is EINVALID; an address that had
// MaxAutoAnswersPerHour gateway notices in the last hour gets none.
func QueueMailNotice(ctx context.Context, tx *store.Store, event, to, key string, vars map[string]string, defaultLanguage string) error {
	fallback := defaultLanguage
	e, err := notices.Lookup(event)
	if err != nil {
		return err
	}
	if e.Audience != notices.AudienceMailSender {
		return billing.Errorf(billing.EINVALID, "the event %s does not go to the sender of a mail", event)
	}
	to = strings.ToLower(strings.Trim(strings.TrimSpace(to), "<>"))
	if to == "" {
		return nil
	}
	if n, err := tx.LockMailSender(ctx, to, time.Now().Add(-time.Hour)); err != nil || n >= MaxAutoAnswersPerHour {
		return err
	}
	lang, err := defaultLang(ctx, tx, fallback)
	if err != nil {
		return err
	}
	ts, err := tx.MessageTemplates(ctx)
	if err != nil {
		return err
	}
	c := notices.Catalog{Custom: map[notices.TemplateKey]billing.MessageTemplate{}}
	for _, t := range ts {
		c.Custom[notices.Key(t)] = t
	}
	tpl, ok := c.Find(event, billing.ChannelEmail, notices.Languages("", "", lang))
	if !ok {
		return nil
	}
	v := maps.Clone(vars)
	if v == nil {
		v = map[string]string{}
	}
	if _, ok := v["[EMAIL]"]; !ok {
		v["[EMAIL]"] = to
	}
	m := notices.RenderTemplate(tpl, to, v)
	until := time.Now().Add(24 * time.Hour)
	n := billing.Notice{Event: event, ObjectType: notices.ObjectMailSender, ObjectID: to, RetryUntil: &until}
	fillNotice(&n, m)
	_, _, err = tx.QueueNotice(ctx, "mail:"+event+":"+key, n)
	return err
}
