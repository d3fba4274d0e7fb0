-- name: StaffNotificationSettingList :many
SELECT event, enabled FROM staff_notification_settings WHERE staff_id = @staff_id ORDER BY event;

-- name: StaffNotificationSettingUpsert :exec
INSERT INTO staff_notification_settings (staff_id, event, enabled) VALUES (@staff_id, @event, @enabled)
ON CONFLICT (staff_id, event) DO UPDATE SET enabled = EXCLUDED.enabled, updated_at = now();

-- StaffToNotify lists the active staff members of ids who have not turned
-- event off, in ID order.
-- name: StaffToNotify :many
SELECT s.id, s.email, s.name FROM staff AS s
WHERE s.id = ANY(@ids::bigint[]) AND s.status = 'active'
  AND NOT EXISTS (SELECT 1 FROM staff_notification_settings AS n
                  WHERE n.staff_id = s.id AND n.event = @event AND NOT n.enabled)
ORDER BY s.id;

-- TicketClientPosters lists the users who posted in a ticket.
-- name: TicketClientPosters :many
SELECT DISTINCT author_user_id::bigint FROM ticket_messages
WHERE ticket_id = @ticket_id AND kind = 'client' AND author_user_id IS NOT NULL;

-- TicketAnsweredMessage is the client's message a message answers: the
-- latest one before it (NULL mail_message_id: it came by the API).
-- name: TicketAnsweredMessage :one
SELECT id, mail_message_id FROM ticket_messages
WHERE ticket_id = @ticket_id AND kind = 'client' AND id <= @before_id
ORDER BY id DESC LIMIT 1;
