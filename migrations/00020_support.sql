-- +goose Up
-- The support center (seed 003). Departments answer tickets; staff are
-- members of one or more, and a member sees and answers only the tickets of
-- their departments (admins see every department's). A department shown in
-- the support center is one clients can open tickets in; its email is the
-- mailbox address its replies carry (Reply-To), which the incoming mail
-- gateway reads; one that requires incidents takes one of the customer's
-- support incidents for each ticket opened in it.
CREATE TABLE departments (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name               text NOT NULL,
    show_in_support    boolean NOT NULL DEFAULT true,
    email              text NOT NULL DEFAULT '',
    requires_incidents boolean NOT NULL DEFAULT false,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX departments_name_key ON departments (lower(name));

CREATE TABLE staff_departments (
    staff_id      bigint NOT NULL REFERENCES staff (id) ON DELETE CASCADE,
    department_id bigint NOT NULL REFERENCES departments (id) ON DELETE CASCADE,
    PRIMARY KEY (staff_id, department_id)
);
CREATE INDEX staff_departments_department_idx ON staff_departments (department_id);

-- A ticket is a customer's conversation with one department. Its status is
-- moved by posts (a client's: open; staff's: answered) and by staff. A
-- ticket comes from the API or from a mail (source); reply_token, random,
-- goes into the mails about it so that the gateway can thread an answer.
CREATE TABLE tickets (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id        bigint NOT NULL REFERENCES customers (id),
    department_id      bigint NOT NULL REFERENCES departments (id),
    subject            text NOT NULL,
    status             text NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'answered', 'waiting_for_client', 'closed')),
    assignee_id        bigint REFERENCES staff (id),
    opened_by_staff_id bigint REFERENCES staff (id),
    opened_by_user_id  bigint REFERENCES users (id) ON DELETE SET NULL,
    source             text NOT NULL DEFAULT 'api' CHECK (source IN ('api', 'email')),
    reply_token        text NOT NULL UNIQUE,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    last_message_at    timestamptz NOT NULL DEFAULT now(),
    closed_at          timestamptz
);
CREATE INDEX tickets_department_idx ON tickets (department_id, last_message_at DESC, id DESC);
CREATE INDEX tickets_customer_idx ON tickets (customer_id, last_message_at DESC, id DESC);
CREATE INDEX tickets_assignee_idx ON tickets (assignee_id) WHERE assignee_id IS NOT NULL;

-- A message of a ticket: a client's, a staff member's answer, or an
-- internal note (kind 'note') that clients never see. One that came by mail
-- keeps its Message-ID: one mail never becomes two messages.
CREATE TABLE ticket_messages (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id       bigint NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    kind            text NOT NULL CHECK (kind IN ('client', 'staff', 'note')),
    author_user_id  bigint REFERENCES users (id) ON DELETE SET NULL,
    author_staff_id bigint REFERENCES staff (id),
    author_name     text NOT NULL DEFAULT '',
    author_email    text NOT NULL DEFAULT '',
    body            text NOT NULL,
    source          text NOT NULL DEFAULT 'api' CHECK (source IN ('api', 'email')),
    mail_message_id text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (kind = 'client' OR author_staff_id IS NOT NULL)
);
CREATE INDEX ticket_messages_ticket_idx ON ticket_messages (ticket_id, id);
CREATE UNIQUE INDEX ticket_messages_mail_key ON ticket_messages (mail_message_id) WHERE mail_message_id IS NOT NULL;

-- A file attached to a message, kept in the database with the message (one
-- transaction: a message never loses its files, a failed post leaves none).
CREATE TABLE ticket_attachments (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ticket_id    bigint NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    message_id   bigint NOT NULL REFERENCES ticket_messages (id) ON DELETE CASCADE,
    name         text NOT NULL,
    content_type text NOT NULL,
    size         bigint NOT NULL CHECK (size >= 0),
    sha256       bytea NOT NULL,
    content      bytea NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ticket_attachments_message_idx ON ticket_attachments (message_id, id);

-- +goose Down
DROP TABLE ticket_attachments;
DROP TABLE ticket_messages;
DROP TABLE tickets;
DROP TABLE staff_departments;
DROP TABLE departments;
