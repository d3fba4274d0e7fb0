-- +goose Up
-- The notices table is the outbox: a notice that failed, or whose outcome is
-- unknown, is sent again (with the same Message-ID) by the redelivery
-- schedule until retry_until; then it is expired: its moment has passed.
ALTER TABLE notices DROP CONSTRAINT notices_status_check;
ALTER TABLE notices ADD CONSTRAINT notices_status_check
    CHECK (status IN ('sending', 'sent', 'failed', 'unknown', 'rejected', 'expired'));
ALTER TABLE notices
    ADD COLUMN body            text NOT NULL DEFAULT '',
    ADD COLUMN sender_name     text NOT NULL DEFAULT '',
    ADD COLUMN reply_to        text NOT NULL DEFAULT '',
    ADD COLUMN attempts        integer NOT NULL DEFAULT 0,
    ADD COLUMN retry_until     timestamptz,
    ADD COLUMN next_attempt_at timestamptz;
CREATE INDEX notices_redelivery_idx ON notices (next_attempt_at) WHERE status IN ('failed', 'unknown', 'sending');

-- +goose Down
DROP INDEX notices_redelivery_idx;
ALTER TABLE notices DROP COLUMN body, DROP COLUMN sender_name, DROP COLUMN reply_to, DROP COLUMN attempts,
    DROP COLUMN retry_until, DROP COLUMN next_attempt_at;
ALTER TABLE notices DROP CONSTRAINT notices_status_check;
ALTER TABLE notices ADD CONSTRAINT notices_status_check CHECK (status IN ('sending', 'sent', 'failed'));
