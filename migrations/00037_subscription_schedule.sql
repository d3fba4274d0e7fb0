-- +goose Up
-- The live schedule each subscription's workflow publishes whenever it
-- changes (the JSON of workflows.Schedule), so that the API reads it from
-- the database instead of asking the workflow: a Temporal query costs a
-- worker round trip, often a replay, and on Temporal Cloud an action.
-- schedule_version only grows: an older snapshot never overwrites a newer.
ALTER TABLE subscriptions
    ADD COLUMN schedule jsonb,
    ADD COLUMN schedule_version bigint NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE subscriptions DROP COLUMN schedule, DROP COLUMN schedule_version;
