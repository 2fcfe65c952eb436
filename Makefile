# afinar: the two commands a fresh machine needs are `make demo` and `make test`.
CARGO ?= cargo
# `make demo PROFILE=dev` reuses the test build instead of compiling a release one.
PROFILE ?= release
ifeq ($(PROFILE),release)
  AFINAR := target/release/afinar
else
  AFINAR := target/debug/afinar
endif

.PHONY: demo test test-parquet lint bench build clean-out fuzz

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

## Parquet in and out, built with the `parquet` feature (polars: a long first build, so
## CI runs it apart from `make test`): the Parquet tests of the CLI and of afinar-formats.
## One cargo invocation, so polars is built once, with one set of features.
test-parquet:
	$(CARGO) test --locked --workspace --features parquet --lib --test cli parquet

## Formatting and lints, as CI runs them.
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

## Benchmarks (speed and memory goals are measured here, never in tests):
## afinar check against the reference validator on 200,000 generated chat examples
## (ratio, both times, both peak memories, per-example counts compared); then
## 200,000 examples counted with the Qwen3 tokenizer and chat template against Python
## transformers (bench/hf.sh); then dedupe, split, convert and run of 50,000 and 200,000
## rows of realistic FAQ text, with the growth ratio, against Python datasketch
## (bench/curate.sh). Variables pass through: make bench MODE=tokens SIZES=50000,200000.
bench:
	bash bench/run.sh
	bash bench/hf.sh
	bash bench/curate.sh

clean-out:
	rm -rf out

FUZZ_TIME ?= 300
FUZZ_TARGETS := csv spreadsheet markdown docx html jsonl pipeline_toml check redact

## Fuzz every target for FUZZ_TIME seconds each, one after another (needs a nightly
## toolchain and `cargo install cargo-fuzz`); see fuzz/README.md. Not part of CI: the
## crashes ever found are replayed by `make test` (tests/cli/fuzz_replay.rs).
fuzz:
	@$(CARGO) fuzz --version >/dev/null 2>&1 || { echo "cargo-fuzz is missing: cargo install cargo-fuzz"; exit 2; }
	cd fuzz && for t in $(FUZZ_TARGETS); do \
	  case $$t in csv) d=csv;; markdown) d=markdown;; pipeline_toml) d=toml;; spreadsheet|docx|html) d=;; *) d=json;; esac; \
	  mkdir -p corpus/$$t; \
	  $(CARGO) +nightly fuzz run $$t corpus/$$t seeds/$$t -- $${d:+-dict=dict/$$d.dict} \
	    -max_total_time=$(FUZZ_TIME) -rss_limit_mb=2048 -timeout=10 \
	    -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 || exit 1; \
	done
	@ls fuzz/artifacts/*/ 2>/dev/null | grep -E 'crash|oom|timeout' && echo "see fuzz/artifacts" || true
