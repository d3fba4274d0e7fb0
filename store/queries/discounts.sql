-- name: DiscountInsert :one
INSERT INTO discounts (customer_id, percent_bp, amount, currency, product_ids, valid_from, valid_until, note)
VALUES (@customer_id, @percent_bp, @amount, @currency, @product_ids, @valid_from, @valid_until, @note)
RETURNING *;

-- name: DiscountList :many
SELECT * FROM discounts WHERE customer_id = $1 ORDER BY id;

-- name: DiscountGet :one
SELECT * FROM discounts WHERE id = @id AND customer_id = @customer_id;

-- name: DiscountGetForUpdate :one
SELECT * FROM discounts WHERE id = @id AND customer_id = @customer_id FOR UPDATE;

-- name: DiscountUpdate :one
UPDATE discounts SET percent_bp = @percent_bp, amount = @amount, currency = @currency,
    product_ids = @product_ids, valid_from = @valid_from, valid_until = @valid_until, note = @note,
    updated_at = now()
WHERE id = @id AND customer_id = @customer_id
RETURNING *;

-- DiscountEnd ends a discount now: it no longer applies to a period that
-- begins from now on (one that has not begun is left empty, until = from).
-- name: DiscountEnd :one
UPDATE discounts SET ended_at = now(), updated_at = now(),
    valid_until = CASE WHEN valid_until IS NOT NULL AND valid_until <= now() THEN valid_until
                       ELSE greatest(valid_from, now()) END
WHERE id = @id AND customer_id = @customer_id
RETURNING *;

-- DiscountsValidAt lists the customer's discounts that may apply to a
-- period of product, in currency, that begins at at: valid at at, on all
-- products or on product, and a percent or an amount in currency.
-- name: DiscountsValidAt :many
SELECT * FROM discounts
WHERE customer_id = @customer_id
  AND valid_from <= @at AND (valid_until IS NULL OR valid_until > @at)
  AND (cardinality(product_ids) = 0 OR @product_id::bigint = ANY (product_ids))
  AND (percent_bp IS NOT NULL OR currency = @currency::text)
ORDER BY id;

-- name: ProductsMissing :many
SELECT x.id::bigint FROM unnest(@ids::bigint[]) AS x(id)
WHERE NOT EXISTS (SELECT 1 FROM products p WHERE p.id = x.id)
ORDER BY x.id;
