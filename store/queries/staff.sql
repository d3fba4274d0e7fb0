-- A staff member is read without their password hash (see sessions.sql for sign-in).

-- name: StaffInsert :one
INSERT INTO staff (login, email, name, password_hash, role, permissions)
VALUES (@login, @email, @name, @password_hash, @role, @permissions)
RETURNING id, login, email, name, role, permissions, status, created_at, updated_at;

-- name: StaffCount :one
SELECT count(*) FROM staff;

-- name: StaffGet :one
SELECT id, login, email, name, role, permissions, status, created_at, updated_at
FROM staff
WHERE id = $1;

-- name: StaffList :many
SELECT id, login, email, name, role, permissions, status, created_at, updated_at
FROM staff
ORDER BY id;

-- StaffLock locks the rows of ids in one order, so crossed changes can't deadlock.
-- name: StaffLock :exec
SELECT id FROM staff WHERE id = ANY(@ids::bigint[]) ORDER BY id FOR UPDATE;

-- StaffUpdate keeps the password unless password_hash is not empty.
-- name: StaffUpdate :one
UPDATE staff SET name = @name, email = @email, role = @role, permissions = @permissions, status = @status,
    password_hash = coalesce(nullif(@password_hash::text, ''), password_hash), updated_at = now()
WHERE id = @id
RETURNING id, login, email, name, role, permissions, status, created_at, updated_at;
