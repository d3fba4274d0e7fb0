# The three commands of the README. `make test` is what CI runs (.ci/run).
.PHONY: setup dev test generate

setup:
	@scripts/setup

dev: setup
	go run ./cmd/billing dev

test: setup
	scripts/test

# Regenerates store/dbsqlc from store/queries/*.sql and the migrations.
generate: setup
	"$${HOME}/.cache/billing/bin/sqlc" generate
