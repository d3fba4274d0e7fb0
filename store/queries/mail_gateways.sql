-- name: MailGatewayInsert :one
INSERT INTO mail_gateways (name, type, protocol, host, port, security, login, password_nonce, password_sealed,
    address, department_id, poll_seconds, after_processing, max_message_bytes, paused)
VALUES (@name, @type, @protocol, @host, @port, @security, @login, @password_nonce, @password_sealed,
    @address, @department_id, @poll_seconds, @after_processing, @max_message_bytes, @paused)
RETURNING *;

-- name: MailGatewayGet :one
SELECT * FROM mail_gateways WHERE id = @id;

-- name: MailGatewayLock :one
SELECT * FROM mail_gateways WHERE id = @id FOR UPDATE;

-- name: MailGatewayList :many
SELECT * FROM mail_gateways ORDER BY lower(name), id;

-- name: MailGatewayUpdate :one
UPDATE mail_gateways SET name = @name, type = @type, protocol = @protocol, host = @host, port = @port,
    security = @security, login = @login, password_nonce = @password_nonce, password_sealed = @password_sealed,
    address = @address, department_id = @department_id, poll_seconds = @poll_seconds,
    after_processing = @after_processing, max_message_bytes = @max_message_bytes, paused = @paused, updated_at = now()
WHERE id = @id
RETURNING *;

-- name: MailGatewayDelete :execrows
DELETE FROM mail_gateways WHERE id = @id;

-- MailGatewayPolled records the outcome of a poll; it leaves updated_at
-- alone, which says when staff last changed the settings.
-- name: MailGatewayPolled :execrows
UPDATE mail_gateways SET last_poll_at = now(), last_error = @last_error WHERE id = @id;

-- name: DepartmentHasMailGateways :one
SELECT EXISTS (SELECT 1 FROM mail_gateways WHERE department_id = @department_id) AS has;
