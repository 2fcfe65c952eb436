#!/usr/bin/env python3
"""Dedupe, split, convert and run at two sizes of realistic FAQ data, and the peer.

Called by bench/curate.sh (which builds the release binaries); usable alone:

  python3 bench/curate.py --afinar BIN --bench-curate BIN [--sizes 50000,200000]
                          [--out-dir DIR] [--seed 42] [--no-peer] [--old-afinar BIN]

For each size it generates `faq-<N>k.csv` and `.jsonl` with bench/gen_faq.py (once;
deterministic), then measures, each under GNU time (`/usr/bin/time -v`, for wall, CPU
and peak memory) with the load average beside it, `--repeat` times (default 3; the
peer once), the run of median wall time reported with the others' times beside it: on
a shared 2-core machine one run of the same binary varies by a third from minute to
minute:

- `afinar dedupe faq.jsonl`, `afinar split faq.csv --stratify Tema`,
  `afinar convert faq.csv`, `afinar run` of a small pipeline (the CSV, dedupe, split);
- bench_curate (the library alone: dedupe + split reusing its links, split alone), which
  prints a digest of every decision;
- the peer, Python datasketch MinHashLSH at the same threshold with 128 permutations
  (bench/datasketch_peer.py; skipped with a message when datasketch is not installed:
  `pip install datasketch`).

Then the growth ratio time(large) / time(small) of each, and the issue's targets. With
`--old-afinar` (a build of an earlier version) it also runs that one's dedupe on the same
files and compares the decisions row by row.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def timed(cmd: list[str], log: Path) -> dict:
    """Runs cmd under GNU time; wall and CPU seconds, peak RSS in MB, exit code."""
    load = loadavg()
    stats = log.with_suffix(".time")
    with open(log, "wb") as out:
        rc = subprocess.call(["/usr/bin/time", "-v", "-o", str(stats)] + cmd, stdout=out, stderr=subprocess.STDOUT)
    text = stats.read_text()

    def field(name: str) -> str:
        m = re.search(rf"{re.escape(name)}: (.+)", text)
        return m.group(1).strip() if m else "0"

    wall = 0.0
    for part in field("Elapsed (wall clock) time (h:mm:ss or m:ss)").split(":"):
        wall = wall * 60 + float(part)
    return {
        "rc": rc,
        "wall": wall,
        "cpu": float(field("User time (seconds)")) + float(field("System time (seconds)")),
        "peak_mb": int(field("Maximum resident set size (kbytes)")) / 1024,
        "load": load,
        "log": str(log),
    }


PIPELINE = """name = "bench"
out_dir = "{out}"
system = "Você é um assistente especializado no Simples Nacional."

[[sources]]
path = "{csv}"
meta = ["Tema"]

[output]
format = "chat"

[dedupe]
enabled = true

[split]
validation = 0.1
seed = 42
stratify = "Tema"

