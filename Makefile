# ext4lab: the two commands are `make serve` and `make test`.
# Both install what is missing first (idempotent; see scripts/setup.sh).
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)

.PHONY: serve test setup setup-test wasm web lint test-native test-wasm test-tables test-e2e bench clean

## Build the playground and serve it on 127.0.0.1 (port 8080 or the next free one).
serve: setup wasm web
	node scripts/serve.mjs dist

## Run every test group; one summary line at the end.
test: setup-test
	scripts/test.sh

setup:
	scripts/setup.sh build

setup-test:
	scripts/setup.sh test

wasm: setup
	scripts/build-wasm.sh

web: setup
	npx vite build

# One test group at a time (after `make setup-test` once).
lint:
	scripts/test.sh lint
test-native:
	scripts/test.sh native
test-wasm:
	scripts/test.sh wasm
test-e2e:
	scripts/test.sh e2e
test-tables:
	scripts/test.sh tables

## Benchmarks (not part of `make test`).
bench:
	cargo bench

clean:
	cargo clean; rm -rf pkg dist artifacts node_modules
