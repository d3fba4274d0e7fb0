-- +goose Up
-- Message templates: one per (event, channel, language), staff's; the
-- built-in English ones are files in the binary (notices/templates). An SMS
-- template with an empty body turns SMS off for its event and language.
CREATE TABLE message_templates (
    event       text NOT NULL,
    channel     text NOT NULL CHECK (channel IN ('email', 'sms')),
    language    text NOT NULL,
    subject     text NOT NULL DEFAULT '',
    body        text NOT NULL,
    html_body   text NOT NULL DEFAULT '',
    sender_name text NOT NULL DEFAULT '',
    reply_to    text NOT NULL DEFAULT '',
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (event, channel, language)
);
-- Staff's replacements of the service texts become English templates; an
-- empty SMS text kept SMS off, and still does.
INSERT INTO message_templates (event, channel, language, subject, body, updated_at)
    SELECT milestone, 'email', 'en', subject, body, updated_at FROM notice_templates;
INSERT INTO message_templates (event, channel, language, body, updated_at)
    SELECT milestone, 'sms', 'en', sms_body, updated_at FROM notice_templates;
DROP TABLE notice_templates;

-- The notices table becomes the notification log of every event: what it is
-- about (object_type, object_id; subscription_id only for a subscription's),
-- its language, an HTML body, and the notice a staff resend repeats. A
-- queued notice waits for its first attempt (the redelivery sends it).
ALTER TABLE notices RENAME COLUMN milestone TO event;
ALTER TABLE notices
    ADD COLUMN object_type text NOT NULL DEFAULT 'subscription',
    ADD COLUMN object_id   text NOT NULL DEFAULT '',
    ADD COLUMN language    text NOT NULL DEFAULT '',
    ADD COLUMN html_body   text NOT NULL DEFAULT '',
    ADD COLUMN resend_of   bigint REFERENCES notices (id);
UPDATE notices SET object_id = subscription_id::text WHERE subscription_id IS NOT NULL;
ALTER TABLE notices ALTER COLUMN object_type DROP DEFAULT;
ALTER TABLE notices DROP CONSTRAINT notices_status_check;
ALTER TABLE notices ADD CONSTRAINT notices_status_check
    CHECK (status IN ('queued', 'sending', 'sent', 'failed', 'unknown', 'rejected', 'expired'));
DROP INDEX notices_redelivery_idx;
CREATE INDEX notices_redelivery_idx ON notices (next_attempt_at) WHERE status IN ('queued', 'failed', 'unknown', 'sending');
CREATE INDEX notices_created_idx ON notices (created_at, id);
CREATE INDEX notices_resend_of_idx ON notices (resend_of) WHERE resend_of IS NOT NULL;

-- +goose Down
DROP INDEX notices_resend_of_idx;
DROP INDEX notices_created_idx;
DROP INDEX notices_redelivery_idx;
CREATE INDEX notices_redelivery_idx ON notices (next_attempt_at) WHERE status IN ('failed', 'unknown', 'sending');
-- Notices that are not a subscription's have no place in the old table.
DELETE FROM notices WHERE resend_of IS NOT NULL OR subscription_id IS NULL;
UPDATE notices SET status = 'failed' WHERE status = 'queued';
ALTER TABLE notices DROP CONSTRAINT notices_status_check;
ALTER TABLE notices ADD CONSTRAINT notices_status_check
    CHECK (status IN ('sending', 'sent', 'failed', 'unknown', 'rejected', 'expired'));
ALTER TABLE notices DROP COLUMN object_type, DROP COLUMN object_id, DROP COLUMN language, DROP COLUMN html_body,
    DROP COLUMN resend_of;
ALTER TABLE notices RENAME COLUMN event TO milestone;

CREATE TABLE notice_templates (
    milestone  text PRIMARY KEY,
    subject    text NOT NULL,
    body       text NOT NULL,
    sms_body   text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- Only English email templates had a place there (with their SMS text).
INSERT INTO notice_templates (milestone, subject, body, sms_body, updated_at)
    SELECT e.event, e.subject, e.body, coalesce(s.body, ''), e.updated_at
    FROM message_templates e LEFT JOIN message_templates s
        ON s.event = e.event AND s.channel = 'sms' AND s.language = 'en'
    WHERE e.channel = 'email' AND e.language = 'en';
DROP TABLE message_templates;
