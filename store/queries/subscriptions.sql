-- SubscriptionInsert gives a license with updates_months an updates-until
-- date that many calendar months after the order.
-- name: SubscriptionInsert :one
INSERT INTO subscriptions (customer_id, product_id, auto_renew, idempotency_key, updates_until, parameters)
VALUES (@customer_id, @product_id, @auto_renew, @idempotency_key,
    CASE WHEN @updates_months::integer > 0 THEN now() + make_interval(months => @updates_months::integer) END, @parameters)
RETURNING *;

-- SubscriptionOrderLock takes the customer's row lock, which orders of one
-- customer queue on, and reads its status and the product ordered, in one
-- round trip. No row: the customer or the product does not exist.
-- name: SubscriptionOrderLock :one
SELECT c.status AS customer_status, sqlc.embed(p)
FROM customers c, products p
WHERE c.id = @customer_id AND p.id = @product_id
FOR UPDATE OF c;

-- SubscriptionInsertUnderLimit is SubscriptionInsert unless max_unpaid is
-- not 0 and the customer has that many orders waiting for a payment: then
-- no row. It runs after SubscriptionOrderLock, so its count sees every
-- order of the customer committed before.
-- name: SubscriptionInsertUnderLimit :one
INSERT INTO subscriptions (customer_id, product_id, auto_renew, idempotency_key, updates_until, parameters)
SELECT @customer_id, @product_id, @auto_renew, @idempotency_key,
    CASE WHEN @updates_months::integer > 0 THEN now() + make_interval(months => @updates_months::integer) END, @parameters
WHERE @max_unpaid::integer = 0 OR (SELECT count(*) FROM subscriptions
    WHERE customer_id = @customer_id AND status = 'unpaid' AND awaiting_payment) < @max_unpaid::integer
RETURNING *;

-- SubscriptionLockParameters reads a subscription's parameters and status
-- under its row lock, with its product's declared parameters.
-- name: SubscriptionLockParameters :one
SELECT s.status, s.parameters, p.order_parameters
FROM subscriptions s JOIN products p ON p.id = s.product_id
WHERE s.id = $1
FOR UPDATE OF s;

-- name: SubscriptionSetParameters :exec
UPDATE subscriptions SET parameters = @parameters, updated_at = now() WHERE id = @id;

-- SubscriptionParameters reads a subscription's parameters and the order
-- parameters of product_id (the product its first period was charged for).
-- name: SubscriptionParameters :one
SELECT s.parameters, p.order_parameters
FROM subscriptions s, products p
WHERE s.id = @id AND p.id = @product_id;

-- name: SubscriptionSetUpdatesUntil :execrows
UPDATE subscriptions SET updates_until = @updates_until, updated_at = now() WHERE id = @id;

-- name: SubscriptionGet :one
SELECT * FROM subscriptions WHERE id = $1;

-- name: SubscriptionGetByIdempotencyKey :one
SELECT * FROM subscriptions WHERE customer_id = @customer_id AND idempotency_key = @idempotency_key::text;

-- name: SubscriptionCount :one
SELECT count(*) FROM subscriptions
WHERE (sqlc.narg('customer_id')::bigint IS NULL OR customer_id = sqlc.narg('customer_id'))
  AND (sqlc.narg('product_id')::bigint IS NULL OR product_id = sqlc.narg('product_id'))
  AND (@status::text = '' OR status = @status);

-- name: SubscriptionList :many
SELECT * FROM subscriptions
WHERE (sqlc.narg('customer_id')::bigint IS NULL OR customer_id = sqlc.narg('customer_id'))
  AND (sqlc.narg('product_id')::bigint IS NULL OR product_id = sqlc.narg('product_id'))
  AND (@status::text = '' OR status = @status)
ORDER BY id DESC
LIMIT sqlc.arg('limit')::bigint OFFSET sqlc.arg('offset')::bigint;

-- SubscriptionLiveIDs lists the subscriptions whose workflows still run.
-- name: SubscriptionLiveIDs :many
SELECT id FROM subscriptions
WHERE customer_id = $1 AND status IN ('unpaid', 'active', 'suspended', 'awaiting_parameters')
ORDER BY id;

-- name: SubscriptionCountAwaitingPayment :one
SELECT count(*) FROM subscriptions WHERE customer_id = $1 AND status = 'unpaid' AND awaiting_payment;

-- SubscriptionAwaitingPayment counts the customer's orders waiting for a
-- payment other than order id, and whether order id is one of them.
-- name: SubscriptionAwaitingPayment :one
SELECT count(*) FILTER (WHERE id <> @id) AS waiting, count(*) FILTER (WHERE id = @id) AS already
FROM subscriptions
WHERE customer_id = @customer_id AND status = 'unpaid' AND awaiting_payment;

-- name: SubscriptionMarkAwaitingPayment :exec
UPDATE subscriptions SET awaiting_payment = true, workflow_started_at = coalesce(workflow_started_at, now())
WHERE id = $1 AND status = 'unpaid';

