package store

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tempobill/billing"
)

const noticeColumns = `id, subscription_id, customer_id, period, milestone, channel, recipient, template,
	subject, status, provider_message_id, error, attempts, retry_until, created_at, dedup_key, body, sender_name, reply_to`

func scanNotice(row pgx.Row) (billing.Notice, error) {
	var n billing.Notice
	err := row.Scan(&n.ID, &n.SubscriptionID, &n.CustomerID, &n.Period, &n.Milestone, &n.Channel,
		&n.Recipient, &n.Template, &n.Subject, &n.Status, &n.ProviderMessageID, &n.Error, &n.Attempts,
		&n.RetryUntil, &n.CreatedAt, &n.Key, &n.Body, &n.SenderName, &n.ReplyTo)
	return n, err
}

// sendable is when a notice may be claimed again: it failed, or, for an
// email, its outcome is unknown (sent again with the same Message-ID); and
// its retry horizon has not passed. ClaimNotice spells it out for its table.
const sendable = `(status = 'failed' OR (status = 'unknown' AND channel = 'email'))
	AND (retry_until IS NULL OR retry_until > now())`

// ClaimNotice records that n is about to be sent under dedupKey and reports
// whether the caller should send it: false if it was sent, rejected, is being
// sent, or may not be sent again (an SMS whose outcome is unknown, a horizon
// passed). A notice that failed, or an email whose outcome is unknown, is
// claimed again.
func (s *Store) ClaimNotice(ctx context.Context, dedupKey string, n billing.Notice) (billing.Notice, bool, error) {
	out, err := scanNotice(s.pool.QueryRow(ctx, `INSERT INTO notices (dedup_key, subscription_id, customer_id,
		period, milestone, channel, recipient, template, subject, status, body, sender_name, reply_to, attempts, retry_until)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'sending', $10, $11, $12, 1, $13)
		ON CONFLICT (dedup_key) DO UPDATE SET status = 'sending', attempts = notices.attempts + 1, updated_at = now(),
			subject = EXCLUDED.subject, body = EXCLUDED.body, sender_name = EXCLUDED.sender_name, reply_to = EXCLUDED.reply_to
			WHERE (notices.status = 'failed' OR (notices.status = 'unknown' AND notices.channel = 'email'))
				AND (notices.retry_until IS NULL OR notices.retry_until > now())
		RETURNING `+noticeColumns, dedupKey, n.SubscriptionID, n.CustomerID, n.Period, n.Milestone,
		n.Channel, n.Recipient, n.Template, n.Subject, n.Body, n.SenderName, n.ReplyTo, n.RetryUntil))
	if err == pgx.ErrNoRows {
		return n, false, nil
	}
	return out, err == nil, dbError(err, "notice", dedupKey)
}

// FinishNotice records how an attempt to send a claimed notice ended. A
// notice that failed, or whose outcome is unknown, is due again after a
// back-off: one minute, doubling with each attempt, at most 30 minutes.
func (s *Store) FinishNotice(ctx context.Context, id int64, status, providerID, sendErr string) error {
	_, err := s.pool.Exec(ctx, `UPDATE notices SET status = $2, provider_message_id = $3, error = $4,
		next_attempt_at = CASE WHEN $2 IN ('failed', 'unknown')
			THEN now() + least(interval '1 minute' * power(2, least(attempts, 10) - 1), interval '30 minutes') END,
		updated_at = now() WHERE id = $1`, id, status, providerID, sendErr)
	return dbError(err, "notice", id)
}

// ClaimDueNotices claims up to limit notices whose next attempt is due: ones
// that failed, emails whose outcome is unknown, and emails left "sending" by
// an attempt that died (for longer than stale). Claimed rows are "sending"
// until FinishNotice; another redelivery skips them.
// customerID, if not 0, keeps to one customer's notices.
func (s *Store) ClaimDueNotices(ctx context.Context, limit int, stale time.Duration, customerID int64) ([]billing.Notice, error) {
	rows, err := s.pool.Query(ctx, `UPDATE notices SET status = 'sending', attempts = attempts + 1, updated_at = now()
		WHERE id IN (SELECT id FROM notices WHERE
			((`+sendable+` AND next_attempt_at <= now())
			 OR (status = 'sending' AND channel = 'email' AND updated_at < now() - make_interval(secs => $2)
			     AND (retry_until IS NULL OR retry_until > now())))
			AND body <> '' -- rows from before bodies were kept can't be sent again
			AND ($3::bigint = 0 OR customer_id = $3)
			ORDER BY next_attempt_at NULLS FIRST, id LIMIT $1 FOR UPDATE SKIP LOCKED)
		RETURNING `+noticeColumns, limit, stale.Seconds(), customerID)
	if err != nil {
		return nil, dbError(err, "notice", "")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (billing.Notice, error) { return scanNotice(r) })
	return out, dbError(err, "notice", "")
}

