package activities

import (
	"context"
	"crypto/sha256"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/notices"
	"github.com/tempobill/billing/store"
)

// TicketNotice is what happened to a ticket that its notices tell.
type TicketNotice struct {
	Ticket billing.Ticket
	// Message is the new message, if any (a client's post, a staff answer,
	// an internal note).
	Message *billing.TicketMessage
	// Opened: the ticket is new.
	Opened bool
	// Assigned: the ticket was just assigned to Ticket.AssigneeID.
	Assigned bool
	// Moved: the ticket just moved to Ticket.DepartmentID; unassigned
	// there, it is new to that department's members.
	Moved bool
	// ByStaffID is the staff member who did it (0: a client or the system):
	// never notified of their own action.
	ByStaffID int64
	// PanelURL is the address of the panel: [TICKET_URL] is
	// <PanelURL>/tickets/<id> (a relative link if empty).
	PanelURL string
	// MailFrom is the sender address (MAIL_FROM) whose domain the
	// threading Message-IDs carry ("billing" if empty).
	MailFrom string
}

// QueueTicketNotices queues, in tx (the transaction of the change), the
// notices of n, each at most once per (event, ticket, message, recipient)
// (an assignment's once per assignment: assigned again, told again):
//   - to the client's users, ticket_reply for a staff answer (never for an
//     internal note): to the users who posted in the ticket, or all users
//     if none did, each in their language;
//   - to staff, by email in the default language, per their notification
//     settings, never to n.ByStaffID nor to a disabled member:
//     ticket_assigned to the department's members for a new ticket and to
//     the assignee for an assignment, and to the members of the
//     department a ticket moved to if nobody is assigned; ticket_client_post (a client's post)
//     and ticket_staff_post (a staff answer or an internal note) to the
//     assignee if the ticket has one who is still an active member of its
//     department, else to the department's members. A new ticket's first
//     post is told by ticket_assigned only. Only members of the ticket's
//     department are told.
//
// Every mail carries the ticket's threading headers (ticketThread).
// (The seam the ticket API calls.)
func QueueTicketNotices(ctx context.Context, tx *store.Store, n TicketNotice, fallbackLanguage string) error {
	t := n.Ticket
	q, err := newTicketQueue(ctx, tx, t.DepartmentID, fallbackLanguage)
	if err != nil {
		return err
	}
	cust, err := tx.Customer(ctx, t.CustomerID)
	if err != nil {
		return err
	}
	var msgID int64
	answered := ""
	if n.Message != nil {
		msgID = n.Message.ID
		if answered, err = tx.TicketAnsweredMail(ctx, t.ID, msgID); err != nil {
			return err
		}
	}
	th := newTicketThread(t, answered, n.MailFrom, q.dept)
	author, err := ticketAuthor(ctx, tx, n, cust)
	if err != nil {
		return err
	}
	vars := map[string]string{"[CUSTOMER_NAME]": cust.Name, "[TICKET_ID]": strconv.FormatInt(t.ID, 10),
		"[TICKET_SUBJECT]": t.Subject, "[DEPARTMENT]": q.dept.Name, "[TICKET_URL]": TicketURL(n.PanelURL, t.ID),
		"[TICKET_STATUS]": t.Status, "[AUTHOR]": author, "[MESSAGE_TEXT]": "", "[POST_KIND]": "answer"}
	if n.Message != nil {
		vars["[MESSAGE_TEXT]"] = n.Message.Body
		if n.Message.Kind == billing.MessageNote {
			vars["[POST_KIND]"] = "internal note"
		}
	}
	if n.Message != nil && n.Message.Kind == billing.MessageFromStaff {
		if err := queueTicketReply(ctx, tx, t, msgID, vars, author, th, fallbackLanguage); err != nil {
			return err
		}
	}
	key := func(event string, staffID int64) string {
		return fmt.Sprintf("ticket:%s:%d:%d:staff:%d", event, t.ID, msgID, staffID)
	}
	ticketNotice := func(billing.Staff) billing.Notice {
		return billing.Notice{ObjectType: notices.ObjectTicket, ObjectID: strconv.FormatInt(t.ID, 10)}
	}
	// The assignee handles the ticket while an active member of its
	// department; one who left it (or was disabled) can't see it, and the
	// department hears instead.
	handlers := q.dept.StaffIDs
	if t.AssigneeID != nil {
		member, err := tx.IsActiveMember(ctx, *t.AssigneeID, t.DepartmentID)
		if err != nil {
			return err
		}
		if member {
			handlers = []int64{*t.AssigneeID}
		}
	}
	var sends []staffSend
	if n.Opened {
		sends = append(sends, staffSend{notices.EventTicketAssigned, q.dept.StaffIDs, key})
	}
	if n.Moved && t.AssigneeID == nil {
		// A new ticket to the department it joined, once per move.
		at := t.UpdatedAt.UnixMicro()
		sends = append(sends, staffSend{notices.EventTicketAssigned, q.dept.StaffIDs, func(event string, staffID int64) string {
			return fmt.Sprintf("ticket:%s:%d:%d:moved:%d:%d:staff:%d", event, t.ID, msgID, t.DepartmentID, at, staffID)
		}})
	}
	if n.Assigned && t.AssigneeID != nil {
		// Once per assignment, not once per ticket: the ticket assigned
		// to John, then Gary, then John again tells John twice. The
		// change's time (updated_at, the transaction's) tells them apart.
		at := t.UpdatedAt.UnixMicro()
		sends = append(sends, staffSend{notices.EventTicketAssigned, []int64{*t.AssigneeID}, func(event string, staffID int64) string {
			return fmt.Sprintf("ticket:%s:%d:%d:assigned:%d:staff:%d", event, t.ID, msgID, at, staffID)
		}})
	}
	if n.Message != nil && !n.Opened {
		event := notices.EventTicketStaffPost
		if n.Message.Kind == billing.MessageFromClient {
			event = notices.EventTicketClientPost
		}
		sends = append(sends, staffSend{event, handlers, key})
	}
	never := []int64{n.ByStaffID}
	if n.Message != nil && n.Message.AuthorStaffID != nil {
		never = append(never, *n.Message.AuthorStaffID)
	}
	for _, s := range sends {
		if err := q.queue(ctx, s.event, staffExcept(s.ids, never), vars, s.key, ticketNotice, &th); err != nil {
			return err
		}
	}
	return nil
}

