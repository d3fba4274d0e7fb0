-- +goose Up
-- The day of the month a monthly service is billed on (its order's day in the
-- customer's time zone): a short month clamps only the period that ends in it.
ALTER TABLE subscriptions ADD COLUMN anchor_day smallint CHECK (anchor_day BETWEEN 1 AND 31);

-- +goose Down
ALTER TABLE subscriptions DROP COLUMN anchor_day;