// SettleStaleNotices closes what can't be sent any more: a failed notice
// whose horizon passed is expired (not sent late); an SMS left "sending" by
// an attempt that died is unknown (never sent twice); an email left
// "sending" past its horizon is unknown. A customerID other than 0 limits
// it to that customer's notices. It returns how many it changed.
func (s *Store) SettleStaleNotices(ctx context.Context, stale time.Duration, customerID int64) (int64, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE notices SET updated_at = now(), next_attempt_at = NULL,
		status = CASE WHEN status = 'failed' THEN 'expired' ELSE 'unknown' END,
		error = CASE WHEN status = 'failed' THEN 'not sent: its moment passed; last error: ' || error
			ELSE 'the attempt ended without an outcome; not sent again' END
		WHERE ((status = 'failed' AND retry_until <= now())
		   OR (status = 'sending' AND updated_at < now() - make_interval(secs => $1)
		       AND (channel = 'sms' OR retry_until <= now() OR body = '')))
		  AND ($2::bigint = 0 OR customer_id = $2)`, stale.Seconds(), customerID)
	return tag.RowsAffected(), dbError(err, "notice", "")
}

// NoticeCounts counts notices by status, for the notification metrics.
func (s *Store) NoticeCounts(ctx context.Context) (map[string]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT status, count(*) FROM notices GROUP BY status`)
	if err != nil {
		return nil, dbError(err, "notice", "")
	}
	out := map[string]int64{}
	for rows.Next() {
		var status string
		var n int64
		if err := rows.Scan(&status, &n); err != nil {
			return nil, err
		}
		out[status] = n
	}
	return out, dbError(rows.Err(), "notice", "")
}

// Notices lists the notices of a subscription, oldest first.
func (s *Store) Notices(ctx context.Context, subscriptionID int64) ([]billing.Notice, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+noticeColumns+` FROM notices WHERE subscription_id = $1 ORDER BY id`, subscriptionID)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (billing.Notice, error) { return scanNotice(r) })
	if out == nil {
		out = []billing.Notice{}
	}
	return out, dbError(err, "notice", "")
}

// NoticeTemplateOverrides returns the service-notice texts staff replaced, by milestone.
func (s *Store) NoticeTemplateOverrides(ctx context.Context) (map[string]billing.NoticeTemplate, error) {
	rows, err := s.pool.Query(ctx, `SELECT milestone, subject, body, sms_body FROM notice_templates`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]billing.NoticeTemplate{}
	for rows.Next() {
		var t billing.NoticeTemplate
		if err := rows.Scan(&t.Milestone, &t.Subject, &t.Body, &t.SMSBody); err != nil {
			return nil, err
		}
		t.Custom = true
		out[t.Milestone] = t
	}
	return out, rows.Err()
}

// SetNoticeTemplate replaces the text of a service notice.
func (s *Store) SetNoticeTemplate(ctx context.Context, t billing.NoticeTemplate) error {
	return dbError(s.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO notice_templates (milestone, subject, body, sms_body) VALUES ($1, $2, $3, $4)
			ON CONFLICT (milestone) DO UPDATE SET subject = $2, body = $3, sms_body = $4, updated_at = now()`,
			t.Milestone, t.Subject, t.Body, t.SMSBody)
		return err
	}), "notice template", t.Milestone)
}

// ResetNoticeTemplate goes back to the built-in text of a service notice.
func (s *Store) ResetNoticeTemplate(ctx context.Context, milestone string) error {
	return dbError(s.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM notice_templates WHERE milestone = $1`, milestone)
		return err
	}), "notice template", milestone)
}
