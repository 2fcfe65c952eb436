#!/usr/bin/env python3
"""Runs the reference validator and afinar on the same file; compares time, memory, counts.

Called by bench/run.sh (which builds and generates the data); usable alone:

  python3 bench/bench.py FILE --ref REF.py --afinar BIN [--mode check|tokens|auto]
                         [--bench-tokens BIN] [--threads 2] [--out-dir DIR] [--encoding E]

Modes: `check` runs `afinar check FILE --model M --per-example OUT`; `tokens` runs the
tokenizer benchmark (crates/afinar-tokens/examples/bench_tokens.rs), which counts per
example exactly as the reference does; `auto` tries `check` and falls back to `tokens`
when `check` does not produce per-example output.

In check mode it then measures what the personal-data scan (issue #9) adds: `afinar check`
with and without `--no-pii`, alternated `--pii-runs` times (default 7), medians of wall
and CPU time. The target is under 10%.

Wall time and peak RSS of each run are measured here (wait4 rusage), so GNU time is not
needed. Exit status: 0 when the counts are identical, 1 when they differ, 2 on errors.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

MODEL_FOR = {"o200k_base": "gpt-4o-mini", "cl100k_base": "gpt-3.5-turbo"}


GNU_TIME = shutil.which("time", path="/usr/bin:/bin") if os.path.exists("/usr/bin/time") else None


def measure(cmd: list[str], log: Path) -> tuple[int, float, int]:
    """Runs cmd; returns (exit code, wall seconds, peak RSS bytes).

    Peak RSS comes from GNU time when installed. Otherwise from wait4, where Linux carries
    the forking process's peak over exec, so this script keeps itself small until every
    run is done (it loads the counts only afterwards).
    """
    t0 = time.perf_counter()
    stats = log.with_suffix(".time")
    if GNU_TIME:
        cmd = [GNU_TIME, "-f", "%M", "-o", str(stats)] + cmd
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    code = os.waitstatus_to_exitcode(status)
    rss = usage.ru_maxrss * 1024   # Linux reports KiB
    if GNU_TIME:
        try:
            rss = int(stats.read_text().split()[-1]) * 1024
        except (OSError, ValueError, IndexError):
            pass
    return code, wall, rss


def timed(cmd: list[str]) -> tuple[int, float, float]:
    """Runs cmd with its output discarded; returns (exit code, wall s, user+system CPU s)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    return os.waitstatus_to_exitcode(status), wall, usage.ru_utime + usage.ru_stime


def pii_overhead(afinar: Path, file: Path, model: str, runs: int) -> int:
    """The personal-data scan's share of `afinar check`: alternated runs, medians."""
    base = [str(afinar), "check", str(file), "--model", model]
    on, off = [], []
    for _ in range(runs):
        for cmd, into in ((base, on), (base + ["--no-pii"], off)):
            code, wall, cpu = timed(cmd)
            if code not in (0, 1):
                print(f"error: `{' '.join(cmd)}` failed (exit {code})", file=sys.stderr)
                return 2
            into.append((wall, cpu))
    med = lambda xs, i: statistics.median(x[i] for x in xs)
    wall_on, wall_off = med(on, 0), med(off, 0)
    cpu_on, cpu_off = med(on, 1), med(off, 1)
    print(f"personal-data scan     {runs} alternated runs each, medians:")
    print(f"  check                {wall_on:7.3f} s wall  {cpu_on:7.3f} s CPU")
    print(f"  check --no-pii       {wall_off:7.3f} s wall  {cpu_off:7.3f} s CPU")
    print(f"  the scan adds        {100 * (wall_on / wall_off - 1):+6.1f}% wall "
          f"{100 * (cpu_on / cpu_off - 1):+6.1f}% CPU   (target: under 10%)")
    return 0


def load_counts(path: Path) -> dict[int, tuple]:
    counts = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                row = json.loads(line)
                counts[row["line"]] = (row.get("tokens"), row.get("assistant_tokens"))
    return counts


