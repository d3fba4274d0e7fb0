-- +goose Up
-- A broken mail client can give different mails one Message-ID. The intake
-- took a Message-ID as one mail, so the second such mail was a "duplicate"
-- and lost. Each mail now records a digest of what it says
-- (activities.mailFingerprint: sender, subject, date, text, files), and a
-- Message-ID names one mail only with the same digest: the same mail read
-- through a second gateway is still taken once, another mail with that id
-- is taken too. '' is a mail recorded before the digest: it matches any.
ALTER TABLE mail_intake ADD COLUMN fingerprint text NOT NULL DEFAULT '';
DROP INDEX mail_intake_message_id_key;
CREATE UNIQUE INDEX mail_intake_message_id_key ON mail_intake (message_id, fingerprint) WHERE message_id IS NOT NULL;

-- +goose Down
UPDATE mail_intake AS a SET message_id = NULL
FROM mail_intake AS b WHERE a.message_id = b.message_id AND a.id > b.id;
DROP INDEX mail_intake_message_id_key;
CREATE UNIQUE INDEX mail_intake_message_id_key ON mail_intake (message_id) WHERE message_id IS NOT NULL;
ALTER TABLE mail_intake DROP COLUMN fingerprint;
