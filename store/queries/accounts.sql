-- The one-time links of the account notices (account_tokens).

-- name: AccountTokenInsert :one
INSERT INTO account_tokens (token_hash, purpose, user_id, email, expires_at)
VALUES (@token_hash, @purpose, @user_id, @email, @expires_at)
RETURNING id;

-- AccountTokenGet reads a token with its user, locked when it is to be used.
-- name: AccountTokenGet :one
SELECT t.id, t.purpose, t.user_id, t.email, t.expires_at, t.used_at, u.customer_id,
    u.email AS user_email, c.status AS customer_status
FROM account_tokens t
JOIN users u ON u.id = t.user_id
JOIN customers c ON c.id = u.customer_id
WHERE t.token_hash = @token_hash AND t.purpose = @purpose;

-- name: AccountTokenGetForUpdate :one
SELECT t.id, t.purpose, t.user_id, t.email, t.expires_at, t.used_at, u.customer_id,
    u.email AS user_email, c.status AS customer_status
FROM account_tokens t
JOIN users u ON u.id = t.user_id
JOIN customers c ON c.id = u.customer_id
WHERE t.token_hash = @token_hash AND t.purpose = @purpose
FOR UPDATE OF t, u;

-- name: AccountTokenUse :exec
UPDATE account_tokens SET used_at = now() WHERE id = $1;

-- AccountTokenRetire ends the unused links of a user for a purpose, when a
-- newer one is sent or one of them is used: only the last link works.
-- name: AccountTokenRetire :exec
UPDATE account_tokens SET expires_at = least(expires_at, now())
WHERE user_id = @user_id AND purpose = @purpose AND used_at IS NULL;

-- name: UserSetPassword :exec
UPDATE users SET password_hash = @password_hash, email_verified = email_verified OR @verify_email::boolean,
    updated_at = now()
WHERE id = @id;

-- name: UserVerifyEmail :exec
UPDATE users SET email_verified = true, updated_at = now() WHERE id = $1;

-- name: UserRequireActivation :exec
UPDATE users SET activation_required = true WHERE id = $1;

-- UserAwaitingActivation is the main user with this address whose customer
-- may not order before the address is confirmed.
-- name: UserAwaitingActivation :one
SELECT u.id, u.customer_id
FROM users u
JOIN customers c ON c.id = u.customer_id
WHERE lower(u.email) = lower(@email) AND u.main AND u.activation_required AND NOT u.email_verified
  AND c.status = 'active';

-- name: CustomerActivationPending :one
SELECT EXISTS (SELECT 1 FROM users
    WHERE customer_id = $1 AND main AND activation_required AND NOT email_verified)::boolean;

-- name: CustomerVerify :one
UPDATE customers SET verified_at = coalesce(verified_at, now()) WHERE id = $1
RETURNING verified_at;

-- name: CustomerVerifiedAt :one
SELECT verified_at FROM customers WHERE id = $1;

-- CustomerMainUserForUpdate locks an active customer's row and reads its main user.
-- name: CustomerMainUserForUpdate :one
SELECT u.id, u.email
FROM customers c
JOIN users u ON u.customer_id = c.id AND u.main
WHERE c.id = $1 AND c.status = 'active'
FOR UPDATE OF c;

-- name: CustomerHasVerificationToken :one
SELECT EXISTS (SELECT 1 FROM account_tokens t JOIN users u ON u.id = t.user_id
    WHERE u.customer_id = $1 AND t.purpose = 'verify_account')::boolean;
