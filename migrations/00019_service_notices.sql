-- +goose Up
-- The remaining service notices of seed 000 (issue 12): a product's kind
-- picks the text of its "activated" notice (activation of VPS, shared
-- hosting, license); a license product gives its subscriptions an
-- updates-until date, UPDATES_MONTHS after the order, before which the
-- "license update subscription expires soon" notices go out.
ALTER TABLE products
    ADD COLUMN kind text NOT NULL DEFAULT 'other'
        CONSTRAINT products_kind_check CHECK (kind IN ('vps', 'shared_hosting', 'license', 'other')),
    ADD COLUMN updates_months integer NOT NULL DEFAULT 0
        CONSTRAINT products_updates_months_check CHECK (updates_months BETWEEN 0 AND 1200);

ALTER TABLE subscriptions ADD COLUMN updates_until timestamptz;

-- Configuration of additional parameters: a product declares the order
-- parameters it needs ([{name, title, required}]); an order carries their
-- values ({name: value}). A paid order lacking a required one waits, status
-- awaiting_parameters, until they are supplied.
ALTER TABLE products ADD COLUMN order_parameters jsonb NOT NULL DEFAULT '[]';
ALTER TABLE subscriptions ADD COLUMN parameters jsonb NOT NULL DEFAULT '{}';
ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_status_check,
    ADD CONSTRAINT subscriptions_status_check
        CHECK (status IN ('unpaid', 'active', 'suspended', 'cancelled', 'deleted', 'awaiting_parameters'));

-- +goose Down
UPDATE subscriptions SET status = 'active' WHERE status = 'awaiting_parameters';
ALTER TABLE subscriptions DROP CONSTRAINT subscriptions_status_check,
    ADD CONSTRAINT subscriptions_status_check
        CHECK (status IN ('unpaid', 'active', 'suspended', 'cancelled', 'deleted'));
ALTER TABLE subscriptions DROP COLUMN parameters;
ALTER TABLE products DROP COLUMN order_parameters;
ALTER TABLE subscriptions DROP COLUMN updates_until;
ALTER TABLE products DROP COLUMN updates_months, DROP COLUMN kind;
