-- Incoming emails for staff (the gateway's intake writes them).

-- name: IncomingEmailGet :one
SELECT id, gateway_id, department_id, from_address, from_name, subject, body, message_id, reason, detail, status,
    ticket_id, customer_id, handled_by, handled_at, created_at, (raw IS NOT NULL)::boolean AS has_raw
FROM incoming_emails WHERE id = @id;

-- IncomingEmailLock locks an incoming email's row for its handling, raw
-- included: two staff members handling it at once are one after the other.
-- name: IncomingEmailLock :one
SELECT * FROM incoming_emails WHERE id = @id FOR UPDATE;

-- name: IncomingEmailRaw :one
SELECT department_id, raw FROM incoming_emails WHERE id = @id;

-- name: IncomingEmailHandle :one
UPDATE incoming_emails SET status = @status, ticket_id = sqlc.narg('ticket_id'), customer_id = sqlc.narg('customer_id'),
    handled_by = sqlc.narg('handled_by'), handled_at = now()
WHERE id = @id AND status = 'new'
RETURNING id;

-- IncomingEmailsWaitingFrom locks the mails of an unknown sender still
-- waiting for them to register, oldest first.
-- name: IncomingEmailsWaitingFrom :many
SELECT * FROM incoming_emails
WHERE lower(from_address) = lower(@address::text) AND status = 'new' AND reason = 'unknown_sender'
ORDER BY id
FOR UPDATE;

-- IncomingEmailCount and IncomingEmailList select the incoming emails of a
-- list: department_ids, when not null, are the departments the caller may
-- see (a staff member's own).

-- name: IncomingEmailCount :one
SELECT count(*) FROM incoming_emails
WHERE (sqlc.narg('department_ids')::bigint[] IS NULL OR department_id = ANY(sqlc.narg('department_ids')::bigint[]))
  AND (sqlc.narg('department_id')::bigint IS NULL OR department_id = sqlc.narg('department_id'))
  AND (sqlc.narg('gateway_id')::bigint IS NULL OR gateway_id = sqlc.narg('gateway_id'))
  AND (@status::text = '' OR status = @status)
  AND (@reason::text = '' OR reason = @reason);

-- name: IncomingEmailList :many
SELECT id, gateway_id, department_id, from_address, from_name, subject, left(body, 300)::text AS body, message_id, reason, detail, status,
    ticket_id, customer_id, handled_by, handled_at, created_at, (raw IS NOT NULL)::boolean AS has_raw
FROM incoming_emails
WHERE (sqlc.narg('department_ids')::bigint[] IS NULL OR department_id = ANY(sqlc.narg('department_ids')::bigint[]))
  AND (sqlc.narg('department_id')::bigint IS NULL OR department_id = sqlc.narg('department_id'))
  AND (sqlc.narg('gateway_id')::bigint IS NULL OR gateway_id = sqlc.narg('gateway_id'))
  AND (@status::text = '' OR status = @status)
  AND (@reason::text = '' OR reason = @reason)
ORDER BY id DESC
LIMIT sqlc.arg('limit')::bigint OFFSET sqlc.arg('offset')::bigint;
