-- An API key is read without the hash of the key.

-- name: APIKeyInsert :one
INSERT INTO api_keys (staff_id, name, prefix, key_hash)
VALUES (@staff_id, @name, @prefix, @key_hash)
RETURNING id, staff_id, name, prefix, created_at, last_used_at, revoked_at;

-- name: APIKeyList :many
SELECT id, staff_id, name, prefix, created_at, last_used_at, revoked_at
FROM api_keys
WHERE sqlc.narg('staff_id')::bigint IS NULL OR staff_id = sqlc.narg('staff_id')
ORDER BY id;

-- APIKeyRevoke revokes key id; with staff_id set, only that staff member's key.
-- name: APIKeyRevoke :one
UPDATE api_keys SET revoked_at = coalesce(revoked_at, now())
WHERE id = @id AND (sqlc.narg('staff_id')::bigint IS NULL OR staff_id = sqlc.narg('staff_id'))
RETURNING id, staff_id, name, prefix, created_at, last_used_at, revoked_at;

-- name: APIKeyRevokeOfStaff :exec
UPDATE api_keys SET revoked_at = now() WHERE staff_id = $1 AND revoked_at IS NULL;

-- name: APIKeyOwner :one
SELECT id, login, email, name, role, permissions, status, created_at, updated_at
FROM staff
WHERE staff.id = (SELECT api_keys.staff_id FROM api_keys WHERE api_keys.id = $1);

-- APIKeyPrincipal finds the live key with key_hash of an active staff member and marks it used.
-- name: APIKeyPrincipal :one
UPDATE api_keys k SET last_used_at = now()
FROM staff st
WHERE k.key_hash = $1 AND k.revoked_at IS NULL AND st.id = k.staff_id AND st.status = 'active'
RETURNING k.id AS api_key_id, st.id AS staff_id, st.role, st.permissions,
    coalesce((SELECT array_agg(sd.department_id ORDER BY sd.department_id) FROM staff_departments sd
              WHERE sd.staff_id = st.id), '{}')::bigint[] AS department_ids;
