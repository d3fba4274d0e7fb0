-- +goose Up
-- A running balance per customer and currency, so that a charge reads one
-- row instead of summing a ledger that grows by an entry a period. The ledger
-- stays the truth: the row is kept by a trigger on every insert into it (the
-- ledger is append-only, see 00001), in the inserting transaction, so no
-- write path, nor a statement typed by hand, can forget it.
--
-- balance is numeric, as the sums it replaces were: a ledger written before
-- balances were capped at ±MaxBalance may hold a sum beyond bigint, which
-- must read as it did (a conflict, or a saturated balance under a write's
-- lock), not fail the insert that would take it there. Writes keep the cap
-- (billing.LedgerEntry.CheckBalanceCap), so balances written since fit.
CREATE TABLE customer_balances (
    customer_id bigint NOT NULL REFERENCES customers (id),
    currency    char(3) NOT NULL,
    balance     numeric NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, currency)
);

-- No entry may land between the backfill and the trigger.
LOCK TABLE ledger_entries IN SHARE MODE;

INSERT INTO customer_balances (customer_id, currency, balance)
SELECT customer_id, currency, sum(CASE kind WHEN 'credit' THEN amount ELSE -amount END)
FROM ledger_entries
GROUP BY customer_id, currency;

-- A statement's entries are summed per customer and currency and added in
-- one upsert each, in key order: a bulk insert costs one row update per
-- balance, not one per entry.
-- +goose StatementBegin
CREATE FUNCTION ledger_entries_balance() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO customer_balances AS b (customer_id, currency, balance)
    SELECT customer_id, currency, sum(CASE kind WHEN 'credit' THEN amount ELSE -amount END)
    FROM new_entries
    GROUP BY customer_id, currency
    ORDER BY customer_id, currency
    ON CONFLICT (customer_id, currency) DO UPDATE SET balance = b.balance + excluded.balance, updated_at = now();
    RETURN NULL;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER ledger_entries_balance AFTER INSERT ON ledger_entries
    REFERENCING NEW TABLE AS new_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_balance();

-- +goose Down
DROP TRIGGER ledger_entries_balance ON ledger_entries;
DROP FUNCTION ledger_entries_balance;
DROP TABLE customer_balances;
