-- A balance is summed from the ledger: credits minus debits. PostgreSQL sums
-- bigint into numeric, so the sum itself can't overflow; it is never cast to
-- bigint here but converted in Go, where a sum beyond int64 is an error we
-- choose rather than a failed cast.

-- name: LedgerBalance :one
SELECT coalesce(sum(CASE kind WHEN 'credit' THEN amount ELSE -amount END), 0)::numeric AS balance
FROM ledger_entries
WHERE customer_id = $1 AND currency = $2;

-- name: LedgerBalances :many
SELECT currency, sum(CASE kind WHEN 'credit' THEN amount ELSE -amount END)::numeric AS balance
FROM ledger_entries
WHERE customer_id = $1
GROUP BY currency
ORDER BY currency;

-- LedgerInsert writes nothing, and returns no row, when the idempotency key is taken.
-- name: LedgerInsert :one
INSERT INTO ledger_entries (customer_id, kind, amount, currency, reason, reference, idempotency_key)
VALUES (@customer_id, @kind, @amount, @currency, @reason, @reference, @idempotency_key)
ON CONFLICT (idempotency_key) DO NOTHING
RETURNING *;

-- name: LedgerGetByKey :one
SELECT * FROM ledger_entries WHERE idempotency_key = $1;

-- name: LedgerGetDebit :one
SELECT * FROM ledger_entries
WHERE idempotency_key = @idempotency_key AND customer_id = @customer_id AND kind = 'debit';

-- name: LedgerCount :one
SELECT count(*) FROM ledger_entries WHERE customer_id = $1;

-- name: LedgerList :many
SELECT * FROM ledger_entries
WHERE customer_id = @customer_id
ORDER BY id DESC
LIMIT sqlc.arg('limit')::bigint OFFSET sqlc.arg('offset')::bigint;

-- CustomerChargeTermsForUpdate takes the customer's row lock and reads what a charge depends on.
-- name: CustomerChargeTermsForUpdate :one
SELECT post_paid, status, credit_limit FROM customers WHERE id = $1 FOR UPDATE;
