-- A customer's last activity is the latest of: its registration, a client
-- sign-in of one of its users (staff impersonating it don't count), a
-- payment it recorded (whatever became of it) and an order (a subscription
-- created). A customer is deletable for inactivity when it is active, has no
-- live service (unpaid, active or suspended) and a zero balance in every
-- currency.

-- InactiveCustomers lists the deletable customers inactive since before
-- @since, oldest activity first.
-- name: InactiveCustomers :many
SELECT c.id, a.last_activity::timestamptz AS last_activity, c.deletion_warned_at
FROM customers c
CROSS JOIN LATERAL (SELECT greatest(c.registered_at,
        (SELECT max(s.created_at) FROM sessions s WHERE s.customer_id = c.id AND s.kind = 'client'),
        (SELECT max(p.created_at) FROM payments p WHERE p.customer_id = c.id),
        (SELECT max(o.created_at) FROM subscriptions o WHERE o.customer_id = c.id)) AS last_activity) a
WHERE c.status = 'active'
  AND a.last_activity < @since::timestamptz
  AND NOT EXISTS (SELECT 1 FROM subscriptions o WHERE o.customer_id = c.id AND o.status IN ('unpaid', 'active', 'suspended', 'awaiting_parameters'))
  AND NOT EXISTS (SELECT 1 FROM customer_balances b WHERE b.customer_id = c.id AND b.balance <> 0)
  AND (sqlc.narg(customer_id)::bigint IS NULL OR c.id = sqlc.narg(customer_id))
ORDER BY a.last_activity, c.id
LIMIT @max_rows;

-- CustomerWarnDeletion records that the warning of the inactivity since
-- @last_activity reached the customer at @warned_at, unless one was recorded
-- for it already; it returns the recorded time either way.
-- name: CustomerWarnDeletion :one
UPDATE customers SET deletion_warned_at = CASE
        WHEN deletion_warned_at IS NULL OR deletion_warned_at < @last_activity::timestamptz THEN @warned_at::timestamptz
        ELSE deletion_warned_at END
WHERE id = @id
RETURNING deletion_warned_at::timestamptz;

-- DeletionWarningSent gives when a deletion warning whose key starts with
-- @key_prefix was sent to the customer (the server took it), if it was.
-- name: DeletionWarningSent :many
SELECT updated_at FROM notices
WHERE customer_id = @customer_id AND event = 'account_deletion_warning' AND status = 'sent'
  AND starts_with(dedup_key, @key_prefix::text)
ORDER BY updated_at LIMIT 1;
