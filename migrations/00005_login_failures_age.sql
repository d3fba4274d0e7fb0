-- +goose Up
-- Sign-in attempts forget failures older than an hour: find them fast.
CREATE INDEX login_failures_last_failure_idx ON login_failures (last_failure_at);

-- +goose Down
DROP INDEX login_failures_last_failure_idx;
