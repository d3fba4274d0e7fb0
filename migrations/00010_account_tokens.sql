-- +goose Up
-- The one-time links of the account notices: set a password (registration),
-- confirm an email address (activation), verify an account. Only the SHA-256
-- of a token is kept; a token works once, until it expires.
CREATE TABLE account_tokens (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    token_hash bytea NOT NULL UNIQUE,
    purpose    text NOT NULL CHECK (purpose IN ('set_password', 'activate_email', 'verify_account')),
    user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- The address the link was sent to: an activation confirms only it, so
    -- a link sent before the address changed confirms nothing.
    email      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX account_tokens_user_idx ON account_tokens (user_id, purpose);

-- A self-registered client (while verify_client_email is on) may not order
-- until their email address is confirmed.
ALTER TABLE users ADD COLUMN activation_required boolean NOT NULL DEFAULT false;
-- When the client confirmed the account verification link (NULL: not yet).
ALTER TABLE customers ADD COLUMN verified_at timestamptz;

-- +goose Down
ALTER TABLE customers DROP COLUMN verified_at;
ALTER TABLE users DROP COLUMN activation_required;
DROP TABLE account_tokens;
