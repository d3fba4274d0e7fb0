-- A notice may be claimed again when it failed, or, for an email, its outcome
-- is unknown (sent again with the same Message-ID), and its retry horizon has
-- not passed: NoticeClaim and NoticeClaimDue spell this out.

-- name: NoticeClaim :one
INSERT INTO notices (dedup_key, subscription_id, customer_id, period, milestone, channel, recipient,
    template, subject, status, body, sender_name, reply_to, attempts, retry_until)
VALUES (@dedup_key, @subscription_id, @customer_id, @period, @milestone, @channel, @recipient,
    @template, @subject, 'sending', @body, @sender_name, @reply_to, 1, @retry_until)
ON CONFLICT (dedup_key) DO UPDATE SET status = 'sending', attempts = notices.attempts + 1, updated_at = now(),
    subject = EXCLUDED.subject, body = EXCLUDED.body, sender_name = EXCLUDED.sender_name, reply_to = EXCLUDED.reply_to
    WHERE (notices.status = 'failed' OR (notices.status = 'unknown' AND notices.channel = 'email'))
        AND (notices.retry_until IS NULL OR notices.retry_until > now())
RETURNING *;

-- NoticeFinish records an attempt's outcome. A notice that failed, or whose
-- outcome is unknown, is due again after one minute, doubling with each
-- attempt, at most 30 minutes.
-- name: NoticeFinish :exec
UPDATE notices SET status = @status, provider_message_id = @provider_message_id, error = @error,
    next_attempt_at = CASE WHEN @status IN ('failed', 'unknown')
        THEN now() + least(interval '1 minute' * power(2, least(attempts, 10) - 1), interval '30 minutes') END,
    updated_at = now()
WHERE id = @id;

-- NoticeClaimDue claims the notices due again, and emails left "sending" by
-- an attempt that died; customer_id 0 means every customer's.
-- name: NoticeClaimDue :many
UPDATE notices SET status = 'sending', attempts = attempts + 1, updated_at = now()
WHERE id IN (SELECT id FROM notices WHERE
    (((status = 'failed' OR (status = 'unknown' AND channel = 'email'))
      AND (retry_until IS NULL OR retry_until > now()) AND next_attempt_at <= now())
     OR (status = 'sending' AND channel = 'email' AND updated_at < now() - make_interval(secs => @stale_seconds)
         AND (retry_until IS NULL OR retry_until > now())))
    AND body <> '' -- rows from before bodies were kept can't be sent again
    AND (@customer_id::bigint = 0 OR customer_id = @customer_id)
    ORDER BY next_attempt_at NULLS FIRST, id LIMIT sqlc.arg('limit')::bigint FOR UPDATE SKIP LOCKED)
RETURNING *;

-- NoticeSettleStale closes what can't be sent any more; customer_id 0 means every customer's.
-- name: NoticeSettleStale :execrows
UPDATE notices SET updated_at = now(), next_attempt_at = NULL,
    status = CASE WHEN status = 'failed' THEN 'expired' ELSE 'unknown' END,
    error = CASE WHEN status = 'failed' THEN 'not sent: its moment passed; last error: ' || error
        ELSE 'the attempt ended without an outcome; not sent again' END
WHERE ((status = 'failed' AND retry_until <= now())
   OR (status = 'sending' AND updated_at < now() - make_interval(secs => @stale_seconds)
       AND (channel = 'sms' OR retry_until <= now() OR body = '')))
  AND (@customer_id::bigint = 0 OR customer_id = @customer_id);

-- name: NoticeCountByStatus :many
SELECT status, count(*) AS count FROM notices GROUP BY status;

-- name: NoticeList :many
SELECT * FROM notices WHERE subscription_id = @subscription_id::bigint ORDER BY id;

-- name: NoticeTemplateList :many
SELECT milestone, subject, body, sms_body FROM notice_templates;

-- name: NoticeTemplateUpsert :exec
INSERT INTO notice_templates (milestone, subject, body, sms_body) VALUES (@milestone, @subject, @body, @sms_body)
ON CONFLICT (milestone) DO UPDATE SET subject = @subject, body = @body, sms_body = @sms_body, updated_at = now();

-- name: NoticeTemplateDelete :exec
DELETE FROM notice_templates WHERE milestone = $1;
