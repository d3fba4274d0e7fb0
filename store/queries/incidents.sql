-- The support incidents ledger (migrations/00023). Writers hold the
-- customer's row lock (CustomerLock) so that the balance they check is the
-- balance they write to.

-- name: IncidentBalance :one
SELECT coalesce(sum(delta), 0)::bigint AS balance FROM support_incidents WHERE customer_id = @customer_id;

-- name: IncidentInsert :one
INSERT INTO support_incidents (customer_id, delta, reason, ticket_id, subscription_id, period, staff_id, note, idempotency_key)
VALUES (@customer_id, @delta, @reason, @ticket_id, @subscription_id, @period, @staff_id, @note, @idempotency_key)
RETURNING *;

-- name: IncidentByKey :one
SELECT * FROM support_incidents WHERE customer_id = @customer_id AND idempotency_key = @idempotency_key;

-- name: IncidentCount :one
SELECT count(*) FROM support_incidents WHERE customer_id = @customer_id;

-- name: IncidentList :many
SELECT * FROM support_incidents WHERE customer_id = @customer_id
ORDER BY id DESC
LIMIT sqlc.arg('limit')::bigint OFFSET sqlc.arg('offset')::bigint;

-- name: IncidentTicketDepartment :one
-- What UseIncident needs of a ticket: its customer and whether its
-- department requires incidents.
SELECT t.customer_id, d.requires_incidents, d.name AS department_name
FROM tickets t JOIN departments d ON d.id = t.department_id
WHERE t.id = @ticket_id;

-- name: ProductSupportIncidents :one
SELECT support_incidents FROM products WHERE id = @id;
