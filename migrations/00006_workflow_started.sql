-- +goose Up
-- When the subscription's workflow was known to be started. An order whose
-- start failed (Temporal unreachable) has none: the reconciler starts it or,
-- if the client was told it failed, removes it, once Temporal answers.
ALTER TABLE subscriptions ADD COLUMN workflow_started_at timestamptz;
UPDATE subscriptions SET workflow_started_at = created_at;
CREATE INDEX subscriptions_unstarted_idx ON subscriptions (created_at) WHERE workflow_started_at IS NULL;

-- An order whose first charge was refused waits for a payment: only those
-- count towards a customer's limit of unpaid orders.
ALTER TABLE subscriptions ADD COLUMN awaiting_payment boolean NOT NULL DEFAULT false;
UPDATE subscriptions SET awaiting_payment = true WHERE status = 'unpaid';

-- +goose Down
ALTER TABLE subscriptions DROP COLUMN workflow_started_at, DROP COLUMN awaiting_payment;
