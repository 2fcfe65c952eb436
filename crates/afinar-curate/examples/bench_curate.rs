//! Benchmark (not a test): dedupe and split of 200,000 synthetic FAQ examples.
//!
//! `cargo run --release -p afinar-curate --example bench_curate [-- N]`
//!
//! The examples are generated deterministically: Portuguese-like questions and answers
//! drawn from a Zipf-shaped vocabulary around fixed domain phrases, with 4% exact copies
//! (some re-cased), 4% reworded questions with the same answer and 1% conflicting answers.
//! Dedupe then split as `afinar run` does them (the split reusing dedupe's links), then
//! the split alone as `afinar split` does it. Prints wall and CPU time per stage, the
//! peak resident memory (VmHWM; the examples themselves are most of it) and a digest of
//! every decision, which a faster version must leave unchanged. An optional second
//! argument sets the near threshold.

use std::time::Instant;

use afinar_core::{Example, Origin};
use afinar_curate::{
    DedupeOptions, SplitOptions, Validation, dedupe_with_links, split, split_with_links,
};

const CONSONANTS: [&str; 20] = [
    "b", "c", "d", "f", "g", "j", "l", "m", "n", "p", "r", "s", "t", "v", "z", "ch", "lh", "nh",
    "qu", "ç",
];
const VOWELS: [&str; 12] = ["a", "e", "i", "o", "u", "ã", "é", "ê", "ó", "á", "í", "õe"];
const PHRASES: [&str; 8] = [
    "do Simples Nacional",
    "da receita bruta",
    "no Portal do Simples",
    "pelo DAS mensal",
    "para o MEI",
    "conforme a LC 123/2006",
    "no ano-calendário",
    "da Resolução CGSN 140/2018",
];
const TOPICS: [&str; 12] = [
    "MEI",
    "DAS",
    "Anexos",
    "Exclusão",
    "Opção",
    "Apuração",
    "Declarações",
    "ISS",
    "ICMS",
    "Lucros",
    "Parcelamento",
    "Folha",
];

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// Zipf-like: small indices far more often.
    fn zipf(&mut self, n: usize) -> usize {
        let u = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
        ((n as f64).powf(u) as usize).saturating_sub(1).min(n - 1)
    }
}

/// Frequent words are short, as in real text: rank 1-10 one syllable, to 100 two, to
/// 1,000 three, then four.
fn vocabulary(rng: &mut Rng, size: usize) -> Vec<String> {
    (0..size)
        .map(|rank| {
            let n = match rank {
                0..10 => 1,
                10..100 => 2,
                100..1000 => 3,
                _ => 4,
            };
            (0..n)
                .map(|_| format!("{}{}", CONSONANTS[rng.below(20)], VOWELS[rng.below(12)]))
                .collect::<String>()
        })
        .collect()
}

fn sentence(rng: &mut Rng, vocab: &[String], words: usize) -> String {
    let mut out: Vec<&str> = Vec::with_capacity(words + 4);
    for w in 0..words {
        if w % 15 == 7 {
            out.push(PHRASES[rng.below(PHRASES.len())]);
        } else {
            out.push(&vocab[rng.zipf(vocab.len())]);
        }
    }
    out.join(" ")
}

