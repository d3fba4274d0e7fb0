-- +goose Up
-- Messages from staff to customers (one, or all; of one language or any).
-- total counts the users of the customers it goes to, set when sending
-- starts; skipped those a cancel kept it from. The emails themselves are
-- rows of notices (object_type 'message', object_id the message's id).
CREATE TABLE messages (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint REFERENCES customers (id),
    language    text NOT NULL DEFAULT '',
    category    text NOT NULL,
    subject     text NOT NULL,
    body        text NOT NULL,
    rate        double precision NOT NULL,
    status      text NOT NULL DEFAULT 'sending' CHECK (status IN ('sending', 'done', 'cancelled')),
    total       integer NOT NULL DEFAULT 0,
    skipped     integer NOT NULL DEFAULT 0,
    created_by  bigint REFERENCES staff (id),
    created_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz
);

-- Files that go with every email of a message.
CREATE TABLE message_attachments (
    message_id   bigint NOT NULL REFERENCES messages (id),
    position     integer NOT NULL,
    name         text NOT NULL,
    content_type text NOT NULL,
    content      bytea NOT NULL,
    PRIMARY KEY (message_id, position)
);

-- A message's progress counts its rows of the log.
CREATE INDEX notices_object_idx ON notices (object_type, object_id);

-- +goose Down
DROP INDEX notices_object_idx;
DROP TABLE message_attachments;
DROP TABLE messages;
