#!/usr/bin/env bash
# `make bench`: afinar check vs the reference validator on a 200,000-example chat JSONL.
#
# Builds release binaries, generates the data set once (deterministic, seeded; kept in
# target/bench, never committed), runs both, prints wall time, peak memory, speed-up and
# whether the per-example token counts are identical.
#
# Environment:
#   REF       reference validator (default: ../shared/reference/ref_validate.py from the repo root)
#   FILE      data set to use (default: target/bench/chat-200k.jsonl, generated if missing)
#   EXAMPLES  examples to generate (default 200000);  SEED  generator seed (default 42)
#   MODE      check | tokens | auto (default auto: `afinar check`, or the tokenizer alone
#             while `check` cannot write --per-example)
#   THREADS   thread counts for tokens mode (default "1 2")
#   ENCODING  o200k_base (default) | cl100k_base
#   PII_RUNS  alternated runs with and without --no-pii for the scan's cost (default 7; 0 skips)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
REF="${REF:-$ROOT/../shared/reference/ref_validate.py}"
OUT="$ROOT/target/bench"
EXAMPLES="${EXAMPLES:-200000}"
SEED="${SEED:-42}"
FILE="${FILE:-$OUT/chat-$((EXAMPLES / 1000))k.jsonl}"
MODE="${MODE:-auto}"
THREADS="${THREADS:-1 2}"
ENCODING="${ENCODING:-o200k_base}"
PII_RUNS="${PII_RUNS:-7}"

if [[ ! -f "$REF" ]]; then
    echo "error: reference validator \`$REF\` not found; set REF=path/to/ref_validate.py" >&2
    exit 2
fi
if ! python3 -c 'import tiktoken' 2>/dev/null; then
    echo "error: Python tiktoken is missing; run \`pip install tiktoken\`" >&2
    exit 2
fi

mkdir -p "$OUT"
echo "building release binaries..." >&2
cargo build --release --quiet --bin afinar
cargo build --release --quiet -p afinar-tokens --example bench_tokens
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"

if [[ ! -f "$FILE" ]]; then
    echo "generating $FILE ($EXAMPLES examples, seed $SEED)..." >&2
    python3 "$ROOT/bench/gen_chat.py" "$FILE" --examples "$EXAMPLES" --seed "$SEED"
fi

exec python3 "$ROOT/bench/bench.py" "$FILE" \
    --ref "$REF" \
    --afinar "$TARGET_DIR/release/afinar" \
    --bench-tokens "$TARGET_DIR/release/examples/bench_tokens" \
    --mode "$MODE" --threads "$THREADS" --encoding "$ENCODING" --out-dir "$OUT" --pii-runs "$PII_RUNS"
