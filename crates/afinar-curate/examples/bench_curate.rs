//! Benchmark (not a test): dedupe and split of a realistic FAQ file.
//!
//! `cargo run --release -p afinar-curate --example bench_curate -- FILE [--near T] [--dump OUT]`
//!
//! FILE is what `bench/gen_faq.py` writes (a CSV with a `Tema` column, or the JSONL):
//! Portuguese questions and answers from word-bigram chains trained on the fixtures, with
//! exact copies, rewordings and conflicting answers (`bench/curate.sh` generates it and
//! runs this). Dedupe then split as `afinar run` does them (the split reusing dedupe's
//! links), then the split alone as `afinar split` does it. Prints wall and CPU time per
//! stage, the peak resident memory (VmHWM; the examples themselves are most of it) and a
//! digest of every decision, so two versions can be compared; `--dump OUT` also writes
//! the decisions one a line (`dropped LINE kept LINE reason similarity`, then `validation
//! LINE` for the split alone), to find which ones differ.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use afinar_core::Example;
use afinar_curate::{
    DedupeOptions, SplitOptions, Validation, dedupe_with_links, split, split_with_links,
};

fn peak_memory() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l["VmHWM:".len()..].trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// CPU seconds used by this process so far (user + system), from /proc/self/stat; the
/// machine is often shared, so this says more than wall time alone.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // fields after the `(comm)`: state is field 3; utime and stime are fields 14 and 15
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0 // USER_HZ is 100 on Linux
}

fn line(e: &afinar_core::Origin) -> u64 {
    e.line_number().unwrap_or(0)
}

fn main() {
    let mut file: Option<PathBuf> = None;
    let mut threshold = afinar_curate::DEFAULT_NEAR_THRESHOLD;
    let mut dump: Option<PathBuf> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--near" => {
                threshold = args
                    .next()
                    .and_then(|v| v.parse().ok())
                    .expect("--near takes a number")
            }
            "--dump" => dump = args.next().map(PathBuf::from),
            _ => file = Some(PathBuf::from(a)),
        }
    }
    let Some(file) = file else {
        eprintln!(
            "usage: bench_curate FILE [--near T] [--dump OUT]  (bench/gen_faq.py writes FILE)"
        );
        std::process::exit(2);
    };

    let (t, cpu) = (Instant::now(), cpu_seconds());
    let read = afinar_formats::read::read_path(&file, &afinar_formats::ReadOptions::default())
        .unwrap_or_else(|e| panic!("{e}"));
    let examples: Vec<Example> = read.examples;
    let n = examples.len();
    let bytes: usize = examples
        .iter()
        .flat_map(|e| &e.messages)
        .map(|m| m.content.len())
        .sum();
    let read_peak = peak_memory();
    println!(
        "read {n} examples ({:.1} MB of text) from {} in {:.2} s wall, {:.2} s CPU; peak memory so far {read_peak}",
        bytes as f64 / 1e6,
        file.display(),
        t.elapsed().as_secs_f64(),
        cpu_seconds() - cpu,
    );

    // As `afinar run` does it: dedupe, then split the kept examples with dedupe's links.
    // The examples are moved in, not copied.
    let (t, cpu0) = (Instant::now(), cpu_seconds());
    let (out, links) = dedupe_with_links(
        examples,
        &DedupeOptions {
            near: Some(threshold),
        },
    )
    .expect("dedupe");
    let (dedupe_s, dedupe_cpu) = (t.elapsed().as_secs_f64(), cpu_seconds() - cpu0);
    let (mut exact, mut near) = (0, 0);
    for d in out.report.groups.iter().flat_map(|g| &g.dropped) {
        match d.reason {
            afinar_curate::Reason::Exact => exact += 1,
            _ => near += 1,
        }
    }
    println!(
        "dedupe: {dedupe_s:.2} s wall, {dedupe_cpu:.2} s CPU; kept {}, dropped {exact} exact and {near} near, {} conflicts",
        out.kept.len(),
        out.report.conflicts.len()
    );

    let (t, cpu1) = (Instant::now(), cpu_seconds());
    let stratify = out
        .kept
        .first()
        .is_some_and(|e| e.meta.contains_key("Tema"))
        .then(|| "Tema".to_owned());
    let opts = SplitOptions {
        validation: Validation::Fraction(0.1),
        stratify,
        near: Some(threshold),
        ..SplitOptions::default()
    };
    let s = split_with_links(&out.kept, &links, &opts).expect("split");
    let (split_s, split_cpu) = (t.elapsed().as_secs_f64(), cpu_seconds() - cpu1);
    println!(
        "split with dedupe's links: {split_s:.2} s wall, {split_cpu:.2} s CPU; train {}, validation {}, {} strata, {} groups kept whole",
        s.train.len(),
        s.validation.len(),
        s.strata.len(),
        s.joined_groups
    );
    println!(
        "dedupe + split: {:.2} s wall, {:.2} s CPU on {} threads; peak memory {} ({} after reading)",
        dedupe_s + split_s,
        cpu_seconds() - cpu0,
        rayon::current_num_threads(),
        peak_memory(),
        read_peak
    );
    drop(links);

    // As `afinar split` does it on a deduplicated file: everything computed again.
    let (t, cpu) = (Instant::now(), cpu_seconds());
    let alone = split(&out.kept, &opts).expect("split");
    let differing = alone
        .validation
        .iter()
        .filter(|i| s.validation.binary_search(i).is_err())
        .count();
    println!(
        "split alone: {:.2} s wall, {:.2} s CPU; {} groups kept whole; {}",
        t.elapsed().as_secs_f64(),
        cpu_seconds() - cpu,
        alone.joined_groups,
        if alone == s {
            "the same split".to_owned()
        } else {
            format!("{differing} validation examples differ from the linked split")
        }
    );
    // A digest of everything decided, to check that a faster version decides the same.
    let digest = |bytes: &[u8]| {
        use sha2::{Digest, Sha256};
        let d = Sha256::digest(bytes);
        d[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let report = serde_json::to_vec(&out.report).expect("report");
    let split_json = serde_json::to_vec(&alone).expect("split");
    println!(
        "decision digests: dedupe {}, split {}",
        digest(&report),
        digest(&split_json)
    );
    if let Some(path) = dump {
        let mut w = std::io::BufWriter::new(std::fs::File::create(&path).expect("dump"));
        for g in &out.report.groups {
            for d in &g.dropped {
                writeln!(
                    w,
                    "dropped {} kept {} {:?} {}",
                    line(&d.origin),
                    line(&g.kept),
                    d.reason,
                    d.similarity
                )
                .expect("dump");
            }
        }
        for c in &out.report.conflicts {
            let lines: Vec<String> = c.origins.iter().map(|o| line(o).to_string()).collect();
            writeln!(w, "conflict {} {:?}", lines.join(" "), c.reason).expect("dump");
        }
        for &i in &alone.validation {
            writeln!(w, "validation {}", line(&out.kept[i].origin)).expect("dump");
        }
        w.flush().expect("dump");
    }
}
