#!/usr/bin/env python3
"""Generates realistic Portuguese FAQ rows for the dedupe/split benchmark (`make bench`).

  python3 bench/gen_faq.py OUT_STEM --rows 200000 [--seed 42]

writes OUT_STEM.csv (Tema,Pergunta,Resposta, UTF-8) and OUT_STEM.jsonl (chat messages
with the system prompt `afinar convert` would set), the same rows in the same order.

Why not random words: real FAQ text repeats itself. The questions and answers come from
word-bigram chains trained on the repository's Portuguese fixtures (`fixtures/`), so
they share the domain's words and phrases ("receita bruta", "Simples Nacional",
"R$ 4,8 milhões") the way a firm's FAQ does, and 5-character shingles collide between
unrelated rows all the time. On top of that:

- 2% exact copies of an earlier row (half verbatim, half re-cased or re-spaced: still
  equal once folded);
- 3% reworded questions: an earlier row's answer behind a question rewritten with the
  substitutions people use ("Qual o limite" / "Qual é o teto", "Gostaria de saber:"),
  sometimes with a closing sentence added to the answer;
- 1% the same question with an answer that states another figure (a conflict);
- answers of 15 to 600 words, lognormal around 60, so a tenth are long;
- figures (amounts, rates, days, articles) drawn per answer, as real answers have.

Deterministic: the same seed and row count give the same bytes (Python's `random` with a
seed is stable across versions for the calls used here).
"""
from __future__ import annotations

import argparse
import csv
import json
import math
import random
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SYSTEM = "Você é um assistente especializado no Simples Nacional."
TOPICS = [
    "Enquadramento", "MEI", "DAS", "Anexos", "Exclusão", "Opção", "Apuração",
    "Declarações", "ISS", "ICMS", "Lucros", "Parcelamento", "Folha", "Fator R",
]
PHRASES = [
    "receita bruta", "Simples Nacional", "R$ 4,8 milhões", "R$ 3,6 milhões",
    "ano-calendário", "Portal do Simples Nacional", "PGDAS-D", "LC 123/2006",
    "Resolução CGSN 140/2018", "microempreendedor individual", "Anexo III", "Fator R",
    "folha de salários", "empresa de pequeno porte", "DAS mensal", "DEFIS",
]
# How people reword the same question (left: as written; right: as reworded).
REWORDINGS = [
    ("Qual o limite", "Qual é o teto"), ("Qual o", "Qual é o"), ("Qual a", "Qual é a"),
    ("limite", "teto"), ("faturamento", "receita"), ("faturar", "receber"),
    ("pode", "consegue"), ("posso", "consigo"), ("empresa", "firma"),
    ("Como", "De que forma"), ("Quando", "Em que momento"), ("prazo", "data limite"),
    ("O que é", "O que significa"), ("é obrigatório", "preciso"), ("MEI", "microempreendedor"),
    ("optar", "entrar"), ("pagar", "recolher"), ("valor", "montante"),
]
PREFIXES = ["Gostaria de saber:", "Dúvida:", "Por favor,", "Uma pergunta:", "Me ajudem:", ""]
SUFFIXES = [" no caso da minha empresa?", " este ano?", " em 2026?", " para quem é do Simples?", "?"]
CLOSINGS = [
    "Em caso de dúvida, fale com o seu contador.",
    "Consulte sempre a legislação vigente.",
    "Fonte: Portal do Simples Nacional.",
]


# Fixtures that are not FAQ text (validation cases, services' checker cases in English,
# redaction samples): left out, so adding such fixtures never changes the benchmark data.
SKIP = {"check", "redact", "targets", "remote"}


