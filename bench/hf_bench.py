#!/usr/bin/env python3
"""Open-weight token counts: `afinar check --tokenizer` against Python transformers
(fast tokenizer, batched apply_chat_template) on the same file, in the same run.

Prints both wall times, both peak memories (RSS), the ratio, and whether every
per-example count is identical. Called by bench/hf.sh; usable alone:

  python3 bench/hf_bench.py FILE --afinar BIN --tokenizer DIR [--out-dir DIR]

Exit status: 0 when the counts are identical, 1 when they differ, 2 on errors.
"""
import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import measure  # noqa: E402  (wall time and peak RSS via wait4 / GNU time)


def load(path):
    out = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            v = json.loads(line)
            out[v["line"]] = v["tokens"]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file", type=Path)
    ap.add_argument("--afinar", type=Path, required=True)
    ap.add_argument("--tokenizer", type=Path, required=True)
    ap.add_argument("--out-dir", type=Path, default=Path("target/bench"))
    ap.add_argument("--batch", type=int, default=1000)
    a = ap.parse_args()
    a.out_dir.mkdir(parents=True, exist_ok=True)
    ours_out = a.out_dir / "hf-afinar.jsonl"
    theirs_out = a.out_dir / "hf-transformers.jsonl"
    n = sum(1 for line in open(a.file, encoding="utf-8") if line.strip())

    cmd = [str(a.afinar), "check", str(a.file), "--tokenizer", str(a.tokenizer),
           "--max-tokens", "1000000", "--no-pii", "--format", "json",
           "--per-example", str(ours_out)]
    code, t_ours, m_ours = measure(cmd, a.out_dir / "hf-afinar.log")
    if code not in (0, 1):
        print(f"afinar failed ({code}); see {a.out_dir / 'hf-afinar.log'}", file=sys.stderr)
        return 2
    py = [sys.executable, str(Path(__file__).resolve().parent / "hf_transformers.py"),
          str(a.tokenizer), str(a.file), str(theirs_out), "--batch", str(a.batch)]
    code, t_py, m_py = measure(py, a.out_dir / "hf-transformers.log")
    if code != 0:
        print(f"transformers failed ({code}); see {a.out_dir / 'hf-transformers.log'}", file=sys.stderr)
        return 2

    ours, theirs = load(ours_out), load(theirs_out)
    differ = [k for k in theirs if ours.get(k) != theirs[k]]
    mb = lambda b: b / 1e6  # noqa: E731
    print(f"open-weight tokens: {n:,} examples, tokenizer {a.tokenizer}")
    print(f"  afinar check --tokenizer      {t_ours:8.2f} s   peak {mb(m_ours):7.1f} MB")
    print(f"  transformers (fast, batched)  {t_py:8.2f} s   peak {mb(m_py):7.1f} MB")
    print(f"  afinar is {t_py / t_ours:.1f}x faster; total tokens {sum(ours.values()):,}")
    if differ or len(ours) != len(theirs):
        print(f"  counts DIFFER on {len(differ)} examples (first lines: {differ[:5]})")
        return 1
    print(f"  counts identical on all {len(theirs):,} examples")
    return 0


if __name__ == "__main__":
    sys.exit(main())
