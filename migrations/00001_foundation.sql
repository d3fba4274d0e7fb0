-- +goose Up
CREATE TABLE customers (
    id                   bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_type         text NOT NULL CHECK (account_type IN ('individual', 'company', 'sole_proprietor')),
    name                 text NOT NULL CHECK (name <> ''),
    contact_person       text NOT NULL DEFAULT '',
    country              char(2) NOT NULL,
    language             text NOT NULL DEFAULT 'en',
    time_zone            text NOT NULL DEFAULT 'UTC',
    registered_at        timestamptz NOT NULL DEFAULT now(),
    registration_ip      inet,
    verified_phone       text NOT NULL DEFAULT '',
    note                 text NOT NULL DEFAULT '',
    attitude             text NOT NULL DEFAULT 'neutral' CHECK (attitude IN ('positive', 'neutral', 'negative')),
    post_paid            boolean NOT NULL DEFAULT false,
    customer_group       text NOT NULL DEFAULT '',
    project              text NOT NULL DEFAULT 'default',
    status               text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'deleted')),
    company_legal_name   text,
    company_registration_number text,
    company_tax_id       text,
    company_address      text,
    company_website      text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX customers_project_idx ON customers (project);
CREATE INDEX customers_group_idx ON customers (customer_group);
CREATE INDEX customers_name_idx ON customers (lower(name));

CREATE TABLE users (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id    bigint NOT NULL REFERENCES customers (id),
    login          text NOT NULL,
    email          text NOT NULL,
    phone          text NOT NULL DEFAULT '',
    first_name     text NOT NULL DEFAULT '',
    last_name      text NOT NULL DEFAULT '',
    language       text NOT NULL DEFAULT 'en',
    password_hash  text NOT NULL,
    email_verified boolean NOT NULL DEFAULT false,
    main           boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_login_key ON users (lower(login));
CREATE UNIQUE INDEX users_email_key ON users (lower(email));
CREATE UNIQUE INDEX users_one_main_per_customer ON users (customer_id) WHERE main;
CREATE INDEX users_customer_idx ON users (customer_id);

CREATE TABLE payers (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id         bigint NOT NULL REFERENCES customers (id),
    payer_type          text NOT NULL CHECK (payer_type IN ('individual', 'company', 'sole_proprietor')),
    legal_name          text NOT NULL,
    contact_name        text NOT NULL DEFAULT '',
    email               text NOT NULL DEFAULT '',
    phone               text NOT NULL DEFAULT '',
    country             char(2) NOT NULL,
    address             text NOT NULL DEFAULT '',
    tax_id              text NOT NULL DEFAULT '',
    registration_number text NOT NULL DEFAULT '',
    created_at          timestamptz NOT NULL DEFAULT now(),
    updated_at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payers_customer_idx ON payers (customer_id);

CREATE TABLE products (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL CHECK (name <> ''),
    description   text NOT NULL DEFAULT '',
    price         bigint NOT NULL CHECK (price >= 0),
    currency      char(3) NOT NULL,
    period_unit   text NOT NULL CHECK (period_unit IN ('month', 'day', 'minute', 'second')),
    period_count  integer NOT NULL DEFAULT 1 CHECK (period_count > 0),
    auto_renew    boolean NOT NULL DEFAULT true,
    incoming_days integer NOT NULL DEFAULT 3 CHECK (incoming_days >= 0),
    grace_days    integer CHECK (grace_days >= 0),
    status        text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- One row per product and payment state (seed 002): what to send when a
-- periodic charge enters that state.
CREATE TABLE product_notices (
    product_id  bigint NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    state       text NOT NULL CHECK (state IN ('incoming', 'approved', 'non_sufficient_funds', 'declined')),
    email       boolean NOT NULL DEFAULT false,
    sms         boolean NOT NULL DEFAULT false,
    subject     text NOT NULL DEFAULT '',
    body        text NOT NULL DEFAULT '',
    sms_body    text NOT NULL DEFAULT '',
    sender_name text NOT NULL DEFAULT '',
    reply_to    text NOT NULL DEFAULT '',
    PRIMARY KEY (product_id, state)
);

-- Subscriptions are owned by their Temporal workflows; the row is what lists
-- and filters read.
CREATE TABLE subscriptions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    product_id  bigint NOT NULL REFERENCES products (id),
    status      text NOT NULL DEFAULT 'unpaid' CHECK (status IN ('unpaid', 'active', 'suspended', 'cancelled', 'deleted')),
    paid_until  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX subscriptions_customer_idx ON subscriptions (customer_id, status);

-- The ledger is append-only: balances are sums of it, corrections are new rows.
CREATE TABLE ledger_entries (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id     bigint NOT NULL REFERENCES customers (id),
    kind            text NOT NULL CHECK (kind IN ('credit', 'debit')),
    amount          bigint NOT NULL CHECK (amount > 0),
    currency        char(3) NOT NULL,
    reason          text NOT NULL,
    reference       text NOT NULL DEFAULT '',
    idempotency_key text NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_entries_customer_idx ON ledger_entries (customer_id, currency);

-- +goose StatementBegin
CREATE FUNCTION ledger_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'ledger_entries is append-only: add a correcting entry instead of %', TG_OP;
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER ledger_entries_append_only BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_entries_append_only();

CREATE TABLE payments (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id  bigint NOT NULL REFERENCES customers (id),
    method       text NOT NULL CHECK (method IN ('wire_transfer', 'electronic')),
    amount       bigint NOT NULL CHECK (amount > 0),
    currency     char(3) NOT NULL,
    status       text NOT NULL DEFAULT 'new' CHECK (status IN ('new', 'paid', 'cancelled')),
    description  text NOT NULL DEFAULT '',
    external_id  text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    paid_at      timestamptz,
    cancelled_at timestamptz
);
CREATE INDEX payments_customer_idx ON payments (customer_id, created_at);

-- +goose Down
DROP TABLE payments;
DROP TABLE ledger_entries;
DROP FUNCTION ledger_entries_append_only;
DROP TABLE subscriptions;
DROP TABLE product_notices;
DROP TABLE products;
DROP TABLE payers;
DROP TABLE users;
DROP TABLE customers;
