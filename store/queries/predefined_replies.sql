-- name: PredefinedReplyInsert :one
INSERT INTO predefined_replies (name, body, department_id, staff_id, created_by_id)
VALUES (@name, @body, @department_id, @staff_id, @created_by_id)
RETURNING *;

-- name: PredefinedReplyGet :one
SELECT * FROM predefined_replies WHERE id = @id;

-- name: PredefinedReplyLock :one
SELECT * FROM predefined_replies WHERE id = @id FOR UPDATE;

-- name: PredefinedReplyUpdate :one
UPDATE predefined_replies SET name = @name, body = @body, department_id = @department_id, staff_id = @staff_id,
    updated_at = now()
WHERE id = @id
RETURNING *;

-- name: PredefinedReplyDelete :execrows
DELETE FROM predefined_replies WHERE id = @id;

-- PredefinedReplyUsable lists the replies a staff member may use: those of
-- all departments, those of their departments (every department's for an
-- admin), and the personal ones of personal_of (themselves; an admin may
-- name another staff member). The filters narrow it to one department's,
-- one scope's, one owner's.
-- name: PredefinedReplyUsable :many
SELECT * FROM predefined_replies r
WHERE ((r.department_id IS NULL AND r.staff_id IS NULL)
       OR (r.department_id IS NOT NULL AND (@every_department::boolean OR r.department_id = ANY(@department_ids::bigint[])))
       OR r.staff_id = @personal_of::bigint)
  AND (@department_id::bigint = 0 OR r.department_id = @department_id)
  AND (@owner_id::bigint = 0 OR r.staff_id = @owner_id)
  AND (@scope::text = ''
       OR (@scope = 'all' AND r.department_id IS NULL AND r.staff_id IS NULL)
       OR (@scope = 'department' AND r.department_id IS NOT NULL)
       OR (@scope = 'personal' AND r.staff_id IS NOT NULL))
ORDER BY lower(r.name), r.id
LIMIT sqlc.arg('limit')::bigint OFFSET sqlc.arg('offset')::bigint;

-- name: PredefinedReplyUsableCount :one
SELECT count(*) FROM predefined_replies r
WHERE ((r.department_id IS NULL AND r.staff_id IS NULL)
       OR (r.department_id IS NOT NULL AND (@every_department::boolean OR r.department_id = ANY(@department_ids::bigint[])))
       OR r.staff_id = @personal_of::bigint)
  AND (@department_id::bigint = 0 OR r.department_id = @department_id)
  AND (@owner_id::bigint = 0 OR r.staff_id = @owner_id)
  AND (@scope::text = ''
       OR (@scope = 'all' AND r.department_id IS NULL AND r.staff_id IS NULL)
       OR (@scope = 'department' AND r.department_id IS NOT NULL)
       OR (@scope = 'personal' AND r.staff_id IS NOT NULL));

-- PredefinedReplyForTicket lists the replies usable in a ticket of
-- department_id by staff member staff_id: all departments', the
-- department's, their own.
-- name: PredefinedReplyForTicket :many
SELECT * FROM predefined_replies r
WHERE (r.department_id IS NULL AND r.staff_id IS NULL) OR r.department_id = @department_id::bigint OR r.staff_id = @staff_id::bigint
ORDER BY lower(r.name), r.id
LIMIT sqlc.arg('limit')::bigint OFFSET sqlc.arg('offset')::bigint;

-- name: PredefinedReplyForTicketCount :one
SELECT count(*) FROM predefined_replies r
WHERE (r.department_id IS NULL AND r.staff_id IS NULL) OR r.department_id = @department_id::bigint OR r.staff_id = @staff_id::bigint;

-- PredefinedReplyTicketFacts reads what a reply's variables are filled
-- with in ticket id. The user is the one who opened the ticket, else the
-- customer's main user.
-- name: PredefinedReplyTicketFacts :one
SELECT t.id, t.department_id, t.subject, c.name AS customer_name, d.name AS department_name,
    COALESCE(NULLIF(opener.first_name, ''), main.first_name, '')::text AS user_name
FROM tickets t
JOIN customers c ON c.id = t.customer_id
JOIN departments d ON d.id = t.department_id
LEFT JOIN users opener ON opener.id = t.opened_by_user_id
LEFT JOIN users main ON main.customer_id = t.customer_id AND main.main
WHERE t.id = @id;

-- PredefinedReplyStaffName is how a staff member signs a reply: their name, else their login.
-- name: PredefinedReplyStaffName :one
SELECT COALESCE(NULLIF(name, ''), login)::text FROM staff WHERE id = @id;
