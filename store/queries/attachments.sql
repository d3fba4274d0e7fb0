-- name: AttachmentInsert :one
INSERT INTO ticket_attachments (ticket_id, message_id, name, content_type, size, sha256, content)
VALUES (@ticket_id, @message_id, @name, @content_type, @size, @sha256, @content)
RETURNING id, ticket_id, message_id, name, content_type, size, sha256, created_at;

-- AttachmentGet returns a file of ticket ticket_id with what decides who may
-- see it: the kind of its message (a note's are staff's only) and the
-- ticket's customer and department.
-- name: AttachmentGet :one
SELECT a.id, a.ticket_id, a.message_id, a.name, a.content_type, a.size, a.sha256, a.content, a.created_at,
    m.kind AS message_kind, t.customer_id, t.department_id
FROM ticket_attachments a
JOIN ticket_messages m ON m.id = a.message_id
JOIN tickets t ON t.id = a.ticket_id
WHERE a.id = @id AND a.ticket_id = @ticket_id;

-- AttachmentList returns the files (without content) of the messages ids,
-- in the order they were attached.
-- name: AttachmentList :many
SELECT id, ticket_id, message_id, name, content_type, size, sha256, created_at
FROM ticket_attachments WHERE message_id = ANY(@message_ids::bigint[])
ORDER BY message_id, id;
