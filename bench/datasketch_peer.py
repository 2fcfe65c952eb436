#!/usr/bin/env python3
"""The peer a user would pick for near duplicates: Python datasketch's MinHashLSH.

  python3 bench/datasketch_peer.py FILE.jsonl [--threshold 0.5] [--num-perm 128]

Needs `pip install datasketch` (exits 3 with that advice when it is missing). Reads the
chat JSONL `bench/gen_faq.py` writes, folds and shingles each question and answer as
afinar does (NFC, lower case, punctuation dropped, whitespace collapsed; 5-character
shingles of question and answer apart), builds a MinHash of 128 permutations per example
(`update_batch`, its fast path), inserts every example into a `MinHashLSH` at the same
threshold and queries each one, then keeps the candidates whose *estimated* similarity
reaches the threshold. That is less than afinar does (no exact comparison, no answer
check, no figures): the peer's time is a lower bound. Prints one JSON line: timings, the
candidate and pair counts, and the examples it would drop (each one's first earlier
match), so `bench/curate.sh` can compare it with afinar's decisions.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import unicodedata

try:
    from datasketch import MinHash, MinHashLSH
except ImportError:
    print("datasketch is missing: run `pip install datasketch` to measure the peer", file=sys.stderr)
    sys.exit(3)


def fold(text: str) -> str:
    text = unicodedata.normalize("NFC", text).lower()
    out = []
    space = False
    for c in text:
        if c.isalnum():
            if space and out:
                out.append(" ")
            space = False
            out.append(c)
        elif c.isspace():
            space = True
    return "".join(out)


def shingles(question: str, answer: str) -> set[bytes]:
    out: set[bytes] = set()
    for part, tag in ((question, "q"), (answer, "a")):
        if 0 < len(part) < 5:
            out.add((tag + part).encode())
        for i in range(len(part) - 4):
            out.add((tag + part[i : i + 5]).encode())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("file")
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--num-perm", type=int, default=128)
    args = ap.parse_args()

    t0 = time.perf_counter()
    pairs = []
    with open(args.file, encoding="utf-8") as f:
        for line in f:
            msgs = json.loads(line)["messages"]
            q = next((m["content"] for m in msgs if m["role"] == "user"), "")
            a = next((m["content"] for m in reversed(msgs) if m["role"] == "assistant"), "")
            pairs.append((fold(q), fold(a)))
    t_read = time.perf_counter() - t0

    t1 = time.perf_counter()
    hashes = []
    for q, a in pairs:
        m = MinHash(num_perm=args.num_perm, seed=1)
        m.update_batch(list(shingles(q, a)))
        hashes.append(m)
    t_minhash = time.perf_counter() - t1

    t2 = time.perf_counter()
    lsh = MinHashLSH(threshold=args.threshold, num_perm=args.num_perm)
    for i, m in enumerate(hashes):
        lsh.insert(i, m, check_duplication=False)
    candidates = 0
    near = 0
    dropped = {}
    for i, m in enumerate(hashes):
        for j in lsh.query(m):
            if j >= i:
                continue
            candidates += 1
            if m.jaccard(hashes[j]) >= args.threshold:
                near += 1
                if i not in dropped or j < dropped[i]:
                    dropped[i] = j
    t_lsh = time.perf_counter() - t2
    print(
        json.dumps(
            {
                "examples": len(pairs),
                "bands_rows": [lsh.b, lsh.r],
                "read_s": round(t_read, 2),
                "minhash_s": round(t_minhash, 2),
                "lsh_s": round(t_lsh, 2),
                "total_s": round(time.perf_counter() - t0, 2),
                "candidate_pairs": candidates,
                "pairs_at_threshold": near,
                "would_drop": len(dropped),
                # line numbers, 1-based, as afinar's report gives them
                "dropped": sorted(i + 1 for i in dropped),
            }
        )
    )


if __name__ == "__main__":
    main()
