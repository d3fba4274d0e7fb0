-- LowBalanceDailyServices lists the customer's services charged every day:
-- active, renewed automatically, of a product billed per day with a period
-- of one day, with its price, currency and the start of its next period (its
-- paid-until date), where the customer's discount is chosen. An index scan of
-- the customer's active subscriptions (subscriptions_customer_idx).
-- name: LowBalanceDailyServices :many
SELECT s.product_id, p.price, p.currency::text AS currency, s.paid_until
FROM subscriptions s JOIN products p ON p.id = s.product_id
WHERE s.customer_id = @customer_id AND s.status = 'active' AND s.auto_renew
  AND p.period_unit = 'day' AND p.period_count = 1 AND p.price > 0
ORDER BY s.id;

-- name: LowBalanceLevels :many
SELECT currency::text AS currency, level, crossings FROM low_balance_levels
WHERE customer_id = $1
ORDER BY currency;

-- name: LowBalanceSetLevel :exec
INSERT INTO low_balance_levels (customer_id, currency, level, crossings)
VALUES (@customer_id, @currency, sqlc.narg('level'), @crossings)
ON CONFLICT (customer_id, currency) DO UPDATE
SET level = excluded.level, crossings = excluded.crossings, updated_at = now();

-- LowBalanceSubscription reads, by its key, a subscription's customer and
-- whether its product is charged daily, before its state changes.
-- name: LowBalanceSubscription :one
SELECT s.customer_id, (p.period_unit = 'day' AND p.period_count = 1 AND p.price > 0)::boolean AS daily
FROM subscriptions s JOIN products p ON p.id = s.product_id
WHERE s.id = $1;
