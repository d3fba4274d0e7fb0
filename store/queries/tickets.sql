-- name: TicketInsert :one
INSERT INTO tickets (customer_id, department_id, subject, opened_by_staff_id, opened_by_user_id, source, reply_token)
VALUES (@customer_id, @department_id, @subject, sqlc.narg('opened_by_staff_id'), sqlc.narg('opened_by_user_id'), @source, @reply_token)
RETURNING *;

-- name: TicketGet :one
SELECT * FROM tickets WHERE id = @id;

-- TicketLock locks a ticket for a change: posts, status, assignment and
-- moves of one ticket happen one at a time.
-- name: TicketLock :one
SELECT * FROM tickets WHERE id = @id FOR UPDATE;

-- TicketUpdate sets what a change decided; closed_at follows the status.
-- last_message_at never goes back: a post whose transaction began before
-- the one that posted last (and waited for its lock) is not the latest.
-- name: TicketUpdate :one
UPDATE tickets SET status = @status, assignee_id = sqlc.narg('assignee_id'), department_id = @department_id,
    last_message_at = CASE WHEN @touch::boolean THEN greatest(last_message_at, now()) ELSE last_message_at END,
    closed_at = CASE WHEN @status = 'closed' THEN coalesce(closed_at, now()) ELSE NULL END,
    updated_at = now()
WHERE id = @id
RETURNING *;

-- name: TicketCount :one
SELECT count(*) FROM tickets
WHERE (sqlc.narg('departments')::bigint[] IS NULL OR department_id = ANY(sqlc.narg('departments')::bigint[]))
  AND (sqlc.narg('department_id')::bigint IS NULL OR department_id = sqlc.narg('department_id'))
  AND (@status::text = '' OR status = @status)
  AND (sqlc.narg('assignee_id')::bigint IS NULL OR assignee_id = sqlc.narg('assignee_id'))
  AND (NOT @unassigned::boolean OR assignee_id IS NULL)
  AND (sqlc.narg('customer_id')::bigint IS NULL OR customer_id = sqlc.narg('customer_id'));

-- name: TicketList :many
SELECT * FROM tickets
WHERE (sqlc.narg('departments')::bigint[] IS NULL OR department_id = ANY(sqlc.narg('departments')::bigint[]))
  AND (sqlc.narg('department_id')::bigint IS NULL OR department_id = sqlc.narg('department_id'))
  AND (@status::text = '' OR status = @status)
  AND (sqlc.narg('assignee_id')::bigint IS NULL OR assignee_id = sqlc.narg('assignee_id'))
  AND (NOT @unassigned::boolean OR assignee_id IS NULL)
  AND (sqlc.narg('customer_id')::bigint IS NULL OR customer_id = sqlc.narg('customer_id'))
ORDER BY last_message_at DESC, id DESC
LIMIT sqlc.arg('limit')::bigint OFFSET sqlc.arg('offset')::bigint;

-- name: TicketMessageInsert :one
INSERT INTO ticket_messages (ticket_id, kind, author_user_id, author_staff_id, author_name, author_email, body, source, mail_message_id)
VALUES (@ticket_id, @kind, sqlc.narg('author_user_id'), sqlc.narg('author_staff_id'), @author_name, @author_email, @body, @source,
    sqlc.narg('mail_message_id'))
RETURNING *;

-- name: TicketMessages :many
SELECT * FROM ticket_messages WHERE ticket_id = @ticket_id ORDER BY id;

-- name: TicketMessageByMailID :one
SELECT * FROM ticket_messages WHERE mail_message_id = @mail_message_id;

-- TicketMailLock serialises the posts of one mail (by its Message-ID), so
-- that a mail read twice at once is still stored once.
-- name: TicketMailLock :exec
SELECT pg_advisory_xact_lock(hashtextextended('ticket mail ' || @mail_message_id::text, 0));

-- name: TicketAttachmentsOf :many
SELECT id, ticket_id, message_id, name, content_type, size, sha256, created_at
FROM ticket_attachments WHERE ticket_id = @ticket_id ORDER BY message_id, id;

-- name: StaffIsActiveMember :one
SELECT EXISTS (
    SELECT 1 FROM staff_departments sd JOIN staff s ON s.id = sd.staff_id
    WHERE sd.staff_id = @staff_id AND sd.department_id = @department_id AND s.status = 'active'
) AS member;

-- name: UserName :one
SELECT trim(first_name || ' ' || last_name) AS name, email FROM users WHERE id = @id;

-- name: StaffName :one
SELECT coalesce(nullif(name, ''), login) AS name FROM staff WHERE id = @id;

-- TicketStaffNoticesWithdraw stops the staff notices about a ticket that
-- are not sent yet (queued, failed, or an email whose outcome is unknown)
-- to staff who no longer see it: not members of the department it moved
-- to, and not admins. Those never tried or failed are expired; an unknown
-- one is not sent again.
-- name: TicketStaffNoticesWithdraw :execrows
UPDATE notices AS n SET updated_at = now(), next_attempt_at = NULL, retry_until = now(),
    status = CASE WHEN n.status IN ('queued', 'failed') THEN 'expired' ELSE n.status END,
    error = 'not sent: the ticket moved to department ' || @department_id::bigint || ', which the staff member is not a member of'
        || CASE WHEN n.error <> '' THEN '; last error: ' || n.error ELSE '' END
WHERE n.object_type = 'ticket' AND n.object_id = @object_id::text AND n.staff_id IS NOT NULL
  AND (n.status IN ('queued', 'failed') OR (n.status = 'unknown' AND n.channel = 'email'))
  AND NOT EXISTS (SELECT 1 FROM staff AS s WHERE s.id = n.staff_id AND s.role = 'admin')
  AND NOT EXISTS (SELECT 1 FROM staff_departments AS sd WHERE sd.staff_id = n.staff_id AND sd.department_id = @department_id);
