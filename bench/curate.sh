#!/usr/bin/env bash
# `make bench`, curation half: dedupe, split, convert and run at 50,000 and 200,000 rows
# of realistic FAQ text (bench/gen_faq.py: word-bigram chains on the fixtures), wall, CPU
# and peak memory under GNU time, the growth ratio, and Python datasketch's MinHashLSH on
# the same data (`pip install datasketch`; skipped with a message when missing).
#
# Environment:
#   SIZES   row counts (default "50000,200000"); SEED generator seed (default 42)
#   OLD     an earlier afinar binary: its dedupe runs too and the decisions are compared
#   ONLY    a subset of dedupe,split,convert,run,check,library,peer,old
#   REPEAT  runs of each afinar command, the median reported (default 3)
# The data is generated once into the target directory's bench/ folder, never committed.
# The machine is measured as it is: the load average is printed beside every figure.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
if [[ ! -x /usr/bin/time ]]; then
    echo "error: GNU time is missing (/usr/bin/time); install it with \`apt-get install time\`" >&2
    exit 2
fi
echo "building release binaries..." >&2
cargo build --release --locked --quiet --bin afinar
cargo build --release --locked --quiet -p afinar-curate --example bench_curate
TARGET_DIR="$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')"
exec python3 "$ROOT/bench/curate.py" \
    --afinar "$TARGET_DIR/release/afinar" \
    --bench-curate "$TARGET_DIR/release/examples/bench_curate" \
    --sizes "${SIZES:-50000,200000}" --seed "${SEED:-42}" \
    --out-dir "$TARGET_DIR/bench" \
    ${OLD:+--old-afinar "$OLD"} \
    --repeat "${REPEAT:-3}" \
    ${ONLY:+--only "$ONLY"}
