-- +goose Up
-- Customer lists at 100,000 customers (issue 15). The name filter is a
-- substring match (ILIKE '%x%'), which no b-tree serves: a trigram index
-- does (pg_trgm is in PostgreSQL's contrib, part of Debian's and the
-- official image's server packages). Each sort order gets an index in its
-- own order, with id as its tie-breaker, so that a page is read in order
-- instead of sorting every match.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX customers_name_trgm_idx ON customers USING gin (name gin_trgm_ops);
DROP INDEX customers_name_idx;
CREATE INDEX customers_name_idx ON customers (lower(name), id);
CREATE INDEX customers_registered_idx ON customers (registered_at, id);
-- A project (and a group in it) listed by name: counted from the index
-- alone, its page read in order. It serves the project filter alone too.
CREATE INDEX customers_project_group_name_idx ON customers (project, customer_group, lower(name), id);
DROP INDEX customers_project_idx;

-- +goose Down
CREATE INDEX customers_project_idx ON customers (project);
DROP INDEX customers_project_group_name_idx;
DROP INDEX customers_registered_idx;
DROP INDEX customers_name_idx;
CREATE INDEX customers_name_idx ON customers (lower(name));
DROP INDEX customers_name_trgm_idx;
