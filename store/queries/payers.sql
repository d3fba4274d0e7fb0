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
