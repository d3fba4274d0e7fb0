-- +goose Up
-- Incoming mail gateways (seed 003): a mailbox polled for unread mail that
-- becomes tickets of a department. The password is encrypted with
-- MAIL_GATEWAY_KEY (AES-GCM: password_nonce, password_sealed); it is never
-- returned or logged.
CREATE TABLE mail_gateways (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name              text NOT NULL,
    type              text NOT NULL CHECK (type IN ('external', 'local')),
    protocol          text NOT NULL CHECK (protocol IN ('imap', 'pop3')),
    host              text NOT NULL,
    port              integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
    security          text NOT NULL CHECK (security IN ('implicit', 'starttls', 'none')),
    login             text NOT NULL,
    password_nonce    bytea NOT NULL,
    password_sealed   bytea NOT NULL,
    address           text NOT NULL,
    department_id     bigint NOT NULL REFERENCES departments (id),
    poll_seconds      integer NOT NULL DEFAULT 300 CHECK (poll_seconds >= 30),
    after_processing  text NOT NULL DEFAULT 'mark_read' CHECK (after_processing IN ('mark_read', 'delete')),
    max_message_bytes bigint NOT NULL DEFAULT 26214400 CHECK (max_message_bytes > 0),
    paused            boolean NOT NULL DEFAULT false,
    last_poll_at      timestamptz,
    last_error        text NOT NULL DEFAULT '',
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (security <> 'none' OR type = 'local')
);

-- Incoming emails: mail a gateway could not turn into a ticket by itself (an
-- unknown sender, an address of several clients, malformed or too large
-- mail). Staff turn one into a ticket for a chosen customer, or discard it.
CREATE TABLE incoming_emails (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    gateway_id    bigint NOT NULL REFERENCES mail_gateways (id) ON DELETE CASCADE,
    department_id bigint NOT NULL REFERENCES departments (id),
    from_address  text NOT NULL DEFAULT '',
    from_name     text NOT NULL DEFAULT '',
    subject       text NOT NULL DEFAULT '',
    body          text NOT NULL DEFAULT '',
    message_id    text,
    reason        text NOT NULL CHECK (reason IN ('unknown_sender', 'not_unique', 'malformed', 'too_large')),
    detail        text NOT NULL DEFAULT '',
    raw           bytea,
    status        text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'ticket', 'discarded')),
    ticket_id     bigint REFERENCES tickets (id),
    customer_id   bigint REFERENCES customers (id),
    handled_by    bigint REFERENCES staff (id),
    handled_at    timestamptz,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX incoming_emails_status_idx ON incoming_emails (department_id, status, id DESC);
CREATE INDEX incoming_emails_from_idx ON incoming_emails (lower(from_address), status);

-- Every mail a gateway took, once: by its identity in the mailbox (IMAP
-- UIDVALIDITY:UID, POP3 UIDL) and by its Message-ID, written in the
-- transaction of what it became, so that a retried poll, a worker that died
-- mid-batch or a POP3 server that keeps no read flag never makes a mail two
-- tickets or two posts.
CREATE TABLE mail_intake (
    id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    gateway_id        bigint NOT NULL REFERENCES mail_gateways (id) ON DELETE CASCADE,
    mailbox_id        text NOT NULL,
    message_id        text,
    outcome           text NOT NULL CHECK (outcome IN ('ticket', 'message', 'incoming', 'ignored')),
    reason            text NOT NULL DEFAULT '',
    ticket_id         bigint REFERENCES tickets (id) ON DELETE SET NULL,
    incoming_email_id bigint REFERENCES incoming_emails (id) ON DELETE SET NULL,
    created_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (gateway_id, mailbox_id)
);
CREATE UNIQUE INDEX mail_intake_message_id_key ON mail_intake (message_id) WHERE message_id IS NOT NULL;

-- +goose Down
DROP TABLE mail_intake;
DROP TABLE incoming_emails;
DROP TABLE mail_gateways;
