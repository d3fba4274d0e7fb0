-- +goose Up
-- Credit notes (issue 12): the only correction of an issued invoice, a new
-- document that references it and credits the customer's balance. Numbers
-- run 1, 2, 3... per year without a gap on their own counter, taken FOR
-- UPDATE like the invoices'. The credit notes of an invoice never sum to more
-- than its total: the issuing transaction holds the customer's row lock
-- (every ledger write does) while it sums them.
CREATE TABLE credit_note_counters (
    year integer PRIMARY KEY,
    last bigint  NOT NULL CHECK (last >= 1)
);

CREATE TABLE credit_notes (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number          text NOT NULL CONSTRAINT credit_notes_number_key UNIQUE,
    year            integer NOT NULL,
    seq             bigint NOT NULL,
    invoice_id      bigint NOT NULL REFERENCES invoices (id),
    customer_id     bigint NOT NULL REFERENCES customers (id),
    -- ledger_entry_id: the credit it made (a refund's credit note: the refund).
    ledger_entry_id bigint NOT NULL CONSTRAINT credit_notes_ledger_entry_key UNIQUE REFERENCES ledger_entries (id),
    -- request_key: "invoice:<id>:<Idempotency-Key>" or "refund:<charge key>";
    -- a resent request finds its credit note by it.
    request_key     text NOT NULL CONSTRAINT credit_notes_request_key UNIQUE,
    currency        char(3) NOT NULL,
    amount          bigint NOT NULL CHECK (amount > 0),
    reason          text NOT NULL,
    issued_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (year, seq)
);
CREATE INDEX credit_notes_invoice_idx ON credit_notes (invoice_id);
CREATE INDEX credit_notes_customer_idx ON credit_notes (customer_id, id);

-- invoice_status is an invoice's shown status, derived from its credit notes:
-- the row itself never changes.
-- +goose StatementBegin
CREATE FUNCTION invoice_status(invoice bigint, total bigint) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT CASE WHEN credited = 0 THEN 'paid' WHEN credited < total THEN 'partially_credited' ELSE 'credited' END
    FROM (SELECT coalesce(sum(amount), 0) AS credited FROM credit_notes WHERE invoice_id = invoice) c
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION credit_notes_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'credit note % is issued and never changes', OLD.number;
END $$;
-- +goose StatementEnd
CREATE TRIGGER credit_notes_immutable BEFORE UPDATE OR DELETE ON credit_notes
    FOR EACH ROW EXECUTE FUNCTION credit_notes_immutable();

-- +goose Down
DROP FUNCTION invoice_status(bigint, bigint);
DROP TABLE credit_notes;
DROP FUNCTION credit_notes_immutable();
DROP TABLE credit_note_counters;
