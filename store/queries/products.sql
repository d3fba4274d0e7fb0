-- name: ProductInsert :one
INSERT INTO products (name, description, price, currency, period_unit, period_count, auto_renew,
    incoming_days, grace_days, status, steps, webhook_url, webhook_secret, kind, updates_months, order_parameters,
    support_incidents)
VALUES (@name, @description, @price, @currency, @period_unit, @period_count, @auto_renew,
    @incoming_days, @grace_days, @status, @steps, @webhook_url, @webhook_secret, @kind, @updates_months, @order_parameters,
    @support_incidents)
RETURNING *;

-- name: ProductUpdate :one
UPDATE products SET name = @name, description = @description, price = @price, currency = @currency,
    period_unit = @period_unit, period_count = @period_count, auto_renew = @auto_renew,
    incoming_days = @incoming_days, grace_days = @grace_days, status = @status, steps = @steps,
    webhook_url = @webhook_url, webhook_secret = @webhook_secret, kind = @kind,
    updates_months = @updates_months, order_parameters = @order_parameters,
    support_incidents = @support_incidents, updated_at = now()
WHERE id = @id
RETURNING *;

-- name: ProductGet :one
SELECT * FROM products WHERE id = $1;

-- name: ProductCount :one
SELECT count(*) FROM products WHERE @status::text = '' OR status = @status;

-- name: ProductList :many
SELECT * FROM products
WHERE @status::text = '' OR status = @status
ORDER BY id
LIMIT sqlc.arg('limit')::bigint OFFSET sqlc.arg('offset')::bigint;

-- name: ProductNoticeUpsert :exec
INSERT INTO product_notices (product_id, state, email, sms, subject, body, sms_body, sender_name, reply_to)
VALUES (@product_id, @state, @email, @sms, @subject, @body, @sms_body, @sender_name, @reply_to)
ON CONFLICT (product_id, state) DO UPDATE SET email = @email, sms = @sms, subject = @subject,
    body = @body, sms_body = @sms_body, sender_name = @sender_name, reply_to = @reply_to;

-- name: ProductNoticeList :many
SELECT * FROM product_notices WHERE product_id = $1;
