-- A user is read without its password hash (see sessions.sql for sign-in).

-- name: UserInsert :one
INSERT INTO users (customer_id, login, email, phone, first_name, last_name, language,
    password_hash, email_verified, main)
VALUES (@customer_id, @login, @email, @phone, @first_name, @last_name, @language,
    @password_hash, @email_verified, @main)
RETURNING id, customer_id, login, email, phone, first_name, last_name, language,
    email_verified, main, created_at, updated_at;

-- name: UserList :many
SELECT id, customer_id, login, email, phone, first_name, last_name, language,
    email_verified, main, created_at, updated_at
FROM users
WHERE customer_id = $1
ORDER BY main DESC, id;

-- name: UserGet :one
SELECT id, customer_id, login, email, phone, first_name, last_name, language,
    email_verified, main, created_at, updated_at
FROM users
WHERE id = @id AND customer_id = @customer_id;

-- name: UserGetForUpdate :one
SELECT id, customer_id, login, email, phone, first_name, last_name, language,
    email_verified, main, created_at, updated_at
FROM users
WHERE id = @id AND customer_id = @customer_id
FOR UPDATE;

-- name: UserUnsetMain :exec
UPDATE users SET main = false, updated_at = now() WHERE customer_id = $1 AND main;

-- UserUpdate keeps the password unless password_hash is not empty.
-- name: UserUpdate :one
UPDATE users SET email = @email, phone = @phone, first_name = @first_name, last_name = @last_name,
    language = @language, email_verified = @email_verified, main = @main,
    password_hash = coalesce(nullif(@password_hash::text, ''), password_hash), updated_at = now()
WHERE id = @id
RETURNING id, customer_id, login, email, phone, first_name, last_name, language,
    email_verified, main, created_at, updated_at;

-- name: UserIsMain :one
SELECT main FROM users WHERE id = @id AND customer_id = @customer_id;

-- name: UserDelete :exec
DELETE FROM users WHERE id = $1;
