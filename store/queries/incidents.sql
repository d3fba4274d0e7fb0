-- The support incidents ledger (migrations/00023). Writers hold the
-- customer's row lock (IncidentCustomerLock) so that the balance they check
-- is the balance they write to.

-- IncidentCustomerLock locks the customer's row FOR NO KEY UPDATE: it
-- serialises the incidents' writers with each other and with the money
-- ledger's (FOR UPDATE), but not with the KEY SHARE lock that inserting the
-- ticket's row (its foreign key) took earlier in the same transaction. FOR
-- UPDATE there deadlocks two tickets of one customer opened at once: each
-- would wait for the other's KEY SHARE.
-- name: IncidentCustomerLock :exec
SELECT 1 FROM customers WHERE id = @id FOR NO KEY UPDATE;

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
