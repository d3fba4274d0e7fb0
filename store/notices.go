package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

func noticeFromRow(r dbsqlc.Notice) billing.Notice {
	return billing.Notice{ID: r.ID, SubscriptionID: r.SubscriptionID, CustomerID: r.CustomerID, Period: r.Period,
		Event: r.Event, Milestone: r.Event, ObjectType: r.ObjectType, ObjectID: r.ObjectID, Channel: r.Channel,
		Recipient: r.Recipient, Language: r.Language, Template: r.Template, Subject: r.Subject,
		Status: r.Status, ProviderMessageID: r.ProviderMessageID, Error: r.Error, Attempts: r.Attempts,
		RetryUntil: r.RetryUntil, CreatedAt: r.CreatedAt, ResendOf: r.ResendOf, Key: r.DedupKey, Body: r.Body,
		HTMLBody: r.HTMLBody, SenderName: r.SenderName, ReplyTo: r.ReplyTo, StaffID: r.StaffID, MessageID: r.MessageID,
		InReplyTo: r.InReplyTo, References: r.MailReferences}
}

// ClaimNotice records that n is about to be sent under dedupKey and reports
// whether the caller should send it: false if it was sent, rejected, is being
// sent, or may not be sent again (an SMS whose outcome is unknown, a horizon
// passed). A notice that failed, or an email whose outcome is unknown, is
// claimed again.
func (s *Store) ClaimNotice(ctx context.Context, dedupKey string, n billing.Notice) (billing.Notice, bool, error) {
	row, err := s.q.NoticeClaim(ctx, dbsqlc.NoticeClaimParams(noticeParams(dedupKey, n)))
	if errors.Is(err, pgx.ErrNoRows) {
		return n, false, nil
	}
	return noticeFromRow(row), err == nil, dbError(err, "notice", dedupKey)
}

func noticeParams(dedupKey string, n billing.Notice) dbsqlc.NoticeQueueParams {
	return dbsqlc.NoticeQueueParams{DedupKey: dedupKey, SubscriptionID: n.SubscriptionID,
		CustomerID: n.CustomerID, StaffID: n.StaffID, Period: n.Period, Event: n.Event, ObjectType: n.ObjectType, ObjectID: n.ObjectID,
		Channel: n.Channel, Recipient: n.Recipient, Language: n.Language, Template: n.Template, Subject: n.Subject,
		Body: n.Body, HTMLBody: n.HTMLBody, SenderName: n.SenderName, ReplyTo: n.ReplyTo, RetryUntil: n.RetryUntil,
		MessageID: n.MessageID, InReplyTo: n.InReplyTo, MailReferences: n.References}
}

// QueueNotice records n under dedupKey as queued: the redelivery sends it
// within a minute. It reports false if the key was recorded before (the
// notice is queued, sent or settled already).
func (s *Store) QueueNotice(ctx context.Context, dedupKey string, n billing.Notice) (billing.Notice, bool, error) {
	row, err := s.q.NoticeQueue(ctx, noticeParams(dedupKey, n))
	if errors.Is(err, pgx.ErrNoRows) {
		return n, false, nil
	}
	return noticeFromRow(row), err == nil, dbError(err, "notice", dedupKey)
}

// Notice returns one notice.
func (s *Store) Notice(ctx context.Context, id int64) (billing.Notice, error) {
	row, err := s.q.NoticeGet(ctx, id)
	if err != nil {
		return billing.Notice{}, dbError(err, "notification", id)
	}
	return noticeFromRow(row), nil
}

// NoticeDepartment returns the department of the ticket or task notice n
// is about; ok is false for a notice about anything else. A ticket or task
// that no longer exists is department 0, which nobody but an admin sees.
func (s *Store) NoticeDepartment(ctx context.Context, n billing.Notice) (id int64, ok bool, err error) {
	table := map[string]string{"ticket": "tickets", "task": "tasks"}[n.ObjectType]
	if table == "" {
		return 0, false, nil
	}
	err = s.db.QueryRow(ctx, "SELECT department_id FROM "+table+" WHERE id = CASE WHEN $1::text ~ '^[0-9]{1,18}$' THEN $1::text::bigint END", n.ObjectID).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, true, nil
	}
	return id, true, dbError(err, "notification", n.ID)
}