// QueueTaskCreated queues, in tx (the transaction that created t), the
// task_created notice to every member of t's department but its creator,
// per their notification settings, at most once per task and member.
// (The seam the task API calls.)
func QueueTaskCreated(ctx context.Context, tx *store.Store, t billing.Task, fallbackLanguage string) error {
	q, err := newTicketQueue(ctx, tx, t.DepartmentID, fallbackLanguage)
	if err != nil {
		return err
	}
	author := ""
	if t.CreatedByID != 0 {
		s, err := tx.StaffMember(ctx, t.CreatedByID)
		if err != nil {
			return err
		}
		author = s.Name
	}
	vars := map[string]string{"[AUTHOR]": author, "[TASK_ID]": strconv.FormatInt(t.ID, 10), "[TASK_TITLE]": t.Title,
		"[TASK_DESCRIPTION]": t.Description, "[TASK_DUE]": "no due date", "[DEPARTMENT]": q.dept.Name,
		"[TICKET_ID]": "", "[CUSTOMER_NAME]": ""}
	if t.DueAt != nil {
		vars["[TASK_DUE]"] = t.DueAt.UTC().Format("2006-01-02 15:04 MST")
	}
	if t.TicketID != nil {
		vars["[TICKET_ID]"] = strconv.FormatInt(*t.TicketID, 10)
	}
	if t.CustomerID != nil {
		c, err := tx.Customer(ctx, *t.CustomerID)
		if err != nil {
			return err
		}
		vars["[CUSTOMER_NAME]"] = c.Name
	}
	key := func(event string, staffID int64) string {
		return fmt.Sprintf("task:%s:%d:staff:%d", event, t.ID, staffID)
	}
	notice := func(billing.Staff) billing.Notice {
		return billing.Notice{ObjectType: notices.ObjectTask, ObjectID: strconv.FormatInt(t.ID, 10)}
	}
	return q.queue(ctx, notices.EventTaskCreated, staffExcept(q.dept.StaffIDs, []int64{t.CreatedByID}), vars, key, notice, nil)
}

// TicketURL is the link to ticket id in the panel at panelURL.
func TicketURL(panelURL string, id int64) string {
	return strings.TrimRight(panelURL, "/") + "/tickets/" + strconv.FormatInt(id, 10)
}

// staffSend is one staff event for some staff members.
type staffSend struct {
	event string
	ids   []int64
	key   func(event string, staffID int64) string
}

// ticketQueue queues the staff notices of one department.
type ticketQueue struct {
	tx      *store.Store
	dept    billing.Department
	catalog notices.Catalog
	langs   []string
}

