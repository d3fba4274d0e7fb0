-- A balance is credits minus debits, kept per customer and currency in
-- customer_balances by a trigger on ledger_entries (migration 00036). It is
-- numeric, as the sum it stands for, so that a ledger written before the cap
-- reads exactly; it is converted in Go, where a balance beyond int64 is an
-- error we choose rather than a failed cast.

-- LedgerBalance locks the customer's balance row in the currency; no row (no
-- entry yet) is pgx.ErrNoRows, a zero balance.
-- name: LedgerBalance :one
SELECT balance FROM customer_balances
WHERE customer_id = $1 AND currency = $2
FOR UPDATE;

-- name: LedgerBalances :many
SELECT currency, balance FROM customer_balances
WHERE customer_id = $1
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
