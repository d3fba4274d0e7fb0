# The three commands of the README. `make test` is what CI runs (.ci/run).
.PHONY: setup dev test

setup:
	@scripts/setup

dev: setup
	go run ./cmd/billing dev

test: setup
	scripts/test
