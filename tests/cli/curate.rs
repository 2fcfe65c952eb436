//! `afinar dedupe`, `afinar split` and `afinar leakage` on the curated fixtures.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::common::{afinar, filter, read, run};

const FAQ: &str = "fixtures/curate/faq-duplicados.csv";

fn questions(path: &std::path::Path) -> Vec<String> {
    read(path)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("each output line is JSON");
            let msgs = v["messages"].as_array().expect("messages");
            msgs.iter()
                .find(|m| m["role"] == "user")
                .expect("a question")["content"]
                .as_str()
                .expect("text")
                .to_owned()
        })
        .collect()
}

#[test]
fn dedupe_drops_copies_keeps_conflicts_and_writes_the_report() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("faq.jsonl");
    let (code, stdout, stderr) = run(afinar().args(["dedupe", FAQ, "-o"]).arg(&out));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "");
    insta::assert_snapshot!("dedupe_summary", filter(&stderr, tmp.path()));
    insta::assert_snapshot!("dedupe_report", read(&tmp.path().join("faq.dedupe.json")));

    let kept = questions(&out);
    assert_eq!(kept.len(), 25);
    // the first copy in input order survives, and both sides of a conflict are kept
    assert_eq!(
        kept.iter()
            .filter(|q| *q == "Qual o limite de faturamento do MEI?")
            .count(),
        1
    );
    assert_eq!(
        kept.iter()
            .filter(|q| *q == "Posso parcelar débitos do Simples Nacional?")
            .count(),
        2
    );
    assert!(!kept.iter().any(|q| q == "O MEI pode ter empregado?"));

    // deduplicating the output again changes nothing
    let again = tmp.path().join("again.jsonl");
    let (code, _, stderr) = run(afinar()
        .args(["dedupe", "--format", "json", "-o"])
        .arg(&again)
        .arg(&out));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(read(&again), read(&out));
}

#[test]
fn dedupe_strict_fails_on_conflicts_and_exact_only_keeps_rewordings() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("faq.jsonl");
    let report = tmp.path().join("dups.json");
    let (code, stdout, stderr) = run(afinar()
        .args([
            "dedupe",
            FAQ,
            "--exact-only",
            "--strict",
            "--format",
            "json",
            "--report",
        ])
        .arg(&report)
        .arg("-o")
        .arg(&out));
    assert_eq!(code, 1, "{stderr}");
    let summary: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary["dropped"], 3);
    assert_eq!(summary["near_threshold"], Value::Null);
    assert_eq!(summary["conflicts"].as_array().unwrap().len(), 2);
    assert_eq!(questions(&out).len(), 29);
    let file: Value = serde_json::from_str(&read(&report)).unwrap();
    assert_eq!(file["groups"], summary["groups"]);
}

#[test]
fn dedupe_rejects_a_bad_threshold() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(afinar()
        .args(["dedupe", FAQ, "--near", "1.5", "-o"])
        .arg(tmp.path().join("o.jsonl")));
    assert_eq!(code, 2);
    insta::assert_snapshot!("dedupe_error_threshold", stderr);
}

#[test]
fn split_is_stratified_reproducible_and_free_of_leakage() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let args = [
        "split",
        FAQ,
        "--stratify",
        "Tema",
        "--validation",
        "0.25",
        "--seed",
        "7",
        "--out-dir",
    ];
    let (code, stdout, stderr) = run(afinar().args(args).arg(&dir));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "");
    insta::assert_snapshot!("split_summary", filter(&stderr, tmp.path()));
    let train = questions(&dir.join("train.jsonl"));
    let validation = questions(&dir.join("validation.jsonl"));
    assert_eq!(train.len() + validation.len(), 32);

    // the same seed again, on one thread: byte-identical files
    let dir2 = tmp.path().join("again");
    let (code, _, stderr) = run(afinar().env("RAYON_NUM_THREADS", "1").args(args).arg(&dir2));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        read(&dir.join("train.jsonl")),
        read(&dir2.join("train.jsonl"))
    );
    assert_eq!(
        read(&dir.join("validation.jsonl")),
        read(&dir2.join("validation.jsonl"))
    );

    // the leakage check agrees: nothing of validation is in training
    let (code, _, stderr) = run(afinar()
        .arg("leakage")
        .arg(dir.join("train.jsonl"))
        .arg(dir.join("validation.jsonl")));
    assert_eq!(code, 0, "{stderr}");

    // the JSON summary, unstratified: 10% of 32 is 3
    let dir4 = tmp.path().join("json");
    let (code, stdout, _) = run(afinar()
        .args(["split", FAQ, "--format", "json", "--out-dir"])
        .arg(&dir4));
    assert_eq!(code, 0);
    let summary: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        (summary["train"].as_u64(), summary["validation"].as_u64()),
        (Some(29), Some(3))
    );
    assert_eq!(summary["strata"][0]["name"], "all");

    // another seed, another draw
    let dir3 = tmp.path().join("other");
    let (code, _, _) = run(afinar()
        .args([
            "split",
            FAQ,
            "--stratify",
            "Tema",
            "--validation",
            "0.25",
            "--seed",
            "8",
            "--out-dir",
        ])
        .arg(&dir3));
    assert_eq!(code, 0);
    let other: BTreeSet<String> = questions(&dir3.join("validation.jsonl"))
        .into_iter()
        .collect();
    assert_ne!(other, validation.into_iter().collect::<BTreeSet<_>>());
}

#[test]
fn split_names_the_fields_when_the_stratum_is_missing() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(afinar()
        .args(["split", FAQ, "--stratify", "Assunto", "--out-dir"])
        .arg(tmp.path()));
    assert_eq!(code, 2);
    insta::assert_snapshot!("split_error_stratum", stderr);
    let (code, _, stderr) = run(afinar()
        .args([
            "split",
            "fixtures/curate/treino.jsonl",
            "--validation",
            "6",
            "--out-dir",
        ])
        .arg(tmp.path()));
    assert_eq!(code, 2);
    insta::assert_snapshot!("split_error_count", stderr);
}

#[test]
fn leakage_lists_exact_and_near_copies_and_exits_1() {
    let (code, stdout, stderr) = run(afinar().args([
        "leakage",
        "fixtures/curate/treino.jsonl",
        "fixtures/curate/validacao.jsonl",
    ]));
    assert_eq!(code, 1);
    assert_eq!(stdout, "");
    insta::assert_snapshot!("leakage_text", stderr);
    let (code, stdout, _) = run(afinar().args([
        "leakage",
        "fixtures/curate/treino.jsonl",
        "fixtures/curate/validacao.jsonl",
        "--format",
        "json",
    ]));
    assert_eq!(code, 1);
    insta::assert_snapshot!("leakage_json", stdout);
    let (code, _, stderr) = run(afinar().args([
        "leakage",
        "fixtures/curate/treino.jsonl",
        "fixtures/curate/validacao-limpa.jsonl",
    ]));
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn dpo_lines_are_reported_not_dropped() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o.jsonl");
    let (_, _, stderr) = crate::common::run(
        crate::common::afinar()
            .args(["dedupe", "fixtures/sources/dpo.jsonl", "-o"])
            .arg(&out),
    );
    assert!(
        stderr.contains("DPO example; dedupe, split and leakage work on chat examples"),
        "{stderr}"
    );
    assert!(stderr.contains("fixtures/sources/dpo.jsonl:1"), "{stderr}");
}
