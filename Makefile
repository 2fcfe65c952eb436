# afinar: the two commands a fresh machine needs are `make demo` and `make test`.
CARGO ?= cargo
AFINAR := target/release/afinar
SYSTEM := Você é um assistente especializado no Simples Nacional.

.PHONY: demo test lint bench build clean-out

build:
	$(CARGO) build --release --locked

## Convert the bundled fixtures into chat JSONL under out/ and print a summary.
demo: build
	$(AFINAR) convert fixtures/simples-nacional.csv fixtures/simples-nacional.jsonl \
		--system "$(SYSTEM)" -o out/train.jsonl
	@echo "Output: out/train.jsonl ($$(wc -l < out/train.jsonl) examples); rejects: out/train.rejects.jsonl"

## Run the whole test suite (unit, property, end-to-end).
test:
	$(CARGO) test --workspace --all-targets --locked
	$(CARGO) test --workspace --doc --locked

## Formatting and lints, as CI runs them.
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings

## Benchmarks (speed and memory goals are measured here, never in tests).
bench:
	@echo "No benchmarks yet."

clean-out:
	rm -rf out
