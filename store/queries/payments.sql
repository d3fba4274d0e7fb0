-- name: PaymentInsert :one
INSERT INTO payments (customer_id, method, amount, currency, description, external_id)
VALUES (@customer_id, @method, @amount, @currency, @description, @external_id)
RETURNING *;

-- name: PaymentGet :one
SELECT * FROM payments WHERE id = $1;

-- name: PaymentGetForUpdate :one
SELECT * FROM payments WHERE id = $1 FOR UPDATE;

-- name: PaymentCount :one
SELECT count(*) FROM payments
WHERE (sqlc.narg('customer_id')::bigint IS NULL OR customer_id = sqlc.narg('customer_id'))
  AND (@status::text = '' OR status = @status);

-- name: PaymentList :many
SELECT * FROM payments
WHERE (sqlc.narg('customer_id')::bigint IS NULL OR customer_id = sqlc.narg('customer_id'))
  AND (@status::text = '' OR status = @status)
ORDER BY id DESC
LIMIT sqlc.arg('limit')::bigint OFFSET sqlc.arg('offset')::bigint;

-- name: PaymentMarkPaid :one
UPDATE payments SET status = 'paid', paid_at = now() WHERE id = $1 RETURNING *;

-- name: PaymentMarkCancelled :one
UPDATE payments SET status = 'cancelled', cancelled_at = now() WHERE id = $1 RETURNING *;
