-- +goose Up
-- Reminders (insufficient_funds and expiring, N > 0 days before the
-- paid-until date) are sent by one schedule for every subscription
-- (workflows.RemindersWorkflow, every minute) instead of a wake-up of each
-- subscription's workflow per reminder: 5 wake-ups fewer per billing cycle
-- under the default policy. A workflow publishes its period's reminders
-- with its live schedule (activities.Reminder, JSON); the schedule's runs
-- send those that fell due.
--   reminders_at: when the first reminder not yet handled falls (NULL: none);
--   reminded_through: every reminder due by then has been handled.
ALTER TABLE subscriptions
    ADD COLUMN reminders jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN reminders_at timestamptz,
    ADD COLUMN reminded_through timestamptz;
CREATE INDEX subscriptions_reminders_at_idx ON subscriptions (reminders_at) WHERE reminders_at IS NOT NULL;

-- The price a subscription's next period was announced at, by whichever
-- read it first: the workflow at a notice, or the reminders schedule. The
-- period's notices and its renewal name and charge that price, even if the
-- product's price changes meanwhile. One row per subscription: the next
-- period's (or another product's, chosen meanwhile) replaces it.
CREATE TABLE announced_plans (
    subscription_id bigint PRIMARY KEY REFERENCES subscriptions (id) ON DELETE CASCADE,
    period integer NOT NULL CHECK (period > 0),
    product_id bigint NOT NULL,
    price bigint NOT NULL CHECK (price >= 0),
    currency text NOT NULL,
    announced_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE announced_plans;
DROP INDEX subscriptions_reminders_at_idx;
ALTER TABLE subscriptions DROP COLUMN reminders, DROP COLUMN reminders_at, DROP COLUMN reminded_through;