// ResendNotice queues a copy of notice id (same recipient, texts and
// Message-ID key of its own: "resend:<id>"), linked to it, retried for
// retry. A notice is resent at most once: a second request is a conflict
// naming the first resend (resend that one if it failed too). Only a notice
// that was not delivered is resent (billing.NoticeResendable, checked under
// a lock on it, so that the redelivery can't send it meanwhile), and the
// original is not sent again by the redelivery: the copy replaces it.
func (s *Store) ResendNotice(ctx context.Context, id int64, retry time.Duration) (billing.Notice, error) {
	var out billing.Notice
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		orig, err := q.NoticeLock(ctx, id)
		if err != nil {
			return err
		}
		if !billing.NoticeResendable(orig.Status, orig.Channel) {
			return billing.NotResendable(id, orig.Status, orig.Channel)
		}
		until := time.Now().Add(retry)
		row, err := q.NoticeResend(ctx, dbsqlc.NoticeResendParams{DedupKey: fmt.Sprintf("resend:%d", id), ID: id,
			RetryUntil: &until})
		if errors.Is(err, pgx.ErrNoRows) {
			first, ferr := q.NoticeResentAs(ctx, id)
			if ferr != nil {
				return ferr
			}
			return billing.Errorf(billing.ECONFLICT, "notification %d was resent already as notification %d", id, first)
		}
		if err != nil {
			return err
		}
		out = noticeFromRow(row)
		return q.NoticeStopRedelivery(ctx, dbsqlc.NoticeStopRedeliveryParams{ID: id, ResendID: out.ID})
	})
	return out, dbError(err, "notification", id)
}

// FinishNotice records how the attempt that claimed a notice (claim, as
// the claim returned it) ended. A notice that failed, or whose outcome is
// unknown, is due again after a back-off: one minute, doubling with each
// attempt, at most 30 minutes. An attempt whose claim was settled as stale
// and taken by another records nothing.
func (s *Store) FinishNotice(ctx context.Context, claim billing.Notice, status, providerID, sendErr string) error {
	err := s.q.NoticeFinish(ctx, dbsqlc.NoticeFinishParams{ID: claim.ID, Attempts: claim.Attempts, Status: status,
		ProviderMessageID: providerID, Error: sendErr})
	return dbError(err, "notice", claim.ID)
}

// ClaimDueNotices claims up to limit notices whose next attempt is due: ones
// that failed, emails whose outcome is unknown, and emails left "sending" by
// an attempt that died (for longer than stale). Claimed rows are "sending"
// until FinishNotice; another redelivery skips them.
// customerID, if not 0, keeps to one customer's notices; staffID, if not
// 0, to one staff member's.
func (s *Store) ClaimDueNotices(ctx context.Context, limit int, stale time.Duration, customerID, staffID int64) ([]billing.Notice, error) {
	rows, err := s.q.NoticeClaimDue(ctx, dbsqlc.NoticeClaimDueParams{Limit: int64(limit), StaleSeconds: stale.Seconds(),
		CustomerID: customerID, StaffID: staffID})
	if err != nil {
		return nil, dbError(err, "notice", "")
	}
	return fromRows(rows, noticeFromRow), nil
}

// SettleStaleNotices closes what can't be sent any more: a failed notice
// whose horizon passed is expired (not sent late); an SMS left "sending" by
// an attempt that died is unknown (never sent twice); an email left
// "sending" past its horizon is unknown. A customerID (staffID) other than
// 0 limits it to that customer's (staff member's) notices. It returns how
// many it changed.
func (s *Store) SettleStaleNotices(ctx context.Context, stale time.Duration, customerID, staffID int64) (int64, error) {
	n, err := s.q.NoticeSettleStale(ctx, dbsqlc.NoticeSettleStaleParams{StaleSeconds: stale.Seconds(), CustomerID: customerID,
		StaffID: staffID})
	return n, dbError(err, "notice", "")
}

// NoticeCounts counts notices by status, for the notification metrics.
func (s *Store) NoticeCounts(ctx context.Context) (map[string]int64, error) {
	rows, err := s.q.NoticeCountByStatus(ctx)
	if err != nil {
		return nil, dbError(err, "notice", "")
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[r.Status] = r.Count
	}
	return out, nil
}

// Notices lists the notices of a subscription, oldest first.
func (s *Store) Notices(ctx context.Context, subscriptionID int64) ([]billing.Notice, error) {
	rows, err := s.q.NoticeList(ctx, subscriptionID)
	if err != nil {
		return nil, dbError(err, "notice", "")
	}
	return fromRows(rows, noticeFromRow), nil
}