def corpus() -> tuple[list[str], list[str]]:
    """Questions and answers of the Portuguese fixtures, each text once."""
    questions: list[str] = []
    answers: list[str] = []
    for path in sorted(ROOT.glob("fixtures/**/*")):
        if path.suffix == ".csv":
            # Office CSVs: UTF-8, else Windows-1252 (as afinar reads them), never U+FFFD.
            try:
                text = path.read_text(encoding="utf-8-sig")
            except UnicodeDecodeError:
                text = path.read_text(encoding="cp1252", errors="replace")
            delimiter = ";" if text.splitlines()[0].count(";") > text.splitlines()[0].count(",") else ","
            for row in csv.DictReader(text.splitlines(True), delimiter=delimiter):
                q, a = row.get("Pergunta"), row.get("Resposta")
                if q and a:
                    questions.append(q)
                    answers.append(a)
        elif path.suffix == ".jsonl" and not SKIP.intersection(path.parts):
            for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
                try:
                    rec = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(rec, dict):
                    continue
                for m in rec.get("messages", []) if isinstance(rec.get("messages"), list) else []:
                    if isinstance(m, dict) and isinstance(m.get("content"), str):
                        if m.get("role") == "user":
                            questions.append(m["content"])
                        elif m.get("role") == "assistant":
                            answers.append(m["content"])
                if isinstance(rec.get("pergunta"), str):
                    questions.append(rec["pergunta"])
                    questions.extend(q for q in rec.get("reformulacoes", []) if isinstance(q, str))
                if isinstance(rec.get("resposta"), str):
                    answers.append(rec["resposta"])
    # Drop the fixtures' test markers ("(caso 1)") and repeats; keep the order.
    clean = lambda xs: list(dict.fromkeys(re.sub(r"\s+", " ", re.sub(r"\(caso \d+\)", "", x)).strip() for x in xs))
    return [q for q in clean(questions) if q], [a for a in clean(answers) if a]


class Chain:
    """A word-bigram chain: each word followed by a word seen after it in the corpus."""

    def __init__(self, texts: list[str]):
        self.next: dict[str, list[str]] = {}
        self.starts: list[str] = []
        for t in texts:
            words = t.split()
            if not words:
                continue
            self.starts.append(words[0])
            for a, b in zip(words, words[1:]):
                self.next.setdefault(a, []).append(b)
                # A sentence end can be followed by any sentence start.
            self.next.setdefault(words[-1], [])
        self.ends = {w for w in self.next if w.endswith((".", "?", "!", ":"))}

    def sentence(self, rng: random.Random, min_words: int, max_words: int) -> list[str]:
        out = [rng.choice(self.starts)]
        while len(out) < max_words:
            if out[-1] in self.ends and len(out) >= min_words:
                break
            followers = self.next.get(out[-1])
            out.append(rng.choice(followers) if followers else rng.choice(self.starts))
        return out


def figure(rng: random.Random) -> str:
    kind = rng.randrange(5)
    if kind == 0:
        return f"R$ {rng.randrange(1, 999)}.{rng.randrange(1000):03d},{rng.randrange(100):02d}"
    if kind == 1:
        return f"{rng.randrange(1, 33)},{rng.randrange(10)}%"
    if kind == 2:
        return f"até o dia {rng.randrange(1, 31)}"
    if kind == 3:
        return f"art. {rng.randrange(1, 90)}"
    return f"{rng.randrange(2, 60)} meses"


def answer(rng: random.Random, chain: Chain) -> str:
    target = int(min(600, max(15, math.exp(rng.gauss(math.log(60), 0.7)))))
    words: list[str] = []
    while len(words) < target:
        s = chain.sentence(rng, 6, 40)
        if rng.random() < 0.5:
            s.insert(rng.randrange(len(s)), rng.choice(PHRASES))
        if rng.random() < 0.6:
            s.insert(rng.randrange(len(s)), figure(rng))
        words.extend(s)
    text = " ".join(words)
    return text if text.endswith((".", "!", "?")) else text + "."


