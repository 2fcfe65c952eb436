//! Benchmark of token counting on a chat JSONL, counting exactly as the reference
//! validator (`ref_validate.py --per-example`) does, with a choice of engine.
//!
//! ```text
//! cargo run --release -p afinar-tokens --example bench_tokens -- FILE.jsonl \
//!     [--engine afinar|afinar-nomemo|tiktoken-rs|bpe-openai] [--threads N]
//!     [--encoding o200k_base|cl100k_base] [--per-example OUT.jsonl] [--texts-only]
//! ```
//!
//! Per example: 3 tokens per message + the tokens of each value of the message (strings
//! as they are, objects and arrays as Python's `json.dumps(v, ensure_ascii=False)`), +1
//! for a `name` key, + 3 priming the reply. Prints wall time and throughput to stderr.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::time::Instant;

use afinar_tokens::{Encoding, Tokenizer};
use rayon::prelude::*;
use serde_json::Value;

#[derive(Clone, Copy, PartialEq)]
enum Engine {
    Afinar,
    AfinarNoMemo,
    TiktokenRs,
    BpeOpenai,
}

struct Counter {
    engine: Engine,
    ours: &'static Tokenizer,
    tiktoken: Option<&'static tiktoken_rs::CoreBPE>,
    bpe: Option<&'static bpe_openai::Tokenizer>,
}

impl Counter {
    fn count(&self, text: &str) -> usize {
        match self.engine {
            Engine::Afinar => self.ours.count(text),
            Engine::AfinarNoMemo => self.ours.count_unmemoised(text),
            Engine::TiktokenRs => self.tiktoken.map_or(0, |t| t.encode_ordinary(text).len()),
            Engine::BpeOpenai => self.bpe.map_or(0, |t| t.count(text)),
        }
    }
}

/// (tokens, assistant_tokens) of one line as the reference counts a chat example, `None`
/// when the line is not countable.
fn example_tokens(obj: &Value, c: &Counter, buf: &mut String) -> Option<(usize, usize)> {
    let msgs = obj.get("messages")?.as_array()?;
    if msgs.is_empty() || !msgs.iter().all(Value::is_object) {
        return None;
    }
    let (mut total, mut asst) = (0, 0);
    for m in msgs {
        let m = m.as_object()?;
        total += 3;
        let is_assistant = m.get("role").and_then(Value::as_str) == Some("assistant");
        for (k, v) in m {
            let n = match v {
                Value::String(s) => c.count(s),
                Value::Array(_) | Value::Object(_) => {
                    *buf = afinar_tokens::pyjson::python_json(v);
                    c.count(buf)
                }
                _ => continue,
            };
            total += n;
            if k == "name" {
                total += 1;
            }
            if is_assistant && k == "content" {
                asst += n;
            }
        }
    }
    Some((total + 3, asst))
}

/// Counting only the strings, no JSON parsing (`--texts-only`): pre-extracted texts.
fn texts_of(obj: &Value, out: &mut Vec<String>) {
    if let Some(msgs) = obj.get("messages").and_then(Value::as_array) {
        for m in msgs.iter().filter_map(Value::as_object) {
            for v in m.values() {
                if let Value::String(s) = v {
                    out.push(s.clone());
                }
            }
        }
    }
}

