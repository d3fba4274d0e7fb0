-- +goose Up
-- Tasks (seed 000's "Tasks" module): a piece of staff work in one support
-- department, seen by its members (and admins), optionally assigned to one
-- of them and linked to the ticket or customer it is about. A new task
-- notifies every member of its department. A link to a ticket or customer
-- is dropped with what it names; a department with tasks is not deleted.
CREATE TABLE tasks (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    department_id bigint NOT NULL REFERENCES departments (id),
    title         text NOT NULL,
    description   text NOT NULL DEFAULT '',
    assignee_id   bigint REFERENCES staff (id),
    due_at        timestamptz,
    status        text NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'in_progress', 'done', 'cancelled')),
    ticket_id     bigint REFERENCES tickets (id) ON DELETE SET NULL,
    customer_id   bigint REFERENCES customers (id) ON DELETE SET NULL,
    created_by_id bigint NOT NULL REFERENCES staff (id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tasks_department_idx ON tasks (department_id, id DESC);
CREATE INDEX tasks_assignee_idx ON tasks (assignee_id) WHERE assignee_id IS NOT NULL;

-- +goose Down
DROP TABLE tasks;
