//! The evidence behind `DEFAULT_NEAR_THRESHOLD`: similarity of real rewordings (same
//! answer) against similarity of distinct questions from the same FAQ. Run with
//! `--nocapture` to see the figures.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use std::path::PathBuf;

use afinar_curate::DEFAULT_NEAR_THRESHOLD;
use afinar_curate::text::{fold, jaccard, shingles};
use afinar_formats::{ReadOptions, read};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures")
        .join(name)
}

fn sim(q1: &str, a1: &str, q2: &str, a2: &str) -> f64 {
    jaccard(
        &shingles(&fold(q1), &fold(a1)),
        &shingles(&fold(q2), &fold(a2)),
    )
}

#[derive(serde::Deserialize)]
struct Rewording {
    pergunta: String,
    reformulacoes: Vec<String>,
    resposta: String,
}

#[test]
fn threshold_evidence() {
    let text = std::fs::read_to_string(fixture("curate/reformulacoes.jsonl")).unwrap();
    let mut reworded: Vec<(f64, String)> = Vec::new();
    for line in text.lines() {
        let r: Rewording = serde_json::from_str(line).unwrap();
        for q in &r.reformulacoes {
            reworded.push((sim(&r.pergunta, &r.resposta, q, &r.resposta), q.clone()));
        }
    }
    reworded.sort_by(|a, b| a.0.total_cmp(&b.0));

    let faq = read::read_path(&fixture("simples-nacional.csv"), &ReadOptions::default()).unwrap();
    let qa: Vec<(&str, &str)> = faq
        .examples
        .iter()
        .map(|e| (e.question().unwrap_or(""), e.answer().unwrap_or("")))
        .collect();
    let mut distinct: Vec<(f64, &str, &str)> = Vec::new();
    for (i, a) in qa.iter().enumerate() {
        for b in &qa[i + 1..] {
            distinct.push((sim(a.0, a.1, b.0, b.1), a.0, b.0));
        }
    }
    distinct.sort_by(|a, b| b.0.total_cmp(&a.0));

    println!(
        "reworded question, same answer ({} pairs), lowest first:",
        reworded.len()
    );
    for (s, q) in &reworded {
        println!("  {s:.3}  {q}");
    }
    let median = distinct[distinct.len() / 2].0;
    println!(
        "distinct questions of the FAQ ({} pairs): median {median:.3}, highest:",
        distinct.len()
    );
    for (s, a, b) in distinct.iter().take(5) {
        println!("  {s:.3}  {a} | {b}");
    }
    let lowest_reworded = reworded[0].0;
    let highest_distinct = distinct[0].0;
    assert!(
        lowest_reworded >= DEFAULT_NEAR_THRESHOLD,
        "a rewording scores {lowest_reworded}"
    );
    assert!(
        highest_distinct < DEFAULT_NEAR_THRESHOLD,
        "distinct questions score {highest_distinct}"
    );
}
