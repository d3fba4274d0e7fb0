-- name: InvoiceGetByChargeKey :one
SELECT * FROM invoices WHERE charge_key = $1;

-- InvoiceNextNumber takes the next number of year. The upsert locks the
-- year's counter row until the transaction ends: numbers are taken one
-- transaction at a time, and a rollback gives the number back.
-- name: InvoiceNextNumber :one
INSERT INTO invoice_counters (year, last) VALUES (@year, 1)
ON CONFLICT (year) DO UPDATE SET last = invoice_counters.last + 1
RETURNING last;

-- name: InvoiceInsert :one
INSERT INTO invoices (number, year, seq, customer_id, subscription_id, ledger_entry_id, charge_key, status,
    currency, total, lines, customer_name, payer, provider, issued_at)
VALUES (@number, @year, @seq, @customer_id, @subscription_id, @ledger_entry_id, @charge_key, @status,
    @currency, @total, @lines, @customer_name, @payer, @provider, @issued_at)
RETURNING *;

-- name: InvoiceGet :one
SELECT * FROM invoices WHERE id = $1;

-- name: InvoiceCount :one
SELECT count(*) FROM invoices
WHERE (sqlc.narg('customer_id')::bigint IS NULL OR customer_id = sqlc.narg('customer_id'))
  AND (@status::text = '' OR invoice_status(id, total) = @status)
  AND (sqlc.narg('from')::timestamptz IS NULL OR issued_at >= sqlc.narg('from'))
  AND (sqlc.narg('until')::timestamptz IS NULL OR issued_at < sqlc.narg('until'));

-- name: InvoiceList :many
SELECT * FROM invoices
WHERE (sqlc.narg('customer_id')::bigint IS NULL OR customer_id = sqlc.narg('customer_id'))
  AND (@status::text = '' OR invoice_status(id, total) = @status)
  AND (sqlc.narg('from')::timestamptz IS NULL OR issued_at >= sqlc.narg('from'))
  AND (sqlc.narg('until')::timestamptz IS NULL OR issued_at < sqlc.narg('until'))
ORDER BY id DESC
LIMIT sqlc.arg('limit')::bigint OFFSET sqlc.arg('offset')::bigint;

-- InvoiceSource reads, for an invoice of a charge, what it shows of the
-- customer, the product and the customer's first payer.
-- name: InvoiceSource :one
SELECT c.name AS customer_name, c.post_paid, p.name AS product_name, p.description AS product_description,
    (SELECT row_to_json(py) FROM (
        SELECT payer_type AS type, legal_name, country, address, tax_id, registration_number, email
        FROM payers WHERE customer_id = c.id ORDER BY id LIMIT 1) py)::jsonb AS payer
FROM customers c, products p
WHERE c.id = @customer_id AND p.id = @product_id;