def mib(n: int) -> str:
    return f"{n / 2**20:.1f} MiB"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file", type=Path)
    ap.add_argument("--ref", type=Path, required=True)
    ap.add_argument("--afinar", type=Path, help="the afinar binary")
    ap.add_argument("--bench-tokens", type=Path, help="the bench_tokens example binary")
    ap.add_argument("--mode", choices=["check", "tokens", "auto"], default="auto")
    ap.add_argument("--threads", default="2", help="threads for tokens mode (e.g. '1 2')")
    ap.add_argument("--encoding", default="o200k_base", choices=sorted(MODEL_FOR))
    ap.add_argument("--out-dir", type=Path, default=Path("target/bench"))
    ap.add_argument("--pii-runs", type=int, default=7,
                    help="alternated runs with and without --no-pii (0: skip)")
    args = ap.parse_args()

    args.out_dir.mkdir(parents=True, exist_ok=True)
    size = args.file.stat().st_size
    print(f"file: {args.file} ({size / 1e6:.1f} MB), encoding {args.encoding}")

    ref_out = args.out_dir / f"ref-{args.encoding}.jsonl"
    cmd = [sys.executable, str(args.ref), str(args.file), "--encoding", args.encoding,
           "--per-example", str(ref_out)]
    code, ref_wall, ref_rss = measure(cmd, args.out_dir / "ref.log")
    if code != 0:
        print(f"error: reference failed (exit {code}), see {args.out_dir / 'ref.log'}", file=sys.stderr)
        return 2
    print(f"reference              {ref_wall:7.2f} s  peak {mib(ref_rss)}   ({args.ref})")

    runs = []   # (label, wall, rss, out path)
    mode = args.mode
    if mode in ("check", "auto"):
        ours_out = args.out_dir / f"afinar-check-{args.encoding}.jsonl"
        ours_out.unlink(missing_ok=True)
        cmd = [str(args.afinar), "check", str(args.file), "--model", MODEL_FOR[args.encoding],
               "--per-example", str(ours_out)]
        code, wall, rss = measure(cmd, args.out_dir / "afinar-check.log")
        if code in (0, 1) and ours_out.is_file() and ours_out.stat().st_size > 0:
            runs.append(("afinar check", wall, rss, ours_out))
        elif mode == "check":
            print(f"error: afinar check failed (exit {code}), see {args.out_dir / 'afinar-check.log'}",
                  file=sys.stderr)
            return 2
        else:
            print(f"note: afinar check gave no per-example output (exit {code}); benchmarking the "
                  "tokenizer alone")
            mode = "tokens"
    if mode == "tokens":
        for threads in args.threads.split():
            ours_out = args.out_dir / f"tokens-{args.encoding}-{threads}t.jsonl"
            cmd = [str(args.bench_tokens), str(args.file), "--engine", "afinar", "--threads", threads,
                   "--encoding", args.encoding, "--per-example", str(ours_out)]
            code, wall, rss = measure(cmd, args.out_dir / f"tokens-{threads}t.log")
            if code != 0:
                print(f"error: bench_tokens failed (exit {code})", file=sys.stderr)
                return 2
            runs.append((f"afinar-tokens, {threads} thread{'s' if threads != '1' else ''}", wall, rss,
                         ours_out))

    if not GNU_TIME:
        print("note: GNU time not found (apt-get install time); peak memory from wait4")
    ref = load_counts(ref_out)
    worst = 0
    for label, wall, rss, out in runs:
        ours = load_counts(out)
        diffs = sum(1 for line, want in ref.items() if ours.get(line) != want)
        extra = sum(1 for line in ours if line not in ref)
        worst = max(worst, diffs + extra)
        print(f"{label:<22} {wall:7.2f} s  peak {mib(rss)}   speed-up {ref_wall / wall:5.1f}x   "
              f"counts identical: {'yes' if diffs + extra == 0 else 'no'} "
              f"({diffs + extra} differences in {len(ref)} examples)")
    if any(label == "afinar check" for label, *_ in runs) and args.pii_runs > 0:
        if pii_overhead(args.afinar, args.file, MODEL_FOR[args.encoding], args.pii_runs) != 0:
            return 2
    return 0 if worst == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
