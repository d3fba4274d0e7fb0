-- +goose Up
-- A gateway mail's sender is looked up among payers' emails too (issue 14):
-- a payer's address of one customer opens that customer's ticket, an
-- address of several customers goes to Incoming emails (not_unique).
CREATE INDEX payers_email_idx ON payers (lower(email)) WHERE email <> '';

-- +goose Down
DROP INDEX payers_email_idx;
