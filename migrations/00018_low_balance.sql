-- +goose Up
-- Low balance for daily services (issue 12). One row per customer and
-- currency whose days of balance were ever computed: the value of
-- low_money_notice_period the days left are at or below (NULL: above every
-- value). It is written under the customer's row lock by the transaction that
-- changes the balance or the daily services, only when the level changes; a
-- fall to a lower level queues the low_balance notice in that transaction,
-- keyed by crossings, which counts the notices sent (so each fall has a key of
-- its own, and a retried charge, which finds its ledger entry, changes nothing).
CREATE TABLE low_balance_levels (
    customer_id bigint  NOT NULL REFERENCES customers (id),
    currency    char(3) NOT NULL,
    level       integer CHECK (level >= 0),
    crossings   bigint  NOT NULL DEFAULT 0 CHECK (crossings >= 0),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, currency)
);

-- +goose Down
DROP TABLE low_balance_levels;
