-- +goose Up
-- Saved message texts: what staff pick instead of typing a message's
-- category, subject and text (seed "Send message": "You may use a
-- pre-defined template for the message"). A message records the text it
-- came from; deleting the text keeps the message, whose text_id becomes null.
CREATE TABLE message_texts (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL CONSTRAINT message_texts_name_key UNIQUE,
    category   text NOT NULL,
    subject    text NOT NULL,
    body       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE messages ADD COLUMN text_id bigint REFERENCES message_texts (id) ON DELETE SET NULL;

-- +goose Down
ALTER TABLE messages DROP COLUMN text_id;
DROP TABLE message_texts;
