-- +goose Up
-- Per-incident support (seed 003): a department that requires incidents
-- takes one of the customer's support incidents for each ticket opened in
-- it. support_incidents is each customer's append-only ledger of them: a
-- staff grant (+N), a purchase (+N, a period's charge of a subscription to a
-- product with support_incidents), a ticket (-1), a staff correction (+/-N)
-- or a refund of a purchase (-N, what is left of it). The balance is the sum,
-- read and written under the customer's row lock (as the money ledger), and
-- never goes below 0. The idempotency key, unique per customer, is what makes
-- a retry write nothing: the ticket, the charge, or the request's key.
CREATE TABLE support_incidents (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id     bigint NOT NULL REFERENCES customers (id),
    -- A refund takes back what is left of a purchase, which may be nothing:
    -- its entry, 0, still says that it was taken back, once.
    delta           integer NOT NULL CHECK (delta <> 0 OR reason = 'refund'),
    reason          text NOT NULL CHECK (reason IN ('grant', 'purchase', 'ticket', 'correction', 'refund')),
    ticket_id       bigint REFERENCES tickets (id) ON DELETE SET NULL,
    subscription_id bigint REFERENCES subscriptions (id),
    period          integer,
    staff_id        bigint REFERENCES staff (id) ON DELETE SET NULL,
    note            text NOT NULL DEFAULT '',
    idempotency_key text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CHECK (reason <> 'ticket' OR delta = -1),
    CHECK (reason <> 'purchase' OR (subscription_id IS NOT NULL AND period IS NOT NULL AND delta > 0))
);
CREATE INDEX support_incidents_customer_idx ON support_incidents (customer_id, id DESC);
CREATE UNIQUE INDEX support_incidents_key ON support_incidents (customer_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

-- A product may include support incidents: each period's charge of a
-- subscription to it grants that many.
ALTER TABLE products ADD COLUMN support_incidents integer NOT NULL DEFAULT 0
    CONSTRAINT products_support_incidents_check CHECK (support_incidents BETWEEN 0 AND 1000);

-- +goose Down
ALTER TABLE products DROP COLUMN support_incidents;
DROP TABLE support_incidents;
