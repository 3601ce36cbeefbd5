# Every target sets up what it needs first (scripts/bootstrap is idempotent and quick).
.PHONY: all build demo test test-rust test-js fuzz bench bootstrap clean

all: build

bootstrap:
	scripts/bootstrap

build: bootstrap
	scripts/build

# Builds the package and runs the docs' multi-agent chat example in local mode.
demo: build
	cd examples/node-chat && npm install --no-audit --no-fund --loglevel=error && node main.mjs

# Installs what the tests need, builds, packs, and runs every test layer.
test:
	scripts/bootstrap --test
	scripts/build
	$(MAKE) test-rust
	scripts/pack-install
	$(MAKE) test-js
	scripts/fuzz

test-rust:
	cargo test --quiet

# The JS layers run against the packed tarball installed in tests/.scratch/app.
test-js:
	node --test tests/js/ tests/store/ tests/node/ tests/types/ tests/export/ tests/viewer/ tests/runtimes/ tests/llm/ tests/integrations/ tests/reliability/ tests/backends/agensight-reference.test.mjs tests/backends/otlp-proto.test.mjs tests/backends/phoenix.test.mjs tests/bundlers/

# Each cargo-fuzz target for a bounded time (FUZZ_SECONDS, default 5); crashes are kept in
# fuzz/regressions/, which `cargo test` replays (tests/fuzz_regressions.rs).
fuzz:
	scripts/fuzz

# Benchmarks against the peers (OpenTelemetry JS, LangSmith), one run, ratios in a table.
bench: build
	scripts/pack-install
	node scripts/bench/run.mjs

clean:
	rm -rf pkg target/bindgen target/pack tests/.scratch