-- name: SubscriptionMarkCharged :execrows
UPDATE subscriptions SET status = 'active', suspend_reason = '',
    paid_until = greatest(paid_until, @paid_until::timestamptz), product_id = @product_id, anchor_day = @anchor_day,
    workflow_started_at = coalesce(workflow_started_at, now()), updated_at = now()
WHERE id = @id;

-- SubscriptionSetState leaves paid_until alone when the parameter is NULL,
-- and anchor_day unless anchor_known.
-- name: SubscriptionSetState :execrows
UPDATE subscriptions SET status = @status, suspend_reason = @suspend_reason,
    paid_until = coalesce(sqlc.narg('paid_until')::timestamptz, paid_until), auto_renew = @auto_renew,
    anchor_day = CASE WHEN @anchor_known::boolean THEN sqlc.narg('anchor_day')::smallint ELSE anchor_day END,
    updated_at = now(), workflow_started_at = coalesce(workflow_started_at, now())
WHERE id = @id;

-- name: SubscriptionDeleteUnstarted :exec
DELETE FROM subscriptions
WHERE subscriptions.id = $1 AND status = 'unpaid' AND workflow_started_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM notices WHERE notices.subscription_id = $1);

-- name: SubscriptionMarkWorkflowStarted :exec
UPDATE subscriptions SET workflow_started_at = coalesce(workflow_started_at, now()) WHERE id = $1;

-- name: SubscriptionListUnstarted :many
SELECT * FROM subscriptions
WHERE workflow_started_at IS NULL AND created_at < now() - make_interval(secs => @age_seconds)
ORDER BY id
LIMIT 500;

-- SubscriptionPlan is what a subscription is billed by: its product (or
-- product_id's, when not 0) and its customer's time zone and post-paid flag.
-- name: SubscriptionPlan :one
SELECT p.id, p.name, p.price, p.currency, p.period_unit, p.period_count, p.auto_renew,
    p.incoming_days, p.grace_days, p.steps, p.webhook_url, c.time_zone, c.post_paid
FROM subscriptions s
JOIN products p ON p.id = coalesce(nullif(@product_id::bigint, 0), s.product_id)
JOIN customers c ON c.id = s.customer_id
WHERE s.id = @subscription_id;

-- SubscriptionUnpaidOrders lists the customer's orders waiting for their
-- first charge, oldest first, with their product's price.
-- name: SubscriptionUnpaidOrders :many
SELECT s.id, p.name, p.price, p.currency::text AS currency
FROM subscriptions s JOIN products p ON p.id = s.product_id
WHERE s.customer_id = $1 AND s.status = 'unpaid'
ORDER BY s.id;

-- SubscriptionSaveSchedule keeps the newest snapshot: an older version
-- (a retried activity of an earlier step) changes nothing.
-- It stores the reminders published with it (activities.Reminder) and
-- when the first of them the reminders schedule has not handled falls.
-- name: SubscriptionSaveSchedule :execrows
UPDATE subscriptions SET schedule = @schedule::jsonb, schedule_version = @version::bigint,
    reminders = @reminders::jsonb,
    reminders_at = (SELECT min((r ->> 'at')::timestamptz) FROM jsonb_array_elements(@reminders::jsonb) r
                    WHERE (r ->> 'at')::timestamptz > coalesce(subscriptions.reminded_through, '-infinity'))
WHERE id = @id AND schedule_version < @version::bigint;

-- SubscriptionGetWithSchedule reads a subscription with its published
-- schedule and the price now of the product its next period is of: the
-- schedule's next_product_id (workflows.Schedule.NextProductID) if set,
-- else its own. One round trip for GET /subscriptions/{id}.
-- name: SubscriptionGetWithSchedule :one
-- The price announced for the next period (announced_plans), if one was
-- for that product, comes first.
SELECT sqlc.embed(s), coalesce(a.price, p.price, 0)::bigint AS next_price, coalesce(a.currency, p.currency, '')::text AS next_currency,
    (a.price IS NOT NULL)::boolean AS next_announced
FROM subscriptions s
LEFT JOIN products p ON p.id = coalesce(nullif((s.schedule->>'next_product_id')::bigint, 0), s.product_id)
LEFT JOIN announced_plans a ON a.subscription_id = s.id AND a.product_id = p.id
    AND a.period = coalesce((s.schedule->>'period')::int, 0) + 1
WHERE s.id = $1;

-- name: SubscriptionSchedule :one
SELECT schedule, schedule_version FROM subscriptions WHERE id = $1;

-- SubscriptionCountByStatus counts subscriptions by status, for the metrics.
-- name: SubscriptionCountByStatus :many
SELECT status, count(*) AS count FROM subscriptions GROUP BY status;

-- RenewalsDueCount counts the renewals due and not yet charged: active,
-- automatically renewing subscriptions whose paid_until has passed (a
-- storm's backlog, for the metrics; subscriptions_renewals_due_idx), less
-- those whose renewal was tried and refused: their live schedule says they
-- wait for a payment, and they are no backlog of the workers'.
-- name: RenewalsDueCount :one
SELECT count(*) FROM subscriptions
WHERE status = 'active' AND auto_renew AND paid_until <= now()
  AND NOT coalesce((schedule ->> 'waiting_for_payment')::boolean, false);
