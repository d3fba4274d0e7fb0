package store

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/tempobill/billing"
)

const noticeColumns = `id, subscription_id, customer_id, period, milestone, channel, recipient, template,
	subject, status, provider_message_id, error, created_at`

func scanNotice(row pgx.Row) (billing.Notice, error) {
	var n billing.Notice
	err := row.Scan(&n.ID, &n.SubscriptionID, &n.CustomerID, &n.Period, &n.Milestone, &n.Channel,
		&n.Recipient, &n.Template, &n.Subject, &n.Status, &n.ProviderMessageID, &n.Error, &n.CreatedAt)
	return n, err
}

// ClaimNotice records that n is about to be sent under dedupKey and reports
// whether the caller should send it: false if it was sent, or claimed by an
// attempt that may have sent it. A failed send is claimed again.
func (s *Store) ClaimNotice(ctx context.Context, dedupKey string, n billing.Notice) (billing.Notice, bool, error) {
	out, err := scanNotice(s.pool.QueryRow(ctx, `INSERT INTO notices (dedup_key, subscription_id, customer_id,
		period, milestone, channel, recipient, template, subject, status)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'sending')
		ON CONFLICT (dedup_key) DO UPDATE SET status = 'sending', error = '', updated_at = now()
			WHERE notices.status = 'failed'
		RETURNING `+noticeColumns, dedupKey, n.SubscriptionID, n.CustomerID, n.Period, n.Milestone,
		n.Channel, n.Recipient, n.Template, n.Subject))
	if err == pgx.ErrNoRows {
		return n, false, nil
	}
	return out, err == nil, dbError(err, "notice", dedupKey)
}

// FinishNotice records how the send of a claimed notice ended.
func (s *Store) FinishNotice(ctx context.Context, id int64, status, providerID, sendErr string) error {
	_, err := s.pool.Exec(ctx, `UPDATE notices SET status = $2, provider_message_id = $3, error = $4,
		updated_at = now() WHERE id = $1`, id, status, providerID, sendErr)
	return dbError(err, "notice", id)
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
