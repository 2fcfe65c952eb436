#!/usr/bin/env python3
"""The Python side of the open-weight benchmark: transformers' fast tokenizer, batched.

Reads chat JSONL, calls tokenizer.apply_chat_template(batch, tokenize=True) on batches of
--batch conversations (the template rendered by jinja2, the batch tokenized by the Rust
`tokenizers` library on all cores), writes one {"line", "tokens"} per line.

Usage: python3 bench/hf_transformers.py MODEL_DIR IN.jsonl OUT.jsonl [--batch 1000]
"""
import argparse
import json
import logging
import os
import warnings

warnings.filterwarnings("ignore")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
logging.disable(logging.WARNING)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("input")
    ap.add_argument("output")
    ap.add_argument("--batch", type=int, default=1000)
    a = ap.parse_args()
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(a.model)
    assert tok.is_fast, "the fast (Rust) tokenizer is the fair comparison"
    with open(a.input, encoding="utf-8") as f, open(a.output, "w", encoding="utf-8") as out:
        batch, lines = [], []

        def flush():
            enc = tok.apply_chat_template(batch, tokenize=True)
            ids = enc["input_ids"] if hasattr(enc, "keys") else enc
            for n, x in zip(lines, ids):
                out.write(f'{{"line":{n},"tokens":{len(x)}}}\n')
            batch.clear()
            lines.clear()

        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            batch.append(json.loads(line)["messages"])
            lines.append(n)
            if len(batch) == a.batch:
                flush()
        if batch:
            flush()


if __name__ == "__main__":
    main()