/// CPU time of the calling thread (ns), so figures stay meaningful on a busy machine.
fn thread_cpu_ns() -> u64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mut file = None;
    let mut engine = Engine::Afinar;
    let mut threads = 1usize;
    let mut encoding = Encoding::O200kBase;
    let mut per_example = None;
    let mut texts_only = false;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--engine" => {
                engine = match args.next().as_deref() {
                    Some("afinar") => Engine::Afinar,
                    Some("afinar-nomemo") => Engine::AfinarNoMemo,
                    Some("tiktoken-rs") => Engine::TiktokenRs,
                    Some("bpe-openai") => Engine::BpeOpenai,
                    other => return Err(format!("unknown engine {other:?}").into()),
                }
            }
            "--threads" => threads = args.next().ok_or("--threads N")?.parse()?,
            "--encoding" => encoding = args.next().ok_or("--encoding NAME")?.parse()?,
            "--per-example" => per_example = Some(args.next().ok_or("--per-example PATH")?),
            "--texts-only" => texts_only = true,
            _ => file = Some(a),
        }
    }
    let file = file.ok_or("usage: bench_tokens FILE.jsonl [options]")?;
    let t0 = Instant::now();
    let counter = Counter {
        engine,
        ours: Tokenizer::get(encoding),
        tiktoken: (engine == Engine::TiktokenRs).then(|| match encoding {
            Encoding::O200kBase => tiktoken_rs::o200k_base_singleton(),
            Encoding::Cl100kBase => tiktoken_rs::cl100k_base_singleton(),
        }),
        bpe: (engine == Engine::BpeOpenai).then(|| match encoding {
            Encoding::O200kBase => bpe_openai::o200k_base(),
            Encoding::Cl100kBase => bpe_openai::cl100k_base(),
        }),
    };
    // Touch the engine so loading is timed separately.
    counter.count("warm up");
    let load = t0.elapsed();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()?;

    if texts_only {
        let mut texts = Vec::new();
        for line in BufReader::new(File::open(&file)?).lines() {
            if let Ok(v) = serde_json::from_str::<Value>(&line?) {
                texts_of(&v, &mut texts);
            }
        }
        let bytes: usize = texts.iter().map(String::len).sum();
        let t1 = Instant::now();
        let c1 = thread_cpu_ns();
        if std::env::var_os("BENCH_LOAD_ONLY").is_some() {
            return Ok(());
        }
        if std::env::var_os("BENCH_SPLIT_ONLY").is_some() {
            let t = counter.ours;
            let n: usize = texts.iter().map(|s| t.pieces(s).count()).sum();
            let dt = (thread_cpu_ns() - c1) as f64 / 1e9;
            eprintln!(
                "split only: {n} pieces, {dt:.3} s CPU, {:.1} MB/s",
                bytes as f64 / dt / 1e6
            );
            return Ok(());
        }
        if threads == 1 {
            let total: usize = texts.iter().map(|t| counter.count(t)).sum();
            let dt = (thread_cpu_ns() - c1) as f64 / 1e9;
            eprintln!(
                "texts-only: {} texts, {:.1} MB, {total} tokens, {dt:.3} s CPU, {:.1} M tokens/s, {:.1} MB/s",
                texts.len(),
                bytes as f64 / 1e6,
                total as f64 / dt / 1e6,
                bytes as f64 / dt / 1e6,
            );
            return Ok(());
        }
        let total: usize = pool.install(|| {
            texts
                .par_chunks(256)
                .map(|ch| ch.iter().map(|t| counter.count(t)).sum::<usize>())
                .sum()
        });
        let dt = t1.elapsed().as_secs_f64();
        eprintln!(
            "texts-only: {} texts, {:.1} MB, {total} tokens, {dt:.3} s, {:.1} M tokens/s, {:.1} MB/s (load {:.3} s)",
            texts.len(),
            bytes as f64 / 1e6,
            total as f64 / dt / 1e6,
            bytes as f64 / dt / 1e6,
            load.as_secs_f64()
        );
        return Ok(());
    }

    let mut reader = BufReader::with_capacity(1 << 20, File::open(&file)?);
    let mut out: Option<BufWriter<File>> = per_example
        .map(|p| File::create(p).map(BufWriter::new))
        .transpose()?;
    let (mut lines, mut tokens, mut n_lines) = (Vec::<(usize, Vec<u8>)>::new(), 0usize, 0usize);
    const BATCH: usize = 4096;
    let mut done = false;
    while !done {
        lines.clear();
        while lines.len() < BATCH {
            let mut buf = Vec::new();
            if reader.read_until(b'\n', &mut buf)? == 0 {
                done = true;
                break;
            }
            n_lines += 1;
            if n_lines == 1 && buf.starts_with(b"\xef\xbb\xbf") {
                buf.drain(..3);
            }
            if buf.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            lines.push((n_lines, buf));
        }
        let results: Vec<Option<(usize, usize)>> = pool.install(|| {
            lines
                .par_iter()
                .map_init(String::new, |buf, (_, raw)| {
                    let v: Value = serde_json::from_slice(raw).ok()?;
                    example_tokens(&v, &counter, buf)
                })
                .collect()
        });
        for ((line, _), r) in lines.iter().zip(&results) {
            if let Some((t, _)) = r {
                tokens += t;
            }
            if let Some(out) = out.as_mut() {
                match r {
                    Some((t, a)) => writeln!(
                        out,
                        "{{\"line\": {line}, \"tokens\": {t}, \"assistant_tokens\": {a}}}"
                    )?,
                    None => writeln!(
                        out,
                        "{{\"line\": {line}, \"tokens\": null, \"assistant_tokens\": null}}"
                    )?,
                }
            }
        }
    }
    if let Some(mut out) = out {
        out.flush()?;
    }
    let dt = t0.elapsed().as_secs_f64();
    eprintln!(
        "{n_lines} lines, {tokens} tokens, {dt:.3} s total (load {:.3} s), {:.1} M tokens/s, {threads} thread(s)",
        load.as_secs_f64(),
        tokens as f64 / dt / 1e6
    );
    Ok(())
}