// noticeColumns are the columns of a row of the notification log.
const noticeColumns = `id, dedup_key, subscription_id, customer_id, period, event, channel, recipient, template, subject,
	status, provider_message_id, error, created_at, updated_at, body, sender_name, reply_to, attempts, retry_until,
	next_attempt_at, object_type, object_id, language, html_body, resend_of, staff_id, message_id, in_reply_to,
	mail_references`

// Notifications lists the notification log, newest first. Its filters are
// chosen at run time.
func (s *Store) Notifications(ctx context.Context, f billing.NotificationFilter) (billing.Page[billing.Notice], error) {
	var q listQuery
	if f.CustomerID != nil {
		q.filter("customer_id = %s", *f.CustomerID)
	}
	if f.StaffID != nil {
		q.filter("staff_id = %s", *f.StaffID)
	}
	if f.SubscriptionID != nil {
		q.filter("subscription_id = %s", *f.SubscriptionID)
	}
	if f.Departments != nil {
		q.filter(`(object_type NOT IN ('ticket', 'task')
			OR object_type = 'ticket' AND object_id IN (SELECT id::text FROM tickets WHERE department_id = ANY(%s))
			OR object_type = 'task' AND object_id IN (SELECT id::text FROM tasks WHERE department_id = ANY(%s)))`,
			f.Departments, f.Departments)
	}
	if f.Event != "" {
		q.filter("event = %s", f.Event)
	}
	if f.Status != "" {
		q.filter("status = %s", f.Status)
	}
	if f.Channel != "" {
		q.filter("channel = %s", f.Channel)
	}
	if f.Since != nil {
		q.filter("created_at >= %s", *f.Since)
	}
	if f.Until != nil {
		q.filter("created_at < %s", *f.Until)
	}
	p, err := listPage(ctx, s.db, "notices", noticeColumns, q, "created_at DESC, id DESC", f.PageRequest, noticeFromRow)
	return p, dbError(err, "notification", "")
}

// MessageTemplates returns staff's message templates.
func (s *Store) MessageTemplates(ctx context.Context) ([]billing.MessageTemplate, error) {
	rows, err := s.q.MessageTemplateList(ctx)
	if err != nil {
		return nil, dbError(err, "message template", "")
	}
	return fromRows(rows, func(r dbsqlc.MessageTemplate) billing.MessageTemplate {
		return billing.MessageTemplate{Event: r.Event, Channel: r.Channel, Language: r.Language, Subject: r.Subject,
			Body: r.Body, HTMLBody: r.HTMLBody, SenderName: r.SenderName, ReplyTo: r.ReplyTo, Custom: true}
	}), nil
}

// SetMessageTemplates stores staff's templates, all or none.
func (s *Store) SetMessageTemplates(ctx context.Context, ts ...billing.MessageTemplate) error {
	return dbError(s.inTx(ctx, func(q *dbsqlc.Queries) error {
		for _, t := range ts {
			if err := q.MessageTemplateUpsert(ctx, dbsqlc.MessageTemplateUpsertParams{Event: t.Event, Channel: t.Channel,
				Language: t.Language, Subject: t.Subject, Body: t.Body, HTMLBody: t.HTMLBody, SenderName: t.SenderName,
				ReplyTo: t.ReplyTo}); err != nil {
				return err
			}
		}
		return nil
	}), "message template", "")
}

// DeleteMessageTemplates drops staff's templates of keys (event, channel,
// language); it reports how many there were.
func (s *Store) DeleteMessageTemplates(ctx context.Context, keys ...[3]string) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(q *dbsqlc.Queries) error {
		for _, k := range keys {
			d, err := q.MessageTemplateDelete(ctx, dbsqlc.MessageTemplateDeleteParams{Event: k[0], Channel: k[1], Language: k[2]})
			if err != nil {
				return err
			}
			n += d
		}
		return nil
	})
	return n, dbError(err, "message template", "")
}

// SubscriptionCounts counts subscriptions by status, for the metrics.
func (s *Store) SubscriptionCounts(ctx context.Context) (map[string]int64, error) {
	rows, err := s.q.SubscriptionCountByStatus(ctx)
	if err != nil {
		return nil, dbError(err, "subscription", "")
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[r.Status] = r.Count
	}
	return out, nil
}

// RenewalsDue counts active, automatically renewing subscriptions whose
// paid-until date has passed: the renewals due and not yet charged.
func (s *Store) RenewalsDue(ctx context.Context) (int64, error) {
	n, err := s.q.RenewalsDueCount(ctx)
	return n, dbError(err, "subscription", "")
}
