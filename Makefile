# Shipgate: `make run` serves it, `make test` tests it. Both set up what is missing first.
SHELL := /bin/bash
.DEFAULT_GOAL := run
.PHONY: bench run test tools tools-browser db build-release build-test test-rust test-e2e lint fmt sqlx-prepare clean-db help

ROOT := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
# One target dir across checkouts and runs: Rust builds are slow on small machines.
export CARGO_TARGET_DIR ?= $(HOME)/.cache/shipgate-target
export PATH := $(ROOT)/end2end/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)
# Queries are checked at compile time against the committed .sqlx/, so builds need no database.
export SQLX_OFFLINE := true
export LEPTOS_SITE_ADDR ?= 127.0.0.1:3000
export LEPTOS_SITE_ROOT := target/site
# cargo-leptos sets this while building; plain cargo must too, or the page asks for the
# wasm file under another name.
export LEPTOS_OUTPUT_NAME := shipgate
# cargo-leptos builds the dev browser bundle with erased component types; the server must be
# built the same way or hydration finds different markers. Every dev cargo call uses this.
DEV_RUSTFLAGS := --cfg erase_components

DB_URL = $(shell $(ROOT)/scripts/ensure-postgres.sh)

help:
	@echo "make run    install what is missing, start Postgres, migrate, serve on http://$(LEPTOS_SITE_ADDR)"
	@echo "make test   the same set-up, then the Rust tests and the browser tests"
	@echo "make lint   the layering check, cargo fmt --check and clippy"

tools:
	@$(ROOT)/scripts/ensure-tools.sh

tools-browser:
	@$(ROOT)/scripts/ensure-tools.sh --browser

# The release bundle: wasm-opt -Oz, content-hashed names and .br/.gz files beside each.
build-release: tools
	cargo leptos build --release --precompress

run: build-release
	@url="$(DB_URL)"; [[ -n "$$url" ]] || exit 1; \
	DATABASE_URL="$$url" "$(CARGO_TARGET_DIR)/release/shipgate" migrate up && \
	echo "Shipgate on http://$(LEPTOS_SITE_ADDR) (database $$url)" && \
	DATABASE_URL="$$url" exec "$(CARGO_TARGET_DIR)/release/shipgate" serve

# The browser bundle comes from cargo-leptos; the server binary from `cargo test`, which
# builds it anyway, so the server is compiled once.
build-test: tools-browser
	cargo leptos build --frontend-only
	RUSTFLAGS="$(DEV_RUSTFLAGS)" cargo test --workspace --no-run

test-rust: build-test
	@url="$(DB_URL)"; [[ -n "$$url" ]] || exit 1; \
	DATABASE_URL="$$url" "$(CARGO_TARGET_DIR)/debug/shipgate" migrate up && \
	DATABASE_URL="$$url" RUSTFLAGS="$(DEV_RUSTFLAGS)" $(ROOT)/scripts/with-s3.sh cargo test --workspace

test-e2e: build-test
	@url="$(DB_URL)"; [[ -n "$$url" ]] || exit 1; \
	DATABASE_URL="$$url" $(ROOT)/end2end/run.sh "$(CARGO_TARGET_DIR)/debug/shipgate"

test: test-rust test-e2e

# Benchmarks (not tests): release build, bench data, wrk against Shipgate and a baseline.
bench: build-release
	cargo build --release -p bench
	@url="$(DB_URL)"; [[ -n "$$url" ]] || exit 1; \
	DATABASE_URL="$$url" $(ROOT)/bench/run.sh "$(CARGO_TARGET_DIR)/release/shipgate" "$(CARGO_TARGET_DIR)/release/bench-baseline"

lint:
	python3 $(ROOT)/scripts/check-layers.py --self-test
	python3 $(ROOT)/scripts/check-layers.py
	cargo fmt --all -- --check
	RUSTFLAGS="$(DEV_RUSTFLAGS)" cargo clippy --workspace --all-targets -- -D warnings

fmt:
	cargo fmt --all

# Regenerates .sqlx/ from a migrated database (after changing a query).
sqlx-prepare:
	@url="$(DB_URL)"; [[ -n "$$url" ]] || exit 1; \
	DATABASE_URL="$$url" "$(CARGO_TARGET_DIR)/debug/shipgate" migrate up && \
	rm -rf .sqlx && mkdir .sqlx && touch app/src/lib.rs server/src/lib.rs && \
	SQLX_OFFLINE=false SQLX_OFFLINE_DIR=$(ROOT)/.sqlx DATABASE_URL="$$url" RUSTFLAGS="$(DEV_RUSTFLAGS)" cargo check --workspace --all-targets

clean-db:
	-@pg_ctl=$$(ls /usr/lib/postgresql/*/bin/pg_ctl 2>/dev/null | sort -V | tail -n1); \
	 [[ -d .pgdata ]] && { if [[ $$(id -u) == 0 ]]; then runuser -u postgres -- $$pg_ctl -D .pgdata stop; else $$pg_ctl -D .pgdata stop; fi; }; \
	 rm -rf .pgdata