func newTicketQueue(ctx context.Context, tx *store.Store, departmentID int64, fallbackLanguage string) (ticketQueue, error) {
	dept, err := tx.Department(ctx, departmentID)
	if err != nil {
		return ticketQueue{}, err
	}
	lang, err := defaultLanguage(ctx, tx, fallbackLanguage)
	if err != nil {
		return ticketQueue{}, err
	}
	ts, err := tx.MessageTemplates(ctx)
	if err != nil {
		return ticketQueue{}, err
	}
	c := notices.Catalog{Custom: map[notices.TemplateKey]billing.MessageTemplate{}}
	for _, t := range ts {
		c.Custom[notices.Key(t)] = t
	}
	// Staff have no language of their own: the default language's texts.
	return ticketQueue{tx: tx, dept: dept, catalog: c, langs: notices.Languages("", "", lang)}, nil
}

// queue queues event by email to those of ids who are members of the
// department and whose settings let it, each under key(event, staff ID),
// with vars and [STAFF_NAME] the recipient's name; the notice is
// base(member) completed; th, if set, threads it.
func (q ticketQueue) queue(ctx context.Context, event string, ids []int64, vars map[string]string,
	key func(string, int64) string, base func(billing.Staff) billing.Notice, th *ticketThread) error {
	// Only the department's members: one taken out of it sees its tickets
	// no more, so is told nothing of them either.
	ids = slices.DeleteFunc(slices.Clone(ids), func(id int64) bool { return !slices.Contains(q.dept.StaffIDs, id) })
	staff, err := q.tx.StaffToNotify(ctx, event, ids)
	if err != nil {
		return err
	}
	tpl, ok := q.catalog.Find(event, billing.ChannelEmail, q.langs)
	if !ok {
		return nil
	}
	until := time.Now().Add(24 * time.Hour)
	for _, s := range staff {
		v := maps.Clone(vars)
		v["[STAFF_NAME]"] = s.Name
		m := notices.RenderTemplate(tpl, s.Email, v)
		n := base(s)
		n.StaffID, n.Event, n.RetryUntil = &s.ID, event, &until
		fillNotice(&n, m)
		k := key(event, s.ID)
		if th != nil {
			th.apply(&n, k)
		}
		if _, _, err := q.tx.QueueNotice(ctx, k, n); err != nil {
			return err
		}
	}
	return nil
}

// queueTicketReply queues ticket_reply, a staff answer, to the client's
// users who posted in the ticket (all users if none did).
func queueTicketReply(ctx context.Context, tx *store.Store, t billing.Ticket, msgID int64, vars map[string]string,
	author string, th ticketThread, fallbackLanguage string) error {
	posters, err := tx.TicketClientPosters(ctx, t.ID)
	if err != nil {
		return err
	}
	users, err := tx.Users(ctx, t.CustomerID)
	if err != nil {
		return err
	}
	posters = slices.DeleteFunc(posters, func(id int64) bool {
		return !slices.ContainsFunc(users, func(u billing.User) bool { return u.ID == id })
	})
	v := maps.Clone(vars)
	v["[STAFF_NAME]"] = author
	return queueThreaded(ctx, tx, SendEventInput{Event: notices.EventTicketReply, CustomerID: t.CustomerID,
		ObjectType: notices.ObjectTicket, ObjectID: strconv.FormatInt(t.ID, 10), Key: strconv.FormatInt(msgID, 10),
		Vars: v, UserIDs: posters}, th, fallbackLanguage)
}

// queueThreaded queues, in tx, in's messages to a client's users with the
// ticket's threading headers (th).
func queueThreaded(ctx context.Context, tx *store.Store, in SendEventInput, th ticketThread, fallbackLanguage string) error {
	msgs, err := prepareEvent(ctx, tx, in, fallbackLanguage)
	if err != nil {
		return err
	}
	for _, m := range msgs {
		th.apply(&m.notice, m.key)
		if _, _, err := tx.QueueNotice(ctx, m.key, m.notice); err != nil {
			return err
		}
	}
	return nil
}

// fillNotice completes n with the rendered message m.
func fillNotice(n *billing.Notice, m notices.Message) {
	n.Channel, n.Recipient, n.Language, n.Template = m.Channel, m.To, m.Language, m.Template
	n.Subject, n.Body, n.HTMLBody, n.SenderName, n.ReplyTo = m.Subject, m.Body, m.HTMLBody, m.SenderName, m.ReplyTo
}

