-- A notice may be claimed again when it is queued or failed, or, for an
-- email, its outcome is unknown (sent again with the same Message-ID), and
-- its retry horizon has not passed: NoticeClaim and NoticeClaimDue spell this out.

-- name: NoticeClaim :one
INSERT INTO notices (dedup_key, subscription_id, customer_id, staff_id, period, event, object_type, object_id, channel,
    recipient, language, template, subject, status, body, html_body, sender_name, reply_to, attempts, retry_until,
    message_id, in_reply_to, mail_references)
VALUES (@dedup_key, @subscription_id, @customer_id, @staff_id, @period, @event, @object_type, @object_id, @channel,
    @recipient, @language, @template, @subject, 'sending', @body, @html_body, @sender_name, @reply_to, 1, @retry_until,
    @message_id, @in_reply_to, @mail_references)
ON CONFLICT (dedup_key) DO UPDATE SET status = 'sending', attempts = notices.attempts + 1, updated_at = now(),
    subject = EXCLUDED.subject, body = EXCLUDED.body, html_body = EXCLUDED.html_body,
    sender_name = EXCLUDED.sender_name, reply_to = EXCLUDED.reply_to
    WHERE (notices.status IN ('queued', 'failed') OR (notices.status = 'unknown' AND notices.channel = 'email'))
        AND (notices.retry_until IS NULL OR notices.retry_until > now())
RETURNING *;

-- NoticeQueue records a notice for the redelivery to send (due now); nothing
-- if its key was recorded before.
-- name: NoticeQueue :one
INSERT INTO notices (dedup_key, subscription_id, customer_id, staff_id, period, event, object_type, object_id, channel,
    recipient, language, template, subject, status, body, html_body, sender_name, reply_to, attempts, retry_until,
    next_attempt_at, message_id, in_reply_to, mail_references)
VALUES (@dedup_key, @subscription_id, @customer_id, @staff_id, @period, @event, @object_type, @object_id, @channel,
    @recipient, @language, @template, @subject, 'queued', @body, @html_body, @sender_name, @reply_to, 0, @retry_until,
    now(), @message_id, @in_reply_to, @mail_references)
ON CONFLICT (dedup_key) DO NOTHING
RETURNING *;

-- NoticeResend queues a copy of a notice under the key dedup_key (its own,
-- so one resend of a notice at most), linked to it; nothing if that key was
-- used before.
-- name: NoticeResend :one
INSERT INTO notices (dedup_key, subscription_id, customer_id, staff_id, period, event, object_type, object_id,
    channel, recipient, language, template, subject, status, body, html_body, sender_name, reply_to, attempts,
    retry_until, next_attempt_at, resend_of, message_id, in_reply_to, mail_references)
SELECT @dedup_key, o.subscription_id, o.customer_id, o.staff_id, o.period, o.event, o.object_type, o.object_id,
    o.channel, o.recipient, o.language, o.template, o.subject, 'queued', o.body, o.html_body, o.sender_name, o.reply_to,
    0, @retry_until, now(), o.id, o.message_id, o.in_reply_to, o.mail_references
FROM notices AS o WHERE o.id = @id
ON CONFLICT (dedup_key) DO NOTHING
RETURNING *;

-- name: NoticeGet :one
SELECT * FROM notices WHERE id = @id;

-- NoticeLock takes a notice for a resend: the redelivery skips it meanwhile.
-- name: NoticeLock :one
SELECT * FROM notices WHERE id = @id FOR UPDATE;

-- NoticeStopRedelivery ends the redelivery of a notice staff resent: the
-- copy is sent instead, so the original (failed, or an email whose outcome
-- is unknown) is not sent again too; a failed one becomes expired.
-- name: NoticeStopRedelivery :exec
UPDATE notices SET next_attempt_at = NULL, retry_until = now(), updated_at = now(),
    status = CASE WHEN status IN ('queued', 'failed') THEN 'expired' ELSE status END,
    error = 'not sent again: resent as notification ' || @resend_id::bigint || '; last error: ' || error
