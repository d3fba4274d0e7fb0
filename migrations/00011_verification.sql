-- +goose Up
-- A payer's verification: by the link of a payer_verification email, or by
-- staff, who may ask the customer for more information instead.
ALTER TABLE payers
    ADD COLUMN verification text NOT NULL DEFAULT 'none'
        CHECK (verification IN ('none', 'pending', 'verified', 'info_requested')),
    ADD COLUMN verified_at timestamptz,
    ADD COLUMN verification_comment text NOT NULL DEFAULT '',
    -- info_requests counts staff's requests for more information: each is
    -- one client_verification_info notice (its idempotency key).
    ADD COLUMN info_requests integer NOT NULL DEFAULT 0;

-- One-time links that confirm a payer, stored hashed (SHA-256).
CREATE TABLE payer_verifications (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    payer_id   bigint NOT NULL REFERENCES payers (id) ON DELETE CASCADE,
    token_hash bytea NOT NULL UNIQUE,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payer_verifications_payer_idx ON payer_verifications (payer_id);

-- When an inactive customer was warned that it will be deleted; a warning
-- older than the customer's last activity no longer counts.
ALTER TABLE customers ADD COLUMN deletion_warned_at timestamptz;

-- +goose Down
ALTER TABLE customers DROP COLUMN deletion_warned_at;
DROP TABLE payer_verifications;
ALTER TABLE payers DROP COLUMN info_requests, DROP COLUMN verification_comment, DROP COLUMN verified_at,
    DROP COLUMN verification;
