-- +goose Up
-- Discounts per customer (issue 12): a percent (in basis points, 1 to
-- 10000) or a fixed amount in a currency, on all products (product_ids
-- empty) or some, valid from valid_from until valid_until (exclusive; NULL:
-- open-ended). A period charge applies the discount valid at the period's
-- start that gives the lowest price (see billing.BestDiscount). Ending a
-- discount (ended_at) sets valid_until to now and keeps the row: charges
-- name it in their ledger reference and on their invoice.
CREATE TABLE discounts (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    percent_bp  integer CHECK (percent_bp BETWEEN 1 AND 10000),
    amount      bigint CHECK (amount > 0),
    currency    char(3),
    product_ids bigint[] NOT NULL DEFAULT '{}',
    valid_from  timestamptz NOT NULL,
    valid_until timestamptz,
    note        text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    ended_at    timestamptz,
    CHECK ((percent_bp IS NOT NULL AND amount IS NULL AND currency IS NULL)
        OR (percent_bp IS NULL AND amount IS NOT NULL AND currency IS NOT NULL)),
    -- An ended discount that had not begun is empty: until = from.
    CHECK (valid_until IS NULL OR valid_until >= valid_from)
);
CREATE INDEX discounts_customer_idx ON discounts (customer_id, id);

-- +goose Down
DROP TABLE discounts;
