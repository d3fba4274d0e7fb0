-- name: DepartmentInsert :one
INSERT INTO departments (name, show_in_support, email, requires_incidents)
VALUES (@name, @show_in_support, @email, @requires_incidents)
RETURNING *;

-- name: DepartmentGet :one
SELECT * FROM departments WHERE id = @id;

-- name: DepartmentLock :one
SELECT * FROM departments WHERE id = @id FOR UPDATE;

-- name: DepartmentList :many
SELECT * FROM departments ORDER BY lower(name), id;

-- name: DepartmentUpdate :one
UPDATE departments SET name = @name, show_in_support = @show_in_support, email = @email,
    requires_incidents = @requires_incidents, updated_at = now()
WHERE id = @id
RETURNING *;

-- name: DepartmentDelete :execrows
DELETE FROM departments WHERE id = @id;

-- name: DepartmentHasTickets :one
SELECT EXISTS (SELECT 1 FROM tickets WHERE department_id = @department_id) AS has;

-- name: DepartmentStaffIDs :many
SELECT staff_id FROM staff_departments WHERE department_id = @department_id ORDER BY staff_id;

-- name: DepartmentMembers :many
SELECT department_id, staff_id FROM staff_departments ORDER BY department_id, staff_id;

-- name: StaffDepartmentIDs :many
SELECT department_id FROM staff_departments WHERE staff_id = @staff_id ORDER BY department_id;

-- StaffDepartmentsClear drops a staff member's memberships (before they are set again).
-- name: StaffDepartmentsClear :exec
DELETE FROM staff_departments WHERE staff_id = @staff_id;

-- name: StaffDepartmentsAdd :exec
INSERT INTO staff_departments (staff_id, department_id)
SELECT @staff_id, unnest(@department_ids::bigint[])
ON CONFLICT DO NOTHING;

-- name: DepartmentsExisting :many
SELECT id FROM departments WHERE id = ANY(@ids::bigint[]);
