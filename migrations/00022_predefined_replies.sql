-- +goose Up
-- Pre-defined replies (seed 003): texts staff insert into an answer, with
-- [VARIABLES] filled for the ticket. A reply is for every staff member of all
-- departments (department_id and staff_id NULL), for the members of one
-- department (department_id), or for one staff member (staff_id): never for
-- both. A department's or a staff member's replies go with it.
CREATE TABLE predefined_replies (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL,
    body          text NOT NULL,
    department_id bigint REFERENCES departments (id) ON DELETE CASCADE,
    staff_id      bigint REFERENCES staff (id) ON DELETE CASCADE,
    created_by_id bigint REFERENCES staff (id) ON DELETE SET NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT predefined_replies_one_scope CHECK (department_id IS NULL OR staff_id IS NULL)
);
CREATE INDEX predefined_replies_department_idx ON predefined_replies (department_id) WHERE department_id IS NOT NULL;
CREATE INDEX predefined_replies_staff_idx ON predefined_replies (staff_id) WHERE staff_id IS NOT NULL;

-- +goose Down
DROP TABLE predefined_replies;
