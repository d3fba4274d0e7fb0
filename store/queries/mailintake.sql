-- MailIntakeLock serialises the intake of one mail (by its mailbox identity,
-- then by its Message-ID), so that a mail read twice at once is taken once.
-- name: MailIntakeLock :exec
SELECT pg_advisory_xact_lock(hashtextextended('mail intake ' || @key::text, 0));

-- MailIntakeFind returns the intake of a mail taken before: the same mailbox
-- identity in the gateway, or the same Message-ID with the same fingerprint
-- (or one recorded before fingerprints) through any gateway.
-- name: MailIntakeFind :one
SELECT * FROM mail_intake
WHERE (gateway_id = @gateway_id AND mailbox_id = @mailbox_id)
    OR (message_id = sqlc.narg('message_id')::text AND fingerprint IN (@fingerprint::text, ''))
ORDER BY (gateway_id = @gateway_id AND mailbox_id = @mailbox_id) DESC, id
LIMIT 1;

-- MailIntakeMessageIDTaken reports whether another mail took the Message-ID.
-- name: MailIntakeMessageIDTaken :one
SELECT EXISTS (SELECT 1 FROM mail_intake WHERE message_id = @message_id::text)::boolean;

-- name: MailIntakeInsert :exec
INSERT INTO mail_intake (gateway_id, mailbox_id, message_id, fingerprint, outcome, reason, ticket_id, incoming_email_id)
VALUES (@gateway_id, @mailbox_id, sqlc.narg('message_id'), @fingerprint, @outcome, @reason, sqlc.narg('ticket_id'),
    sqlc.narg('incoming_email_id'));

-- name: IncomingEmailInsert :one
INSERT INTO incoming_emails (gateway_id, department_id, from_address, from_name, subject, body, message_id, reason,
    detail, raw)
VALUES (@gateway_id, @department_id, @from_address, @from_name, @subject, @body, sqlc.narg('message_id'), @reason,
    @detail, sqlc.narg('raw'))
RETURNING id;

-- MailSenders returns the users whose confirmed email is the address, then
-- the verified payers whose email it is (case insensitive), of customers not
-- deleted; a payer has no user (user_id 0). An address nobody confirmed names
-- no sender: a client can give a user or a payer any address, and must not
-- receive a stranger's mail by it.
-- name: MailSenders :many
SELECT u.id AS user_id, u.customer_id, 0 AS is_payer FROM users AS u JOIN customers AS c ON c.id = u.customer_id
WHERE lower(u.email) = lower(@email) AND u.email_verified AND c.status <> 'deleted'
UNION ALL
SELECT 0::bigint, p.customer_id, 1 FROM payers AS p JOIN customers AS c ON c.id = p.customer_id
WHERE p.email <> '' AND lower(p.email) = lower(@email) AND p.verification = 'verified' AND c.status <> 'deleted'
ORDER BY is_payer, user_id, customer_id;

-- MailThreadTicket returns the ticket of customer_id that one of the mail
-- ids names: a ticket message stored from that mail, or a notice about the
-- ticket sent with that Message-ID.
-- name: MailThreadTicket :one
SELECT t.id FROM tickets AS t
WHERE t.customer_id = @customer_id AND (
    EXISTS (SELECT 1 FROM ticket_messages AS m WHERE m.ticket_id = t.id AND m.mail_message_id = ANY(@ids::text[]))
    OR EXISTS (SELECT 1 FROM notices AS n WHERE n.object_type = 'ticket' AND n.object_id = t.id::text
        AND n.message_id <> '' AND n.message_id = ANY(@ids::text[])))
ORDER BY t.id DESC
LIMIT 1;

-- name: MailTicketToken :one
SELECT id, customer_id, reply_token FROM tickets WHERE id = @id;

-- MailSenderLock serialises what concerns one address: the auto-answers to
-- it, so that the rate limit holds under concurrent mail, and a mail's
-- intake against a user's confirming the address.
-- name: MailSenderLock :exec
SELECT pg_advisory_xact_lock(hashtextextended('mail sender ' || lower(@address::text), 0));

-- MailAnswersSince counts the gateway notices sent to an address since a time.
-- name: MailAnswersSince :one
SELECT count(*) FROM notices
WHERE lower(recipient) = lower(@address::text) AND created_at > @since
    AND event IN ('ticket_from_email', 'incident_required', 'email_confirmation', 'email_confirmed', 'email_not_unique');
