-- The metrics read the renewals due and not yet charged at every scrape:
-- a partial index keeps that count to the due rows, not the whole table.
-- +goose Up
CREATE INDEX subscriptions_renewals_due_idx ON subscriptions (paid_until) WHERE status = 'active' AND auto_renew;

-- +goose Down
DROP INDEX subscriptions_renewals_due_idx;
