-- A customer is read with its registration address as text ('' when none),
-- as host() prints it, and without its credit limit, which only a charge
-- reads (ledger.sql). store.Customers lists customers with the same columns.

-- name: CustomerInsert :one
INSERT INTO customers (account_type, name, contact_person, country, language, time_zone,
    registration_ip, verified_phone, note, attitude, post_paid, customer_group, project,
    company_legal_name, company_registration_number, company_tax_id, company_address, company_website)
VALUES (@account_type, @name, @contact_person, @country, @language, @time_zone,
    nullif(@registration_ip::text, '')::inet, @verified_phone, @note, @attitude, @post_paid, @customer_group, @project,
    @company_legal_name, @company_registration_number, @company_tax_id, @company_address, @company_website)
RETURNING id, account_type, name, contact_person, country, language, time_zone,
    registered_at, coalesce(host(registration_ip), '')::text AS registration_ip, verified_phone, note, attitude,
    post_paid, customer_group, project, status, company_legal_name, company_registration_number,
    company_tax_id, company_address, company_website, created_at, updated_at, verified_at;

-- name: CustomerGet :one
SELECT id, account_type, name, contact_person, country, language, time_zone,
    registered_at, coalesce(host(registration_ip), '')::text AS registration_ip, verified_phone, note, attitude,
    post_paid, customer_group, project, status, company_legal_name, company_registration_number,
    company_tax_id, company_address, company_website, created_at, updated_at, verified_at
FROM customers
WHERE id = $1;

-- name: CustomerGetForUpdate :one
SELECT id, account_type, name, contact_person, country, language, time_zone,
    registered_at, coalesce(host(registration_ip), '')::text AS registration_ip, verified_phone, note, attitude,
    post_paid, customer_group, project, status, company_legal_name, company_registration_number,
    company_tax_id, company_address, company_website, created_at, updated_at, verified_at
FROM customers
WHERE id = $1
FOR UPDATE;

-- name: CustomerUpdate :one
UPDATE customers SET account_type = @account_type, name = @name, contact_person = @contact_person,
    country = @country, language = @language, time_zone = @time_zone, registered_at = @registered_at,
    registration_ip = nullif(@registration_ip::text, '')::inet, verified_phone = @verified_phone, note = @note,
    attitude = @attitude, post_paid = @post_paid, customer_group = @customer_group, project = @project,
    company_legal_name = @company_legal_name, company_registration_number = @company_registration_number,
    company_tax_id = @company_tax_id, company_address = @company_address, company_website = @company_website,
    updated_at = now()
WHERE id = @id
RETURNING id, account_type, name, contact_person, country, language, time_zone,
    registered_at, coalesce(host(registration_ip), '')::text AS registration_ip, verified_phone, note, attitude,
    post_paid, customer_group, project, status, company_legal_name, company_registration_number,
    company_tax_id, company_address, company_website, created_at, updated_at, verified_at;

-- name: CustomerMarkDeleted :one
UPDATE customers SET status = 'deleted', updated_at = now()
WHERE id = $1
RETURNING id, account_type, name, contact_person, country, language, time_zone,
    registered_at, coalesce(host(registration_ip), '')::text AS registration_ip, verified_phone, note, attitude,
    post_paid, customer_group, project, status, company_legal_name, company_registration_number,
    company_tax_id, company_address, company_website, created_at, updated_at, verified_at;

-- name: CustomerStatusForUpdate :one
SELECT status FROM customers WHERE id = $1 FOR UPDATE;

-- CustomerLock takes the customer's row lock, which every writer of the
-- customer's ledger holds; a missing customer locks nothing and is no error.
-- name: CustomerLock :exec
SELECT 1 FROM customers WHERE id = $1 FOR UPDATE;

-- name: CustomerCountLiveSubscriptions :one
SELECT count(*) FROM subscriptions
WHERE customer_id = $1 AND status IN ('unpaid', 'active', 'suspended', 'awaiting_parameters');