[model]
name = "gpt-4o-mini"
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--afinar", required=True)
    ap.add_argument("--bench-curate", required=True)
    ap.add_argument("--old-afinar")
    ap.add_argument("--sizes", default="50000,200000")
    ap.add_argument("--out-dir", type=Path, default=Path("target/bench"))
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--no-peer", action="store_true")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default="dedupe,split,convert,run,check,library,peer,old")
    args = ap.parse_args()
    only = set(args.only.split(","))
    sizes = [int(s) for s in args.sizes.split(",")]
    out = args.out_dir
    out.mkdir(parents=True, exist_ok=True)
    have_peer = not args.no_peer and subprocess.call(
        [sys.executable, "-c", "import datasketch"], stderr=subprocess.DEVNULL
    ) == 0
    if not have_peer and not args.no_peer:
        print("note: datasketch is not installed, the peer is skipped (`pip install datasketch` to measure it)")

    results: dict[str, dict[int, dict]] = {}
    for n in sizes:
        stem = out / f"faq-{n // 1000}k"
        csv, jsonl = stem.with_suffix(".csv"), stem.with_suffix(".jsonl")
        if not csv.exists() or not jsonl.exists():
            print(f"generating {stem}.csv/.jsonl ({n} rows, seed {args.seed})...", flush=True)
            subprocess.check_call([sys.executable, str(HERE / "gen_faq.py"), str(stem), "--rows", str(n), "--seed", str(args.seed)])
        work = out / f"run-{n // 1000}k"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir()
        mb = jsonl.stat().st_size / 1e6
        print(f"\n{n} rows: {csv.name} {csv.stat().st_size / 1e6:.0f} MB, {jsonl.name} {mb:.0f} MB", flush=True)
        runs = {
            "dedupe": [args.afinar, "dedupe", str(jsonl), "-o", str(work / "dedupe.jsonl"), "--report", str(work / "dedupe.json")],
            "split": [args.afinar, "split", str(csv), "--out-dir", str(work / "split"), "--stratify", "Tema"],
            "convert": [args.afinar, "convert", str(csv), "-o", str(work / "convert.jsonl")],
            "run": [args.afinar, "run", str(work / "pipeline.toml")],
            # The same examples, read, validated and counted: what `run` is held to (≤ 8x).
            "check": [args.afinar, "check", str(work / "convert.jsonl"), "--no-pii", "--format", "json"],
            "library": [args.bench_curate, str(csv), "--dump", str(work / "library-decisions.txt")],
        }
        (work / "pipeline.toml").write_text(PIPELINE.format(out=work / "pipeline", csv=csv.resolve()))
        if args.old_afinar:
            runs["old"] = [args.old_afinar, "dedupe", str(jsonl), "-o", str(work / "old.jsonl"), "--report", str(work / "old.json")]
        if have_peer:
            runs["peer"] = [sys.executable, str(HERE / "datasketch_peer.py"), str(jsonl)]
        for name, cmd in runs.items():
            if name not in only:
                continue
            reps = 1 if name == "peer" else max(args.repeat, 1)
            trials = sorted((timed(["nice"] + cmd, work / f"{name}.log") for _ in range(reps)), key=lambda t: t["wall"])
            r = dict(trials[len(trials) // 2])
            r["walls"] = [t["wall"] for t in trials]
            r["input_mb"] = csv.stat().st_size / 1e6 if name in ("split", "convert", "run", "check", "library") else mb
            results.setdefault(name, {})[n] = r
            extra = ""
            if name == "library":
                extra = " | " + " | ".join(
                    l for l in Path(r["log"]).read_text().splitlines() if l.startswith(("dedupe:", "split", "decision"))
                )
            if name == "peer":
                try:
                    peer = json.loads(Path(r["log"]).read_text().strip().splitlines()[-1])
                    extra = f" | candidates {peer['candidate_pairs']}, pairs at threshold {peer['pairs_at_threshold']}, would drop {peer['would_drop']}"
                except (ValueError, IndexError, KeyError):
                    extra = " | (no output)"
            print(
                f"  {name:8} {r['wall']:7.2f} s wall {r['cpu']:7.2f} s CPU {r['peak_mb']:7.0f} MB peak "
                f"({r['peak_mb'] / r['input_mb']:.2f}x input) load {r['load']} exit {r['rc']}"
                + (f" (median of {len(trials)}: {', '.join(f'{w:.2f}' for w in r['walls'])} s)" if len(trials) > 1 else "")
                + extra,
                flush=True,
            )
        if args.old_afinar and "old" in only and "dedupe" in only:
            new, old = json.loads((work / "dedupe.json").read_text()), json.loads((work / "old.json").read_text())
            def flat(rep):
                return {
                    json.dumps(d["origin"], sort_keys=True): (json.dumps(g["kept"], sort_keys=True), d["reason"], d["similarity"])
                    for g in rep["groups"]
                    for d in g["dropped"]
                }
            a, b = flat(old), flat(new)
            only_old = sorted(set(a) - set(b))
            only_new = sorted(set(b) - set(a))
            moved = [k for k in set(a) & set(b) if a[k] != b[k]]
            same_conflicts = old["conflicts"] == new["conflicts"]
            print(
                f"  old vs new dedupe: {len(a)} and {len(b)} dropped; only old {len(only_old)}, only new {len(only_new)}, "
                f"kept another {len(moved)}; conflicts {'identical' if same_conflicts else 'differ'}"
            )
            (work / "old-vs-new.json").write_text(json.dumps({"only_old": only_old, "only_new": only_new, "moved": moved}, indent=1))

    if len(sizes) >= 2:
        small, large = sizes[0], sizes[-1]
        print(f"\ngrowth time({large // 1000}k) / time({small // 1000}k), wall and CPU:")
        for name, by in results.items():
            if small in by and large in by and by[small]["wall"] > 0:
                print(
                    f"  {name:8} {by[large]['wall'] / by[small]['wall']:5.2f} wall  "
                    f"{by[large]['cpu'] / max(by[small]['cpu'], 0.01):5.2f} CPU"
                )
        if "dedupe" in results and large in results["dedupe"]:
            d = results["dedupe"][large]
            print(f"\ntargets at {large // 1000}k: dedupe {d['wall']:.2f} s (≤ 6), {d['peak_mb'] / d['input_mb']:.2f}x input memory (≤ 2.5)")
            if "run" in results and "check" in results and large in results["run"] and large in results["check"]:
                r, c = results["run"][large], results["check"][large]
                print(f"  run / check of the same examples: {r['wall'] / max(c['wall'], 0.01):.1f}x wall (≤ 8)")
            if "peer" in results and large in results["peer"]:
                print(f"  datasketch / afinar dedupe: {results['peer'][large]['wall'] / d['wall']:.1f}x wall, "
                      f"{results['peer'][large]['cpu'] / max(d['cpu'], 0.01):.1f}x CPU (≥ 20)")
    (out / "curate-results.json").write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
