-- name: ProductResourcesDelete :exec
DELETE FROM product_resources WHERE product_id = $1;

-- name: ProductResourceInsert :exec
INSERT INTO product_resources (product_id, position, name, unit, included, overage_price)
VALUES (@product_id, @position, @name, @unit, @included, @overage_price);

-- name: ProductResourceList :many
SELECT * FROM product_resources WHERE product_id = ANY(@product_ids::bigint[]) ORDER BY product_id, position;

-- UsagePeriodInsert records a period just charged, with its product's
-- resources now. A period recorded before (a replayed charge) stays.
-- name: UsagePeriodInsert :exec
INSERT INTO usage_periods (subscription_id, period, product_id, currency, period_from, period_until, resources)
SELECT sqlc.arg('subscription_id')::bigint, sqlc.arg('period')::integer, p.id, p.currency,
    sqlc.arg('period_from')::timestamptz, sqlc.arg('period_until')::timestamptz,
    (SELECT coalesce(jsonb_agg(to_jsonb(r) - 'product_id' - 'position' ORDER BY r.position), '[]'::jsonb)
        FROM product_resources r WHERE r.product_id = p.id)
FROM products p WHERE p.id = sqlc.arg('product_id')::bigint
ON CONFLICT (subscription_id, period) DO NOTHING;

-- UsagePeriodsForIngest takes, FOR SHARE, the periods an event may fall in:
-- the open ones and the last closed one (an event before an open period
-- falls in a closed one). Closing a period takes it FOR UPDATE, so it waits
-- for the ingests that hold it, and they see it closed after.
-- name: UsagePeriodsForIngest :many
SELECT * FROM usage_periods u
WHERE u.subscription_id = @subscription_id::bigint
  AND u.period >= coalesce((SELECT max(c.period) FROM usage_periods c
      WHERE c.subscription_id = @subscription_id::bigint AND c.closed_at IS NOT NULL), 0)
ORDER BY u.period
FOR SHARE;

-- UsageEventsInsert writes a batch of events, sorted by key (so that two
-- concurrent batches wait on each other's keys in one order), and returns
-- the keys it wrote: the others were counted before.
-- name: UsageEventsInsert :many
INSERT INTO usage_events (subscription_id, idempotency_key, period, resource, quantity, at)
SELECT @subscription_id::bigint, unnest(@keys::text[]), unnest(@periods::integer[]), unnest(@resources::text[]),
    unnest(@quantities::bigint[]), unnest(@ats::timestamptz[])
ON CONFLICT (subscription_id, idempotency_key) DO NOTHING
RETURNING idempotency_key;

-- UsageTotalAdd adds to a period's total of a resource and returns the new
-- total; the row stays locked until the transaction ends.
-- name: UsageTotalAdd :one
INSERT INTO usage_totals (subscription_id, period, resource, used)
VALUES (@subscription_id, @period, @resource, @added::bigint)
ON CONFLICT (subscription_id, period, resource) DO UPDATE SET used = usage_totals.used + excluded.used
RETURNING used::bigint AS used;

-- name: UsagePeriodGet :one
SELECT * FROM usage_periods WHERE subscription_id = @subscription_id AND period = @period;

-- UsagePeriodCurrent is the period that began last by now, else the first.
-- name: UsagePeriodCurrent :one
SELECT * FROM usage_periods WHERE subscription_id = @subscription_id
ORDER BY (period_from <= now()) DESC, CASE WHEN period_from <= now() THEN period ELSE -period END DESC
LIMIT 1;

-- name: UsagePeriodLock :one
SELECT * FROM usage_periods WHERE subscription_id = @subscription_id AND period = @period FOR UPDATE;

-- name: UsageTotals :many
SELECT resource, used::bigint AS used FROM usage_totals WHERE subscription_id = @subscription_id AND period = @period;

-- UsagePeriodsToClose lists the open periods of a subscription that ended
-- by before (all open ones if all).
-- name: UsagePeriodsToClose :many
SELECT period FROM usage_periods
WHERE subscription_id = @subscription_id AND closed_at IS NULL AND (@every::boolean OR period_until <= @before)
ORDER BY period;

-- name: UsagePeriodClose :exec
UPDATE usage_periods SET closed_at = now(), overage = @overage WHERE subscription_id = @subscription_id AND period = @period;

-- name: UsagePeriodMetered :one
SELECT EXISTS (SELECT 1 FROM usage_periods WHERE subscription_id = @subscription_id AND period = @period
    AND resources <> '[]'::jsonb)::boolean AS metered;

-- name: UsagePeriodsOpen :one
SELECT count(*) FROM usage_periods WHERE subscription_id = @subscription_id AND closed_at IS NULL;

-- UsageEventsCounted returns which of keys were counted before (a resent
-- batch is duplicates, even once its period is closed).
-- name: UsageEventsCounted :many
SELECT idempotency_key FROM usage_events
WHERE subscription_id = @subscription_id::bigint AND idempotency_key = ANY(@keys::text[]);

-- UsageCustomerShare takes the subscription's customer FOR KEY SHARE first:
-- closing a period (ChargeOverage) locks the customer, then the period, and
-- an ingest takes them in that order too (its notices reference the
-- customer), so the two wait instead of deadlocking.
-- name: UsageCustomerShare :exec
SELECT 1 FROM customers c JOIN subscriptions s ON s.customer_id = c.id WHERE s.id = @subscription_id::bigint FOR KEY SHARE OF c;