WHERE id = @id AND status IN ('queued', 'failed', 'unknown');

-- name: NoticeResentAs :one
SELECT id FROM notices WHERE resend_of = @id::bigint ORDER BY id LIMIT 1;

-- NoticeFinish records an attempt's outcome. A notice that failed, or whose
-- outcome is unknown, is due again after one minute, doubling with each
-- attempt, at most 30 minutes. Only the attempt that holds the claim
-- (still sending, its attempt number) records: a late one, whose claim was
-- settled as stale and taken again, changes nothing.
-- name: NoticeFinish :exec
UPDATE notices SET status = @status, provider_message_id = @provider_message_id, error = @error,
    next_attempt_at = CASE WHEN @status IN ('failed', 'unknown')
        THEN now() + least(interval '1 minute' * power(2, least(attempts, 10) - 1), interval '30 minutes') END,
    updated_at = now()
WHERE id = @id AND status = 'sending' AND attempts = @attempts;

-- NoticeClaimDue claims the notices due (again), and emails left "sending" by
-- an attempt that died; customer_id 0 means every customer's, staff_id 0
-- every staff member's (both 0: every notice).
-- name: NoticeClaimDue :many
UPDATE notices SET status = 'sending', attempts = attempts + 1, updated_at = now()
WHERE id IN (SELECT id FROM notices WHERE
    (((status IN ('queued', 'failed') OR (status = 'unknown' AND channel = 'email'))
      AND (retry_until IS NULL OR retry_until > now()) AND next_attempt_at <= now())
     OR (status = 'sending' AND channel = 'email' AND updated_at < now() - make_interval(secs => @stale_seconds)
         AND (retry_until IS NULL OR retry_until > now())))
    AND body <> '' -- rows from before bodies were kept can't be sent again
    AND (@customer_id::bigint = 0 OR customer_id = @customer_id)
    AND (@staff_id::bigint = 0 OR staff_id = @staff_id)
    ORDER BY next_attempt_at NULLS FIRST, id LIMIT sqlc.arg('limit')::bigint FOR UPDATE SKIP LOCKED)
RETURNING *;

-- NoticeSettleStale closes what can't be sent any more; customer_id 0 means
-- every customer's, staff_id 0 every staff member's.
-- name: NoticeSettleStale :execrows
UPDATE notices SET updated_at = now(), next_attempt_at = NULL,
    status = CASE WHEN status IN ('queued', 'failed') THEN 'expired' ELSE 'unknown' END,
    error = CASE WHEN status IN ('queued', 'failed') THEN 'not sent: its moment passed; last error: ' || error
        ELSE 'the attempt ended without an outcome; not sent again' END
WHERE ((status IN ('queued', 'failed') AND retry_until <= now())
   OR (status = 'sending' AND updated_at < now() - make_interval(secs => @stale_seconds)
       AND (channel = 'sms' OR retry_until <= now() OR body = '')))
  AND (@customer_id::bigint = 0 OR customer_id = @customer_id)
  AND (@staff_id::bigint = 0 OR staff_id = @staff_id);

-- name: NoticeCountByStatus :many
SELECT status, count(*) AS count FROM notices GROUP BY status;

-- name: NoticeList :many
SELECT * FROM notices WHERE subscription_id = @subscription_id::bigint ORDER BY id;

-- name: MessageTemplateList :many
SELECT * FROM message_templates ORDER BY event, channel, language;

-- name: MessageTemplateUpsert :exec
INSERT INTO message_templates (event, channel, language, subject, body, html_body, sender_name, reply_to)
VALUES (@event, @channel, @language, @subject, @body, @html_body, @sender_name, @reply_to)
ON CONFLICT (event, channel, language) DO UPDATE SET subject = @subject, body = @body, html_body = @html_body,
    sender_name = @sender_name, reply_to = @reply_to, updated_at = now();

-- name: MessageTemplateDelete :execrows
DELETE FROM message_templates WHERE event = @event AND channel = @channel AND language = @language;
