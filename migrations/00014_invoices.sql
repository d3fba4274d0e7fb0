-- +goose Up
-- Invoices (issue 12). With the setting auto_invoicing on, each period charge
-- of a customer who is not post-paid issues one invoice in the charge's own
-- transaction, keyed by the charge's idempotency key: a retried charge finds
-- it and issues none. Numbers run 1, 2, 3... per year without a gap: the
-- year's counter row is taken FOR UPDATE by the issuing transaction, so a
-- rollback gives its number back and two transactions can't take the same.
ALTER TABLE settings
    ADD COLUMN auto_invoicing   boolean NOT NULL DEFAULT false,
    ADD COLUMN invoice_provider text NOT NULL DEFAULT '';

CREATE TABLE invoice_counters (
    year integer PRIMARY KEY,
    last bigint  NOT NULL CHECK (last >= 1)
);

CREATE TABLE invoices (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number          text NOT NULL CONSTRAINT invoices_number_key UNIQUE,
    year            integer NOT NULL,
    seq             bigint NOT NULL,
    customer_id     bigint NOT NULL REFERENCES customers (id),
    subscription_id bigint REFERENCES subscriptions (id),
    ledger_entry_id bigint NOT NULL CONSTRAINT invoices_ledger_entry_key UNIQUE REFERENCES ledger_entries (id),
    charge_key      text NOT NULL CONSTRAINT invoices_charge_key UNIQUE,
    status          text NOT NULL CHECK (status IN ('paid')),
    currency        char(3) NOT NULL,
    total           bigint NOT NULL,
    -- lines: [{name, description, period_from, period_until, quantity, unit_price, total}]
    lines           jsonb NOT NULL,
    customer_name   text NOT NULL,
    -- payer: the payer's legal details when issued, null without a payer.
    payer           jsonb,
    provider        text NOT NULL,
    issued_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (year, seq)
);
CREATE INDEX invoices_customer_idx ON invoices (customer_id, id);

-- An issued invoice never changes: a correction will be a credit note.
-- +goose StatementBegin
CREATE FUNCTION invoices_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'invoice % is issued and never changes', OLD.number;
END $$;
-- +goose StatementEnd
CREATE TRIGGER invoices_immutable BEFORE UPDATE OR DELETE ON invoices
    FOR EACH ROW EXECUTE FUNCTION invoices_immutable();

-- +goose Down
DROP TABLE invoices;
DROP FUNCTION invoices_immutable();
DROP TABLE invoice_counters;
ALTER TABLE settings DROP COLUMN auto_invoicing, DROP COLUMN invoice_provider;