fn generate(n: usize) -> Vec<Example> {
    let mut rng = Rng(0x5eed_cafe_f00d_0001);
    let vocab = vocabulary(&mut rng, 20_000);
    let mut out: Vec<Example> = Vec::with_capacity(n);
    while out.len() < n {
        let line = out.len() as u64 + 1;
        let roll = rng.below(100);
        let mut ex = if roll < 4 && !out.is_empty() {
            // exact copy, sometimes re-cased
            let mut ex = out[rng.below(out.len())].clone();
            if roll < 2 {
                ex.messages[1].content = ex.messages[1].content.to_uppercase();
            }
            ex
        } else if roll < 8 && !out.is_empty() {
            // reworded question, same answer
            let mut ex = out[rng.below(out.len())].clone();
            let words = 6 + rng.below(6);
            ex.messages[1].content = format!("{}?", sentence(&mut rng, &vocab, words));
            ex
        } else if roll < 9 && !out.is_empty() {
            // same question, another figure
            let mut ex = out[rng.below(out.len())].clone();
            let figure = rng.below(1000);
            ex.messages[2]
                .content
                .push_str(&format!(" Limite de R$ {figure} mil."));
            ex
        } else {
            let qw = 6 + rng.below(8);
            let aw = 20 + rng.below(40);
            let mut ex = Example::single_turn(
                Some("Você é um assistente especializado no Simples Nacional."),
                format!("{}?", sentence(&mut rng, &vocab, qw)),
                format!("{}.", sentence(&mut rng, &vocab, aw)),
                Origin::line("bench.jsonl", 0),
            );
            ex.meta
                .insert("tema".into(), TOPICS[rng.below(TOPICS.len())].into());
            ex
        };
        ex.origin = Origin::line("bench.jsonl", line);
        out.push(ex);
    }
    out
}

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

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200_000);
    // An optional second argument changes the near threshold of both stages.
    let threshold: f64 = std::env::args()
        .nth(2)
        .and_then(|a| a.parse().ok())
        .unwrap_or(afinar_curate::DEFAULT_NEAR_THRESHOLD);
    let t = Instant::now();
    let examples = generate(n);
    let bytes: usize = examples
        .iter()
        .flat_map(|e| &e.messages)
        .map(|m| m.content.len())
        .sum();
    let generated_peak = peak_memory();
    println!(
        "generated {n} examples ({:.1} MB of text) in {:.2} s; peak memory so far {generated_peak}",
        bytes as f64 / 1e6,
        t.elapsed().as_secs_f64(),
    );

    let (t, cpu) = (Instant::now(), cpu_seconds());
    let _ = afinar_curate::leakage(&[], &examples, None).expect("prepare");
    println!(
        "prepare only (fold, shingles, MinHash): {:.2} s wall, {:.2} s CPU",
        t.elapsed().as_secs_f64(),
        cpu_seconds() - cpu
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
    let opts = SplitOptions {
        validation: Validation::Fraction(0.1),
        stratify: Some("tema".into()),
        near: Some(threshold),
        ..SplitOptions::default()
    };
    let s = split_with_links(&out.kept, &links, &opts).expect("split");
    let (split_s, split_cpu) = (t.elapsed().as_secs_f64(), cpu_seconds() - cpu1);
    println!(
        "split: {split_s:.2} s wall, {split_cpu:.2} s CPU; train {}, validation {}, {} strata, {} groups kept whole",
        s.train.len(),
        s.validation.len(),
        s.strata.len(),
        s.joined_groups
    );
    println!(
        "dedupe + split: {:.2} s wall, {:.2} s CPU on {} threads; peak memory {} ({} before)",
        dedupe_s + split_s,
        cpu_seconds() - cpu0,
        rayon::current_num_threads(),
        peak_memory(),
        generated_peak
    );
    drop(links);

    // As `afinar split` does it on a deduplicated file: everything computed again. It
    // must decide exactly the same.
    let (t, cpu) = (Instant::now(), cpu_seconds());
    let alone = split(&out.kept, &opts).expect("split");
    println!(
        "split alone: {:.2} s wall, {:.2} s CPU; {}",
        t.elapsed().as_secs_f64(),
        cpu_seconds() - cpu,
        if alone == s {
            "same split"
        } else {
            "DIFFERENT SPLIT"
        }
    );
    // A digest of everything decided, to check that a faster version decides the same.
    let digest = {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        h.update(serde_json::to_vec(&out.report).expect("report"));
        h.update(serde_json::to_vec(&alone).expect("split"));
        let d = h.finalize();
        d[..8]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    println!("results digest {digest}");
}
