-- +goose Up
-- Staff notices (the support center's, seed 000 "Email notifications for
-- staff members"): a notice goes to a customer's user (customer_id) or to a
-- staff member (staff_id, no customer: a client never lists one). Mails
-- about a ticket carry threading headers, kept on the row so that the
-- redelivery sends the same ones.
ALTER TABLE notices ALTER COLUMN customer_id DROP NOT NULL;
ALTER TABLE notices
    ADD COLUMN staff_id        bigint REFERENCES staff (id),
    ADD COLUMN message_id      text NOT NULL DEFAULT '',
    ADD COLUMN in_reply_to     text NOT NULL DEFAULT '',
    ADD COLUMN mail_references text NOT NULL DEFAULT '',
    ADD CONSTRAINT notices_recipient_kind_check CHECK ((customer_id IS NULL) <> (staff_id IS NULL));
CREATE INDEX notices_staff_idx ON notices (staff_id, id) WHERE staff_id IS NOT NULL;

-- A staff member's notification settings: every staff event is on unless a
-- row turns it off.
CREATE TABLE staff_notification_settings (
    staff_id   bigint NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    event      text NOT NULL,
    enabled    boolean NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (staff_id, event)
);

-- +goose Down
DROP TABLE staff_notification_settings;
DELETE FROM notices WHERE customer_id IS NULL;
DROP INDEX notices_staff_idx;
ALTER TABLE notices DROP CONSTRAINT notices_recipient_kind_check;
ALTER TABLE notices DROP COLUMN staff_id, DROP COLUMN message_id, DROP COLUMN in_reply_to, DROP COLUMN mail_references;
ALTER TABLE notices ALTER COLUMN customer_id SET NOT NULL;
