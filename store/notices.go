package store

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/tempobill/billing"
	"github.com/tempobill/billing/store/dbsqlc"
)

func noticeFromRow(r dbsqlc.Notice) billing.Notice {
	return billing.Notice{ID: r.ID, SubscriptionID: r.SubscriptionID, CustomerID: r.CustomerID, Period: r.Period,
		Milestone: r.Milestone, Channel: r.Channel, Recipient: r.Recipient, Template: r.Template, Subject: r.Subject,
		Status: r.Status, ProviderMessageID: r.ProviderMessageID, Error: r.Error, Attempts: r.Attempts,
		RetryUntil: r.RetryUntil, CreatedAt: r.CreatedAt, Key: r.DedupKey, Body: r.Body, SenderName: r.SenderName,
		ReplyTo: r.ReplyTo}
}

// ClaimNotice records that n is about to be sent under dedupKey and reports
// whether the caller should send it: false if it was sent, rejected, is being
// sent, or may not be sent again (an SMS whose outcome is unknown, a horizon
// passed). A notice that failed, or an email whose outcome is unknown, is
// claimed again.
func (s *Store) ClaimNotice(ctx context.Context, dedupKey string, n billing.Notice) (billing.Notice, bool, error) {
	row, err := s.q.NoticeClaim(ctx, dbsqlc.NoticeClaimParams{DedupKey: dedupKey, SubscriptionID: n.SubscriptionID,
		CustomerID: n.CustomerID, Period: n.Period, Milestone: n.Milestone, Channel: n.Channel, Recipient: n.Recipient,
		Template: n.Template, Subject: n.Subject, Body: n.Body, SenderName: n.SenderName, ReplyTo: n.ReplyTo,
		RetryUntil: n.RetryUntil})
	if errors.Is(err, pgx.ErrNoRows) {
		return n, false, nil
	}
	return noticeFromRow(row), err == nil, dbError(err, "notice", dedupKey)
}

// FinishNotice records how an attempt to send a claimed notice ended. A
// notice that failed, or whose outcome is unknown, is due again after a
// back-off: one minute, doubling with each attempt, at most 30 minutes.
func (s *Store) FinishNotice(ctx context.Context, id int64, status, providerID, sendErr string) error {
	err := s.q.NoticeFinish(ctx, dbsqlc.NoticeFinishParams{ID: id, Status: status, ProviderMessageID: providerID, Error: sendErr})
	return dbError(err, "notice", id)
}

// ClaimDueNotices claims up to limit notices whose next attempt is due: ones
// that failed, emails whose outcome is unknown, and emails left "sending" by
// an attempt that died (for longer than stale). Claimed rows are "sending"
// until FinishNotice; another redelivery skips them.
// customerID, if not 0, keeps to one customer's notices.
func (s *Store) ClaimDueNotices(ctx context.Context, limit int, stale time.Duration, customerID int64) ([]billing.Notice, error) {
	rows, err := s.q.NoticeClaimDue(ctx, dbsqlc.NoticeClaimDueParams{Limit: int64(limit), StaleSeconds: stale.Seconds(),
		CustomerID: customerID})
	if err != nil {
		return nil, dbError(err, "notice", "")
	}
	return fromRows(rows, noticeFromRow), nil
}

// SettleStaleNotices closes what can't be sent any more: a failed notice
// whose horizon passed is expired (not sent late); an SMS left "sending" by
// an attempt that died is unknown (never sent twice); an email left
// "sending" past its horizon is unknown. A customerID other than 0 limits
// it to that customer's notices. It returns how many it changed.
func (s *Store) SettleStaleNotices(ctx context.Context, stale time.Duration, customerID int64) (int64, error) {
	n, err := s.q.NoticeSettleStale(ctx, dbsqlc.NoticeSettleStaleParams{StaleSeconds: stale.Seconds(), CustomerID: customerID})
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

// NoticeTemplateOverrides returns the service-notice texts staff replaced, by milestone.
func (s *Store) NoticeTemplateOverrides(ctx context.Context) (map[string]billing.NoticeTemplate, error) {
	rows, err := s.q.NoticeTemplateList(ctx)
	if err != nil {
		return nil, err
	}
	out := map[string]billing.NoticeTemplate{}
	for _, r := range rows {
		out[r.Milestone] = billing.NoticeTemplate{Milestone: r.Milestone, Subject: r.Subject, Body: r.Body,
			SMSBody: r.SMSBody, Custom: true}
	}
	return out, nil
}

// SetNoticeTemplate replaces the text of a service notice.
func (s *Store) SetNoticeTemplate(ctx context.Context, t billing.NoticeTemplate) error {
	return dbError(s.inTx(ctx, func(q *dbsqlc.Queries) error {
		return q.NoticeTemplateUpsert(ctx, dbsqlc.NoticeTemplateUpsertParams{Milestone: t.Milestone,
			Subject: t.Subject, Body: t.Body, SMSBody: t.SMSBody})
	}), "notice template", t.Milestone)
}

// ResetNoticeTemplate goes back to the built-in text of a service notice.
func (s *Store) ResetNoticeTemplate(ctx context.Context, milestone string) error {
	return dbError(s.inTx(ctx, func(q *dbsqlc.Queries) error {
		return q.NoticeTemplateDelete(ctx, milestone)
	}), "notice template", milestone)
}