// ticketAuthor names who did what n tells: the message's author, else the
// staff member, else the customer.
func ticketAuthor(ctx context.Context, tx *store.Store, n TicketNotice, cust billing.Customer) (string, error) {
	if n.Message != nil && n.Message.AuthorName != "" {
		return n.Message.AuthorName, nil
	}
	staffID := n.ByStaffID
	if n.Message != nil {
		if n.Message.AuthorStaffID != nil {
			staffID = *n.Message.AuthorStaffID
		} else if n.Message.Kind == billing.MessageFromClient {
			staffID = 0
		}
	}
	if staffID != 0 {
		s, err := tx.StaffMember(ctx, staffID)
		if err != nil {
			return "", err
		}
		return s.Name, nil
	}
	return cust.Name, nil
}

// staffExcept returns ids less never, each once.
func staffExcept(ids, never []int64) []int64 {
	var out []int64
	for _, id := range ids {
		if id != 0 && !slices.Contains(never, id) && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// ticketThread is what threads the mails about a ticket, for the incoming
// mail gateway and the recipients' mail programs:
//   - Subject "[Ticket #<id>] <the template's subject>";
//   - Reply-To the department's email, if it has one;
//   - a Message-ID of its own (TicketMessageID), In-Reply-To the message it
//     answers (the client's mail's Message-ID if it came by mail, else the
//     ticket's root id, TicketRootID) and References the root id (and that
//     mail's);
//   - a last body line with the reply token (TicketReference).
type ticketThread struct {
	ticket                                billing.Ticket
	mailFrom, root, inReplyTo, references string
	replyTo, reference, subjectTag, token string
}

func newTicketThread(t billing.Ticket, answeredMail, mailFrom string, dept billing.Department) ticketThread {
	th := ticketThread{ticket: t, mailFrom: mailFrom, replyTo: dept.Email, token: t.ReplyToken,
		reference: TicketReference(t.ID, t.ReplyToken), subjectTag: fmt.Sprintf("[Ticket #%d]", t.ID)}
	th.root = TicketRootID(t.ID, t.ReplyToken, mailFrom)
	th.inReplyTo, th.references = th.root, th.root
	if answeredMail != "" {
		answeredMail = "<" + strings.Trim(answeredMail, "<>") + ">"
		th.inReplyTo, th.references = answeredMail, th.root+" "+answeredMail
	}
	return th
}

// apply gives n, queued under key, the thread's headers, subject and
// reference line.
func (th ticketThread) apply(n *billing.Notice, key string) {
	if !strings.Contains(n.Subject, th.subjectTag) {
		n.Subject = strings.TrimSpace(th.subjectTag + " " + n.Subject)
	}
	if th.replyTo != "" {
		n.ReplyTo = th.replyTo
	}
	n.Body = strings.TrimRight(n.Body, "\n") + "\n\n" + th.reference + "\n"
	if n.HTMLBody != "" {
		n.HTMLBody += "\n<p>" + th.reference + "</p>\n"
	}
	n.MessageID = TicketMessageID(th.ticket.ID, th.token, key, th.mailFrom)
	n.InReplyTo, n.References = th.inReplyTo, th.references
}

// TicketRootID is the Message-ID that threads every mail about a ticket
// (none is sent with it; each mail's References names it):
// <ticket-<id>.<reply token>@<domain of mailFrom, or "billing">>.
func TicketRootID(id int64, token, mailFrom string) string {
	return fmt.Sprintf("<ticket-%d.%s@%s>", id, token, mailDomain(mailFrom))
}

// TicketMessageID is the Message-ID of the mail about ticket id queued
// under key: the root id's parts and a digest of the key, so that a mail
// sent again keeps it and no two mails share one.
func TicketMessageID(id int64, token, key, mailFrom string) string {
	sum := sha256.Sum256([]byte(key))
	return fmt.Sprintf("<ticket-%d.%s.%x@%s>", id, token, sum[:8], mailDomain(mailFrom))
}

// TicketReference is the body line of a mail about ticket id that names it
// and its reply token, for the mail gateway when the headers are lost.
func TicketReference(id int64, token string) string {
	return fmt.Sprintf("Ticket reference: #%d-%s", id, token)
}

// mailDomain is the domain of the address mailFrom, "billing" if it has none.
func mailDomain(mailFrom string) string {
	if i := strings.LastIndex(mailFrom, "@"); i >= 0 && i < len(mailFrom)-1 {
		return strings.Trim(mailFrom[i+1:], "<> ")
	}
	return "billing"
}
