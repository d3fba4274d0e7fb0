-- +goose Up
ALTER TABLE subscriptions
    ADD COLUMN auto_renew boolean NOT NULL DEFAULT true,
    ADD COLUMN suspend_reason text NOT NULL DEFAULT '',
    ADD COLUMN idempotency_key text;
-- The same Idempotency-Key from the same customer returns the same subscription.
CREATE UNIQUE INDEX subscriptions_idempotency_key ON subscriptions (customer_id, idempotency_key);
CREATE INDEX subscriptions_product_idx ON subscriptions (product_id);

-- Post-paid customers may go negative down to their credit limit (NULL: no limit).
ALTER TABLE customers ADD COLUMN credit_limit bigint CHECK (credit_limit >= 0);

-- The built-in webhook step: a signed JSON POST to the product's URL at each milestone.
ALTER TABLE products
    ADD COLUMN webhook_url text NOT NULL DEFAULT '',
    ADD COLUMN webhook_secret text NOT NULL DEFAULT '',
    ADD COLUMN steps text[] NOT NULL DEFAULT '{}';

-- Every message sent, or tried, to one recipient. The unique key makes a retried
-- activity find the earlier send instead of sending again.
CREATE TABLE notices (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dedup_key           text NOT NULL UNIQUE,
    subscription_id     bigint REFERENCES subscriptions (id),
    customer_id         bigint NOT NULL REFERENCES customers (id),
    period              integer NOT NULL DEFAULT 0,
    milestone           text NOT NULL,
    channel             text NOT NULL CHECK (channel IN ('email', 'sms')),
    recipient           text NOT NULL,
    template            text NOT NULL,
    subject             text NOT NULL DEFAULT '',
    status              text NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
    provider_message_id text NOT NULL DEFAULT '',
    error               text NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notices_subscription_idx ON notices (subscription_id, id);
CREATE INDEX notices_customer_idx ON notices (customer_id, id);

-- Staff replacements for the built-in texts of service notices.
CREATE TABLE notice_templates (
    milestone  text PRIMARY KEY,
    subject    text NOT NULL,
    body       text NOT NULL,
    sms_body   text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE notice_templates;
DROP TABLE notices;
ALTER TABLE products DROP COLUMN webhook_url, DROP COLUMN webhook_secret, DROP COLUMN steps;
ALTER TABLE customers DROP COLUMN credit_limit;
DROP INDEX subscriptions_product_idx;
DROP INDEX subscriptions_idempotency_key;
ALTER TABLE subscriptions DROP COLUMN auto_renew, DROP COLUMN suspend_reason, DROP COLUMN idempotency_key;
