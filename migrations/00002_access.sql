-- +goose Up
-- Staff members sign in to the staff side. Admins may do everything; a staff
-- member may do what their permissions allow. Departments (support) will join
-- through a staff_departments table.
CREATE TABLE staff (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    login         text NOT NULL,
    email         text NOT NULL,
    name          text NOT NULL DEFAULT '',
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'staff')),
    permissions   text[] NOT NULL DEFAULT '{}',
    status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX staff_login_key ON staff (lower(login));
CREATE UNIQUE INDEX staff_email_key ON staff (lower(email));

-- Sessions are opaque bearer tokens; only their SHA-256 is stored. A client
-- session belongs to a user; a staff session to a staff member; an
-- impersonation session lets a staff member act in a customer's panel.
CREATE TABLE sessions (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash        bytea NOT NULL UNIQUE,
    kind              text NOT NULL CHECK (kind IN ('staff', 'client', 'impersonation')),
    staff_id          bigint REFERENCES staff (id),
    user_id           bigint REFERENCES users (id) ON DELETE CASCADE,
    customer_id       bigint REFERENCES customers (id),
    parent_session_id bigint REFERENCES sessions (id),
    ip                inet,
    created_at        timestamptz NOT NULL DEFAULT now(),
    expires_at        timestamptz NOT NULL,
    revoked_at        timestamptz,
    CHECK (kind <> 'staff' OR staff_id IS NOT NULL),
    CHECK (kind <> 'client' OR (user_id IS NOT NULL AND customer_id IS NOT NULL)),
    CHECK (kind <> 'impersonation' OR (staff_id IS NOT NULL AND customer_id IS NOT NULL))
);

-- API keys let staff integrations call the API as their staff member.
CREATE TABLE api_keys (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    staff_id     bigint NOT NULL REFERENCES staff (id),
    name         text NOT NULL,
    prefix       text NOT NULL,
    key_hash     bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_used_at timestamptz,
    revoked_at   timestamptz
);

-- Failed sign-ins per login and per address, to slow guessing down.
CREATE TABLE login_failures (
    key             text PRIMARY KEY,
    failures        integer NOT NULL,
    last_failure_at timestamptz NOT NULL
);

-- Who did what to which object, when, from where. Written in the same
-- transaction as the change it records.
CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor_kind  text NOT NULL CHECK (actor_kind IN ('anonymous', 'staff', 'client', 'api_key', 'impersonation', 'system')),
    staff_id    bigint REFERENCES staff (id),
    user_id     bigint,
    api_key_id  bigint REFERENCES api_keys (id),
    customer_id bigint REFERENCES customers (id),
    action      text NOT NULL,
    object_type text NOT NULL DEFAULT '',
    object_id   text NOT NULL DEFAULT '',
    ip          inet,
    details     jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);
CREATE INDEX audit_log_customer_idx ON audit_log (customer_id, at DESC);
CREATE INDEX audit_log_staff_idx ON audit_log (staff_id, at DESC);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE login_failures;
DROP TABLE api_keys;
DROP TABLE sessions;
DROP TABLE staff;
