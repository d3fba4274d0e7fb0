-- name: StaffCredentials :one
SELECT id, login, email, name, role, permissions, status, created_at, updated_at, password_hash
FROM staff
WHERE lower(login) = lower(@login) AND status = 'active';

-- name: UserCredentials :one
SELECT u.id, u.customer_id, u.login, u.email, u.phone, u.first_name, u.last_name, u.language,
    u.email_verified, u.main, u.created_at, u.updated_at, u.password_hash
FROM users u
JOIN customers c ON c.id = u.customer_id
WHERE lower(u.login) = lower(@login) AND c.status = 'active';

-- SessionInsert stores a session; an id of 0 or an ip of '' is NULL.
-- name: SessionInsert :one
INSERT INTO sessions (token_hash, kind, staff_id, user_id, customer_id, parent_session_id, ip, expires_at)
VALUES (@token_hash, @kind, nullif(@staff_id::bigint, 0), nullif(@user_id::bigint, 0),
    nullif(@customer_id::bigint, 0), nullif(@parent_session_id::bigint, 0), nullif(@ip::text, '')::inet,
    @expires_at)
RETURNING id;

-- SessionPrincipal is who holds the live session with token_hash.
-- name: SessionPrincipal :one
SELECT s.id, s.kind, s.staff_id, s.user_id, s.customer_id, s.expires_at,
    st.role, coalesce(st.permissions, '{}') AS permissions,
    coalesce((SELECT array_agg(sd.department_id ORDER BY sd.department_id) FROM staff_departments sd
              WHERE sd.staff_id = s.staff_id), '{}')::bigint[] AS department_ids
FROM sessions s
LEFT JOIN staff st ON st.id = s.staff_id
LEFT JOIN customers c ON c.id = s.customer_id
LEFT JOIN sessions parent ON parent.id = s.parent_session_id
WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > now()
  AND (s.staff_id IS NULL OR st.status = 'active')
  AND (s.customer_id IS NULL OR c.status = 'active')
  AND (s.kind <> 'impersonation' OR (parent.revoked_at IS NULL AND parent.expires_at > now()
       AND (st.role = 'admin' OR 'impersonate' = ANY(st.permissions))));

-- name: SessionRevoke :exec
UPDATE sessions SET revoked_at = now()
WHERE (id = $1 OR parent_session_id = $1) AND revoked_at IS NULL;

-- name: SessionParent :one
SELECT parent_session_id FROM sessions WHERE id = $1;

-- name: SessionRevokeOfStaff :many
UPDATE sessions SET revoked_at = now()
WHERE staff_id = @staff_id::bigint AND id <> @keep AND revoked_at IS NULL
RETURNING id;

-- name: SessionRevokeOfUser :many
UPDATE sessions SET revoked_at = now()
WHERE user_id = @user_id::bigint AND id <> @keep AND revoked_at IS NULL
RETURNING id;

-- name: SessionRevokeChildren :exec
UPDATE sessions SET revoked_at = now()
WHERE parent_session_id = ANY(@parent_ids::bigint[]) AND revoked_at IS NULL;

-- name: SessionRevokeImpersonationsOfStaff :exec
UPDATE sessions SET revoked_at = now()
WHERE staff_id = @staff_id::bigint AND kind = 'impersonation' AND revoked_at IS NULL;

-- name: LoginFailureInit :exec
INSERT INTO login_failures (key, failures, last_failure_at)
SELECT k, 0, now() FROM unnest(@keys::text[]) k
ON CONFLICT (key) DO NOTHING;

-- LoginFailureListForUpdate reads the failures of keys within the last hour, under their row locks.
-- name: LoginFailureListForUpdate :many
SELECT key, CASE WHEN last_failure_at > now() - interval '1 hour' THEN failures ELSE 0 END::integer AS failures,
    last_failure_at
FROM login_failures
WHERE key = ANY(@keys::text[])
ORDER BY key
FOR UPDATE;

-- LoginFailureCount counts a failure under every key; failures older than an hour are forgotten.
-- name: LoginFailureCount :exec
INSERT INTO login_failures (key, failures, last_failure_at)
SELECT k, 1, now() FROM unnest(@keys::text[]) k
ON CONFLICT (key) DO UPDATE SET last_failure_at = now(), failures = CASE
    WHEN login_failures.last_failure_at > now() - interval '1 hour' THEN login_failures.failures + 1 ELSE 1 END;

-- LoginFailurePrune forgets failures older than an hour, a few at a time, so
-- that anonymous attempts with ever new logins can't grow the table. Rows
-- another sign-in holds are left for later: no deadlock.
-- name: LoginFailurePrune :exec
DELETE FROM login_failures WHERE key IN (SELECT key FROM login_failures
    WHERE last_failure_at < now() - interval '1 hour' ORDER BY last_failure_at LIMIT 100
    FOR UPDATE SKIP LOCKED);

-- name: LoginFailureDelete :exec
DELETE FROM login_failures WHERE key = $1;

-- name: LoginFailureDecrement :exec
UPDATE login_failures SET failures = greatest(failures - 1, 0) WHERE key = $1;