CONTEXTS = [
    "Tenho uma {} em {} e", "Sou {} em {}:", "Abri uma {} em {} no ano passado.",
    "Minha {} fica em {}.", "Meu cliente tem uma {} em {}.",
]
BUSINESSES = [
    "padaria", "loja de roupas", "clínica odontológica", "oficina mecânica", "agência de viagens",
    "empresa de software", "academia", "farmácia", "consultoria", "transportadora", "escola de idiomas",
    "restaurante", "distribuidora", "corretora de seguros", "construtora", "gráfica",
]
CITIES = [
    "São Paulo", "Belo Horizonte", "Curitiba", "Porto Alegre", "Recife", "Salvador", "Fortaleza",
    "Goiânia", "Campinas", "Manaus", "Belém", "Florianópolis", "Vitória", "Natal", "Cuiabá",
]


def question(rng: random.Random, chain: Chain) -> str:
    words = chain.sentence(rng, 8, 24)
    if rng.random() < 0.6:
        ctx = rng.choice(CONTEXTS).format(rng.choice(BUSINESSES), rng.choice(CITIES))
        words = ctx.split() + [words[0].lower()] + words[1:]
    if rng.random() < 0.3:
        words.insert(rng.randrange(len(words)), rng.choice(PHRASES))
    text = " ".join(words).rstrip(".:!")
    return text if text.endswith("?") else text + "?"


def reword(rng: random.Random, q: str) -> str:
    out = q
    subs = [p for p in REWORDINGS if p[0] in out]
    rng.shuffle(subs)
    for old, new in subs[: 1 + rng.randrange(3)]:
        out = out.replace(old, new, 1)
    if rng.random() < 0.5:
        out = f"{rng.choice(PREFIXES)} {out[0].lower()}{out[1:]}".strip()
    if rng.random() < 0.4:
        out = out.rstrip("?") + rng.choice(SUFFIXES)
    if out == q:
        out = "Dúvida: " + q
    return out


def recase(rng: random.Random, text: str) -> str:
    """Equal to `text` once folded (case, punctuation, spacing)."""
    kind = rng.randrange(3)
    if kind == 0:
        return text.upper()
    if kind == 1:
        return text.replace(" ", "  ").rstrip("?.") + " ?"
    return text.lower()


def generate(rows: int, seed: int) -> list[tuple[str, str, str]]:
    rng = random.Random(seed)
    qs, ans = corpus()
    qchain, achain = Chain(qs), Chain(ans)
    out: list[tuple[str, str, str]] = []
    while len(out) < rows:
        roll = rng.random()
        if out and roll < 0.02:
            tema, q, a = out[rng.randrange(len(out))]
            if rng.random() < 0.5:
                q = recase(rng, q)
            out.append((tema, q, a))
        elif out and roll < 0.05:
            tema, q, a = out[rng.randrange(len(out))]
            if rng.random() < 0.3:
                a = f"{a} {rng.choice(CLOSINGS)}"
            out.append((tema, reword(rng, q), a))
        elif out and roll < 0.06:
            tema, q, a = out[rng.randrange(len(out))]
            out.append((tema, q, f"{a} O valor atualizado é {figure(rng)}."))
        else:
            out.append((rng.choice(TOPICS), question(rng, qchain), answer(rng, achain)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("out_stem", type=Path, help="writes OUT_STEM.csv and OUT_STEM.jsonl")
    ap.add_argument("--rows", type=int, default=200_000)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    rows = generate(args.rows, args.seed)
    args.out_stem.parent.mkdir(parents=True, exist_ok=True)
    stem = str(args.out_stem)
    with open(stem + ".csv.tmp", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(["Tema", "Pergunta", "Resposta"])
        w.writerows(rows)
    with open(stem + ".jsonl.tmp", "w", encoding="utf-8") as f:
        for _, q, a in rows:
            msgs = [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": q},
                {"role": "assistant", "content": a},
            ]
            f.write(json.dumps({"messages": msgs}, ensure_ascii=False) + "\n")
    Path(stem + ".csv.tmp").replace(stem + ".csv")
    Path(stem + ".jsonl.tmp").replace(stem + ".jsonl")


if __name__ == "__main__":
    main()
