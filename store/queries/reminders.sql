-- AnnouncePlan records the price subscription @subscription_id's period
-- @period is announced at, for product @product_id, unless one was
-- announced for that period and product already, and returns the one that
-- stands: the first reader's. A later period's announcement is never
-- replaced by an earlier one's (a reader that looked before the renewal):
-- then nothing is returned.
-- name: AnnouncePlan :many
WITH ins AS (
    INSERT INTO announced_plans AS a (subscription_id, period, product_id, price, currency)
    VALUES (@subscription_id, @period, @product_id, @price, @currency)
    ON CONFLICT (subscription_id) DO UPDATE
        SET period = excluded.period, product_id = excluded.product_id, price = excluded.price,
            currency = excluded.currency, announced_at = now()
        WHERE a.period < excluded.period OR (a.period = excluded.period AND a.product_id <> excluded.product_id)
    RETURNING a.price, a.currency
)
SELECT price, currency FROM ins
UNION ALL
SELECT price, currency FROM announced_plans
WHERE subscription_id = @subscription_id AND period = @period AND product_id = @product_id
  AND NOT EXISTS (SELECT 1 FROM ins);

-- AnnouncedPlan is the price announced for a subscription's period and product.
-- name: AnnouncedPlan :many
SELECT price, currency FROM announced_plans
WHERE subscription_id = @subscription_id AND period = @period AND product_id = @product_id;

-- RemindersDue lists the subscriptions with a reminder due by @now and not
-- yet handled, the earliest first (subscriptions_reminders_at_idx); only
-- subscription @subscription_id's if it is not 0; only those of shard
-- @shard of @shards (by id), so that batches run side by side.
-- name: RemindersDue :many
SELECT id, customer_id, reminders, reminded_through
FROM subscriptions
WHERE reminders_at <= @now::timestamptz AND (@subscription_id::bigint = 0 OR id = @subscription_id::bigint)
  AND id % greatest(@shards::int, 1) = @shard::int
ORDER BY reminders_at
LIMIT @max;

-- RemindersHandled records that every reminder of subscription @id due by
-- @through was handled, and when the next of those it now publishes falls,
-- if it still publishes @reminders, those the batch sent: reminders its
-- workflow published meanwhile are left to the next batch, which sends
-- those not sent already. It tells whether it recorded them.
-- name: RemindersHandled :execrows
UPDATE subscriptions
SET reminded_through = greatest(coalesce(reminded_through, '-infinity'), @through::timestamptz),
    reminders_at = (SELECT min((r ->> 'at')::timestamptz) FROM jsonb_array_elements(reminders) r
                    WHERE (r ->> 'at')::timestamptz > greatest(coalesce(reminded_through, '-infinity'), @through::timestamptz))
WHERE id = @id AND reminders = @reminders::jsonb;
