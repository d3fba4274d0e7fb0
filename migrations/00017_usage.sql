-- +goose Up
-- Resource limits and overage (issue 12). A product declares resources
-- (disk, traffic, minutes...) with an amount included per period and a price
-- per unit beyond it. Every period a subscription is charged gets a row in
-- usage_periods, in the charge's transaction, with a copy of its product's
-- resources then: usage of the period is counted and billed by that copy. The
-- period is closed when its overage is charged (once, keyed
-- subscription:<id>:period:<n>:overage); usage for a closed period is refused.
ALTER TABLE settings ADD COLUMN resource_notify_percent integer NOT NULL DEFAULT 90
    CHECK (resource_notify_percent BETWEEN 0 AND 100);

CREATE TABLE product_resources (
    product_id    bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    position      integer NOT NULL,
    name          text NOT NULL,
    unit          text NOT NULL,
    included      bigint NOT NULL CHECK (included >= 0),
    overage_price bigint NOT NULL CHECK (overage_price >= 0),
    PRIMARY KEY (product_id, name)
);

CREATE TABLE usage_periods (
    subscription_id  bigint NOT NULL REFERENCES subscriptions (id),
    period           integer NOT NULL,
    product_id       bigint NOT NULL REFERENCES products (id),
    currency         char(3) NOT NULL,
    period_from      timestamptz NOT NULL,
    period_until     timestamptz NOT NULL,
    -- resources: [{name, unit, included, overage_price}] of the product when charged.
    resources        jsonb NOT NULL,
    closed_at        timestamptz,
    -- overage: the period's overage in minor units when closed (0: none).
    overage          bigint,
    PRIMARY KEY (subscription_id, period)
);

-- One row per event: (subscription, idempotency_key) counts it once.
CREATE TABLE usage_events (
    subscription_id bigint NOT NULL REFERENCES subscriptions (id),
    idempotency_key text NOT NULL,
    period          integer NOT NULL,
    resource        text NOT NULL,
    quantity        bigint NOT NULL CHECK (quantity >= 0),
    at              timestamptz NOT NULL,
    received_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subscription_id, idempotency_key)
);

-- The sums of usage_events per period and resource, kept by the ingest's
-- transaction so that reading usage and charging overage read one row.
CREATE TABLE usage_totals (
    subscription_id bigint NOT NULL,
    period          integer NOT NULL,
    resource        text NOT NULL,
    used            numeric NOT NULL CHECK (used >= 0 AND used <= 1000000000000000),
    PRIMARY KEY (subscription_id, period, resource),
    FOREIGN KEY (subscription_id, period) REFERENCES usage_periods (subscription_id, period)
);

-- +goose Down
DROP TABLE usage_totals;
DROP TABLE usage_events;
DROP TABLE usage_periods;
DROP TABLE product_resources;
ALTER TABLE settings DROP COLUMN resource_notify_percent;
