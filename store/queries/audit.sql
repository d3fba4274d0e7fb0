-- The audit list (store.AuditEntries) is built by hand: its filters are chosen at run time.

-- name: AuditInsert :one
INSERT INTO audit_log (actor_kind, staff_id, user_id, api_key_id, customer_id, action, object_type,
    object_id, ip, details)
VALUES (@actor_kind, @staff_id, @user_id, @api_key_id, @customer_id, @action, @object_type,
    @object_id, nullif(@ip::text, '')::inet, @details)
RETURNING id, at;
