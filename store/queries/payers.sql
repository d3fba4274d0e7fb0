-- name: PayerInsert :one
INSERT INTO payers (customer_id, payer_type, legal_name, contact_name, email, phone, country,
    address, tax_id, registration_number)
VALUES (@customer_id, @payer_type, @legal_name, @contact_name, @email, @phone, @country,
    @address, @tax_id, @registration_number)
RETURNING *;

-- name: PayerList :many
SELECT * FROM payers WHERE customer_id = $1 ORDER BY id;

-- name: PayerGet :one
SELECT * FROM payers WHERE id = @id AND customer_id = @customer_id;

-- name: PayerUpdate :one
UPDATE payers SET payer_type = @payer_type, legal_name = @legal_name, contact_name = @contact_name,
    email = @email, phone = @phone, country = @country, address = @address, tax_id = @tax_id,
    registration_number = @registration_number, updated_at = now()
WHERE id = @id AND customer_id = @customer_id
RETURNING *;

-- name: PayerDelete :execrows
DELETE FROM payers WHERE id = @id AND customer_id = @customer_id;

-- name: PayerGetForUpdate :one
SELECT * FROM payers WHERE id = @id AND customer_id = @customer_id FOR UPDATE;

-- name: PayerSetVerification :one
UPDATE payers SET verification = @verification,
    verified_at = CASE WHEN @verification::text = 'verified' THEN now() ELSE NULL END,
    verification_comment = @verification_comment,
    info_requests = info_requests + CASE WHEN @verification::text = 'info_requested' THEN 1 ELSE 0 END,
    updated_at = now()
WHERE id = @id
RETURNING *;

-- name: PayerVerificationInsert :exec
INSERT INTO payer_verifications (payer_id, token_hash, expires_at) VALUES (@payer_id, @token_hash, @expires_at);

-- name: PayerVerificationGetForUpdate :one
SELECT * FROM payer_verifications WHERE token_hash = $1 FOR UPDATE;

-- name: PayerVerificationUse :exec
UPDATE payer_verifications SET used_at = now() WHERE id = $1;

-- name: PayerGetByID :one
SELECT * FROM payers WHERE id = $1;

-- PayerVerificationRetire ends a payer's unused links: its details changed,
-- or staff decided on it.
-- name: PayerVerificationRetire :exec
UPDATE payer_verifications SET expires_at = least(expires_at, now()) WHERE payer_id = $1 AND used_at IS NULL;
