-- name: MessageInsert :one
INSERT INTO messages (customer_id, language, category, subject, body, rate, created_by, text_id)
VALUES (@customer_id, @language, @category, @subject, @body, @rate, @created_by, @text_id)
RETURNING *;

-- name: MessageAttachmentInsert :exec
INSERT INTO message_attachments (message_id, position, name, content_type, content)
VALUES (@message_id, @position, @name, @content_type, @content);

-- name: MessageGet :one
SELECT * FROM messages WHERE id = $1;

-- name: MessageCount :one
SELECT count(*) FROM messages WHERE (@status::text = '' OR status = @status);

-- name: MessageList :many
SELECT * FROM messages
WHERE (@status::text = '' OR status = @status)
ORDER BY id DESC
LIMIT sqlc.arg('limit')::bigint OFFSET sqlc.arg('offset')::bigint;

-- name: MessageAttachmentInfos :many
SELECT message_id, position, name, content_type, octet_length(content)::integer AS size
FROM message_attachments WHERE message_id = ANY(@message_ids::bigint[]) ORDER BY message_id, position;

-- name: MessageAttachments :many
SELECT * FROM message_attachments WHERE message_id = $1 ORDER BY position;

-- MessageNoticeCounts counts a message's emails in the log by status.
-- name: MessageNoticeCounts :many
SELECT status, count(*) AS count FROM notices
WHERE object_type = 'message' AND object_id = @object_id::text AND channel = 'email'
GROUP BY status;

-- MessageRecipientCount counts the users of the customers a message goes to.
-- name: MessageRecipientCount :one
SELECT count(*) FROM users u JOIN customers c ON c.id = u.customer_id
WHERE c.status = 'active'
  AND (sqlc.narg('customer_id')::bigint IS NULL OR c.id = sqlc.narg('customer_id'))
  AND (@language::text = '' OR lower(replace(c.language, '_', '-')) = lower(replace(@language, '_', '-'))
       OR lower(replace(c.language, '_', '-')) LIKE lower(replace(@language, '_', '-')) || '-%');

-- MessageCustomersAfter lists the customers a message goes to, in ID order,
-- after the customer after.
-- A customer is of the message's language if its own is that language in any
-- case or spelling, or a regional form of it (de: DE, de-AT, de_de; not dsb).
-- name: MessageCustomersAfter :many
SELECT c.id FROM customers c
WHERE c.status = 'active' AND c.id > @after
  AND (sqlc.narg('customer_id')::bigint IS NULL OR c.id = sqlc.narg('customer_id'))
  AND (@language::text = '' OR lower(replace(c.language, '_', '-')) = lower(replace(@language, '_', '-'))
       OR lower(replace(c.language, '_', '-')) LIKE lower(replace(@language, '_', '-')) || '-%')
ORDER BY c.id
LIMIT sqlc.arg('limit')::bigint;

-- name: MessageStart :exec
UPDATE messages SET total = @total WHERE id = @id;

-- name: MessageFinish :one
UPDATE messages SET status = @status, skipped = @skipped, finished_at = now()
WHERE id = @id AND status = 'sending'
RETURNING *;

-- name: MessageTextInsert :one
INSERT INTO message_texts (name, category, subject, body)
VALUES (@name, @category, @subject, @body)
RETURNING *;

-- name: MessageTextGet :one
SELECT * FROM message_texts WHERE id = $1;

-- MessageTextKeep holds a saved text until the transaction ends, so that the
-- message recording it can't lose it to a delete.
-- name: MessageTextKeep :one
SELECT id FROM message_texts WHERE id = $1 FOR KEY SHARE;

-- name: MessageTextCount :one
SELECT count(*) FROM message_texts WHERE (@category::text = '' OR category = @category);

-- name: MessageTextList :many
SELECT * FROM message_texts
WHERE (@category::text = '' OR category = @category)
ORDER BY name, id
LIMIT sqlc.arg('limit')::bigint OFFSET sqlc.arg('offset')::bigint;

-- name: MessageTextUpdate :one
UPDATE message_texts SET name = @name, category = @category, subject = @subject, body = @body, updated_at = now()
WHERE id = @id
RETURNING *;

-- name: MessageTextDelete :execrows
DELETE FROM message_texts WHERE id = $1;
