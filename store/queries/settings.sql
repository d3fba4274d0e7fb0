-- name: SettingsGet :one
SELECT * FROM settings;

-- SettingsInsert writes the defaults unless a row exists; then
-- SettingsLock takes that row for the change.
-- name: SettingsInsert :exec
INSERT INTO settings (near_delete_period, low_money_notice_period, low_money_expire_period, grace_days,
    suspend_after_days, unpaid_order_days, max_unpaid_orders, verify_client_email, client_verification,
    verify_individual_payers, verify_company_payers, verify_sole_proprietor_payers,
    delete_inactive_clients_days, default_language, auto_invoicing, invoice_provider,
    resource_notify_percent)
VALUES (@near_delete_period, @low_money_notice_period, @low_money_expire_period, @grace_days,
    @suspend_after_days, @unpaid_order_days, @max_unpaid_orders, @verify_client_email, @client_verification,
    @verify_individual_payers, @verify_company_payers, @verify_sole_proprietor_payers,
    @delete_inactive_clients_days, @default_language, @auto_invoicing, @invoice_provider,
    @resource_notify_percent)
ON CONFLICT (id) DO NOTHING;

-- name: SettingsLock :one
SELECT * FROM settings FOR UPDATE;

-- name: SettingsUpdate :one
UPDATE settings SET near_delete_period = @near_delete_period, low_money_notice_period = @low_money_notice_period,
    low_money_expire_period = @low_money_expire_period, grace_days = @grace_days,
    suspend_after_days = @suspend_after_days, unpaid_order_days = @unpaid_order_days,
    max_unpaid_orders = @max_unpaid_orders, verify_client_email = @verify_client_email,
    client_verification = @client_verification, verify_individual_payers = @verify_individual_payers,
    verify_company_payers = @verify_company_payers, verify_sole_proprietor_payers = @verify_sole_proprietor_payers,
    delete_inactive_clients_days = @delete_inactive_clients_days, default_language = @default_language,
    auto_invoicing = @auto_invoicing, invoice_provider = @invoice_provider,
    resource_notify_percent = @resource_notify_percent, updated_at = now()
RETURNING *;
