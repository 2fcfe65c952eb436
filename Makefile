# afinar: the two commands a fresh machine needs are `make demo` and `make test`.
CARGO ?= cargo
# `make demo PROFILE=dev` reuses the test build instead of compiling a release one.
PROFILE ?= release
ifeq ($(PROFILE),release)
  AFINAR := target/release/afinar
else
  AFINAR := target/debug/afinar
endif

.PHONY: demo test lint bench build clean-out

build:
	$(CARGO) build --profile $(PROFILE) --locked

## Run the Simples Nacional pipeline on the bundled fixtures: train/validation JSONL,
## rejects, duplicates, manifest.json and report.html under out/simples-nacional/.
demo: build
	$(AFINAR) run pipelines/simples-nacional.toml
	@echo "Open out/simples-nacional/report.html in a browser to read the report."

## Run the whole test suite (unit, property, end-to-end).
test:
	$(CARGO) test --workspace --all-targets --locked
	$(CARGO) test --workspace --doc --locked

## Formatting and lints, as CI runs them.
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

## Benchmarks (speed and memory goals are measured here, never in tests):
## afinar check against the reference validator on 200,000 generated chat examples
## (ratio, both times, both peak memories, per-example counts compared), then
## dedupe + split of 200,000 examples. Variables pass through: make bench MODE=tokens.
bench:
	bash bench/run.sh
	$(CARGO) run --release -q -p afinar-curate --example bench_curate

clean-out:
	rm -rf out
