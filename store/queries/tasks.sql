-- name: TaskInsert :one
INSERT INTO tasks (department_id, title, description, assignee_id, due_at, status, ticket_id, customer_id, created_by_id)
VALUES (@department_id, @title, @description, sqlc.narg('assignee_id'), sqlc.narg('due_at'), @status,
    sqlc.narg('ticket_id'), sqlc.narg('customer_id'), @created_by_id)
RETURNING *;

-- name: TaskGet :one
SELECT * FROM tasks WHERE id = @id;

-- name: TaskLock :one
SELECT * FROM tasks WHERE id = @id FOR UPDATE;

-- name: TaskUpdate :one
UPDATE tasks SET title = @title, description = @description, assignee_id = sqlc.narg('assignee_id'),
    due_at = sqlc.narg('due_at'), status = @status, updated_at = now()
WHERE id = @id
RETURNING *;

-- TaskCount and TaskList select the tasks of a list: department_ids, when
-- not null, are the departments the caller may see (a staff member's own).

-- name: TaskCount :one
SELECT count(*) FROM tasks
WHERE (sqlc.narg('department_ids')::bigint[] IS NULL OR department_id = ANY(sqlc.narg('department_ids')::bigint[]))
  AND (sqlc.narg('department_id')::bigint IS NULL OR department_id = sqlc.narg('department_id'))
  AND (sqlc.narg('assignee_id')::bigint IS NULL OR assignee_id = sqlc.narg('assignee_id'))
  AND (@status::text = '' OR status = @status);

-- name: TaskList :many
SELECT * FROM tasks
WHERE (sqlc.narg('department_ids')::bigint[] IS NULL OR department_id = ANY(sqlc.narg('department_ids')::bigint[]))
  AND (sqlc.narg('department_id')::bigint IS NULL OR department_id = sqlc.narg('department_id'))
  AND (sqlc.narg('assignee_id')::bigint IS NULL OR assignee_id = sqlc.narg('assignee_id'))
  AND (@status::text = '' OR status = @status)
ORDER BY id DESC
LIMIT sqlc.arg('limit')::bigint OFFSET sqlc.arg('offset')::bigint;

-- TaskAssigneeOK says whether staff member staff_id is active and a member
-- of department department_id: the only staff a task of it can be assigned to.
-- name: TaskAssigneeOK :one
SELECT EXISTS (SELECT 1 FROM staff s JOIN staff_departments d ON d.staff_id = s.id
    WHERE s.id = @staff_id AND d.department_id = @department_id AND s.status = 'active') AS ok;

-- name: TaskTicketDepartment :one
SELECT department_id FROM tickets WHERE id = @id;

-- name: TaskCustomerExists :one
SELECT EXISTS (SELECT 1 FROM customers WHERE id = @id) AS ok;

-- name: DepartmentHasTasks :one
SELECT EXISTS (SELECT 1 FROM tasks WHERE department_id = @department_id) AS has;
