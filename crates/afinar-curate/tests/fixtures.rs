//! The curated fixtures: known duplicate groups, conflicts and leaks are found exactly.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use std::path::PathBuf;

use afinar_core::Example;
use afinar_curate::{
    ConflictReason, DedupeOptions, LeakKind, Reason, SplitOptions, Validation, dedupe, leakage,
    split,
};
use afinar_formats::{ReadOptions, read};

fn read(name: &str) -> Vec<Example> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/curate")
        .join(name);
    let out = read::read_path(&path, &ReadOptions::default()).unwrap();
    assert!(out.rejects.is_empty(), "{:?}", out.rejects);
    out.examples
}

fn line(_: &[Example], origin: &afinar_core::Origin) -> u64 {
    origin.line_number().unwrap()
}

#[test]
fn dedupe_finds_exactly_the_known_groups_and_conflicts() {
    let exs = read("faq-duplicados.csv");
    assert_eq!(exs.len(), 32);
    let out = dedupe(exs.clone(), &DedupeOptions::default()).unwrap();
    let groups: Vec<(u64, Vec<(u64, Reason)>)> = out
        .report
        .groups
        .iter()
        .map(|g| {
            (
                line(&exs, &g.kept),
                g.dropped
                    .iter()
                    .map(|d| (line(&exs, &d.origin), d.reason))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        groups,
        vec![
            (3, vec![(9, Reason::Near)]), // reworded, same answer
            (4, vec![(7, Reason::Exact), (11, Reason::Near)]), // pasted twice; reworded
            (5, vec![(8, Reason::Exact)]), // case and punctuation
            (10, vec![(29, Reason::Near)]), // reworded
            (16, vec![(30, Reason::Exact)]), // upper case, double space
            (17, vec![(18, Reason::Near)]), // reworded, short answer
        ]
    );
    let conflicts: Vec<(Vec<u64>, ConflictReason)> = out
        .report
        .conflicts
        .iter()
        .map(|c| (c.origins.iter().map(|o| line(&exs, o)).collect(), c.reason))
        .collect();
    assert_eq!(
        conflicts,
        vec![
            (vec![12, 13], ConflictReason::DifferentFigures),
            (vec![14, 15], ConflictReason::DifferentAnswers)
        ]
    );
    assert_eq!(out.kept.len(), 32 - 7);
    assert_eq!(out.report.dropped, 7);

    // exact only: the three exact copies, the same conflicts
    let exact = dedupe(exs, &DedupeOptions { near: None }).unwrap();
    assert_eq!(exact.report.dropped, 3);
    assert_eq!(exact.report.conflicts, out.report.conflicts);
}

#[test]
fn split_of_the_fixture_keeps_groups_together_and_topics_on_both_sides() {
    let exs = read("faq-duplicados.csv");
    let opts = SplitOptions {
        validation: Validation::Fraction(0.25),
        stratify: Some("Tema".into()),
        ..SplitOptions::default()
    };
    let s = split(&exs, &opts).unwrap();
    // duplicates never straddle: none of validation leaks into training
    let train: Vec<Example> = s.train.iter().map(|&i| exs[i].clone()).collect();
    let val: Vec<Example> = s.validation.iter().map(|&i| exs[i].clone()).collect();
    assert!(
        leakage(&train, &val, Some(afinar_curate::DEFAULT_NEAR_THRESHOLD))
            .unwrap()
            .is_empty()
    );
    for st in &s.strata {
        // Lucros holds one question twice, and Parcelamento one question with two nearly
        // identical answers: each is a single group, which stays on one side.
        if st.total >= 2 && st.name != "Lucros" && st.name != "Parcelamento" {
            assert!(st.train >= 1 && st.validation >= 1, "{st:?}");
        }
    }
    // the six duplicate groups, and the two near-identical Parcelamento answers
    assert_eq!(s.joined_groups, 7);
}

#[test]
fn leakage_finds_the_exact_and_the_near_copy() {
    let train = read("treino.jsonl");
    let val = read("validacao.jsonl");
    let leaks = leakage(&train, &val, Some(afinar_curate::DEFAULT_NEAR_THRESHOLD)).unwrap();
    let found: Vec<(usize, usize, LeakKind)> = leaks
        .iter()
        .map(|l| (l.validation, l.train, l.kind))
        .collect();
    assert_eq!(found, vec![(0, 1, LeakKind::Exact), (1, 3, LeakKind::Near)]);
    assert!(
        leakage(&train, &read("validacao-limpa.jsonl"), Some(0.5))
            .unwrap()
            .is_empty()
    );
    assert_eq!(leakage(&train, &val, None).unwrap().len(), 1);
}
