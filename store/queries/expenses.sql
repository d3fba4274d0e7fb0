-- Expenses are the customer's debits. A subscription's charge is keyed
-- subscription:<id>:period:<n> (activities.PeriodChargeKey): the service and
-- the period are read back from that key, so the append-only ledger needs no
-- new column; so is the overage of a period (billing.OverageChargeKey, the same
-- key with ":overage"); other debits (staff's adjustments) have neither.

-- name: ExpenseCount :one
SELECT count(*) FROM ledger_entries e
WHERE e.customer_id = @customer_id AND e.kind = 'debit'
  AND (sqlc.narg('subscription_id')::bigint IS NULL
       OR substring(e.idempotency_key FROM '^subscription:(\d+):period:\d+(?::overage)?$') = sqlc.narg('subscription_id')::bigint::text)
  AND (sqlc.narg('from')::timestamptz IS NULL OR e.created_at >= sqlc.narg('from'))
  AND (sqlc.narg('until')::timestamptz IS NULL OR e.created_at < sqlc.narg('until'))
  AND (@currency::text = '' OR e.currency = @currency);

-- ExpenseTotals sums the same debits per currency in numeric, exactly, as
-- balances are summed.
-- name: ExpenseTotals :many
SELECT e.currency::text AS currency, sum(e.amount)::numeric AS total FROM ledger_entries e
WHERE e.customer_id = @customer_id AND e.kind = 'debit'
  AND (sqlc.narg('subscription_id')::bigint IS NULL
       OR substring(e.idempotency_key FROM '^subscription:(\d+):period:\d+(?::overage)?$') = sqlc.narg('subscription_id')::bigint::text)
  AND (sqlc.narg('from')::timestamptz IS NULL OR e.created_at >= sqlc.narg('from'))
  AND (sqlc.narg('until')::timestamptz IS NULL OR e.created_at < sqlc.narg('until'))
  AND (@currency::text = '' OR e.currency = @currency)
GROUP BY e.currency
ORDER BY e.currency;

-- name: ExpenseList :many
SELECT e.id, e.amount, e.currency::text AS currency, e.reason, e.reference, e.created_at,
    coalesce(substring(e.idempotency_key FROM '^subscription:(\d+):period:\d+(?::overage)?$')::bigint, 0)::bigint AS subscription_id,
    coalesce(substring(e.idempotency_key FROM '^subscription:\d+:period:(\d+)(?::overage)?$')::integer, 0)::integer AS period,
    coalesce(p.id, 0)::bigint AS product_id, coalesce(p.name, '')::text AS product_name
FROM ledger_entries e
LEFT JOIN subscriptions s ON s.customer_id = e.customer_id
    AND s.id = substring(e.idempotency_key FROM '^subscription:(\d+):period:\d+(?::overage)?$')::bigint
LEFT JOIN products p ON p.id = s.product_id
WHERE e.customer_id = @customer_id AND e.kind = 'debit'
  AND (sqlc.narg('subscription_id')::bigint IS NULL
       OR substring(e.idempotency_key FROM '^subscription:(\d+):period:\d+(?::overage)?$') = sqlc.narg('subscription_id')::bigint::text)
  AND (sqlc.narg('from')::timestamptz IS NULL OR e.created_at >= sqlc.narg('from'))
  AND (sqlc.narg('until')::timestamptz IS NULL OR e.created_at < sqlc.narg('until'))
  AND (@currency::text = '' OR e.currency = @currency)
ORDER BY e.id DESC
LIMIT sqlc.arg('limit')::bigint OFFSET sqlc.arg('offset')::bigint;
