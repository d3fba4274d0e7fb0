-- +goose Up
-- The mail gateway's notices (issue 14): incident_required,
-- email_confirmation, email_confirmed and email_not_unique go to the sender
-- of a mail, an address rather than a customer's user or a staff member, so
-- a notice may now name neither (never both). Clients never list them (they
-- have no customer); staff who read notifications do.
ALTER TABLE notices DROP CONSTRAINT notices_recipient_kind_check;
ALTER TABLE notices ADD CONSTRAINT notices_recipient_kind_check CHECK (customer_id IS NULL OR staff_id IS NULL);
-- The auto-answer rate limit counts an address's gateway notices of the
-- last hour (activities.MaxAutoAnswersPerHour).
CREATE INDEX notices_mail_sender_idx ON notices (lower(recipient), created_at)
    WHERE event IN ('ticket_from_email', 'incident_required', 'email_confirmation', 'email_confirmed', 'email_not_unique');

-- +goose Down
DROP INDEX notices_mail_sender_idx;
DELETE FROM notices WHERE customer_id IS NULL AND staff_id IS NULL;
ALTER TABLE notices DROP CONSTRAINT notices_recipient_kind_check;
ALTER TABLE notices ADD CONSTRAINT notices_recipient_kind_check CHECK ((customer_id IS NULL) <> (staff_id IS NULL));
