-- +goose Up
-- The global settings: at most one row (id is always true). It is written by
-- the first PATCH /api/v1/settings, from the defaults the API was started
-- with (environment variables) and the change; until then there is none and
-- those defaults hold. Lists of days are kept from the most to the fewest.
CREATE TABLE settings (
    id                           boolean PRIMARY KEY DEFAULT true CHECK (id),
    near_delete_period           integer[] NOT NULL,
    low_money_notice_period      integer[] NOT NULL,
    low_money_expire_period      integer[] NOT NULL,
    grace_days                   integer NOT NULL CHECK (grace_days BETWEEN 0 AND 3650),
    suspend_after_days           integer NOT NULL CHECK (suspend_after_days BETWEEN 0 AND 3650),
    unpaid_order_days            integer NOT NULL CHECK (unpaid_order_days BETWEEN 1 AND 3650),
    max_unpaid_orders            integer NOT NULL CHECK (max_unpaid_orders >= 1),
    verify_client_email          boolean NOT NULL,
    client_verification          text NOT NULL
        CHECK (client_verification IN ('none', 'after_registration', 'after_first_payment')),
    verify_individual_payers     boolean NOT NULL,
    verify_company_payers        boolean NOT NULL,
    verify_sole_proprietor_payers boolean NOT NULL,
    delete_inactive_clients_days integer NOT NULL CHECK (delete_inactive_clients_days BETWEEN 0 AND 3650),
    default_language             text NOT NULL,
    updated_at                   timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE settings;
