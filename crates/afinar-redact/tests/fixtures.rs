//! The fixtures in `fixtures/redact/`: planted values are all found and masked, and a
//! page of Simples Nacional text full of money, dates and law numbers yields nothing.

#![allow(clippy::unwrap_used)] // test helpers: a panic is the failure report

use std::collections::BTreeMap;
use std::path::PathBuf;

use afinar_core::{Example, Message, Origin};
use afinar_redact::{Counts, FakeKey, Kind, Mode, NameList, Redactor, Scanner};
use serde::Deserialize;

fn fixture(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/redact")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[derive(Deserialize)]
struct Line {
    messages: Vec<Message>,
}

#[derive(Deserialize)]
struct Planted {
    line: u64,
    kind: Kind,
    value: String,
}

fn examples() -> Vec<Example> {
    fixture("planted.jsonl")
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let line: Line = serde_json::from_str(l).unwrap();
            Example::new(line.messages, Origin::line("planted.jsonl", i as u64 + 1))
        })
        .collect()
}

/// Planted values by line, sorted.
fn planted() -> BTreeMap<u64, Vec<(Kind, String)>> {
    let mut by_line: BTreeMap<u64, Vec<(Kind, String)>> = BTreeMap::new();
    for l in fixture("planted.expected.jsonl").lines() {
        let p: Planted = serde_json::from_str(l).unwrap();
        by_line.entry(p.line).or_default().push((p.kind, p.value));
    }
    for values in by_line.values_mut() {
        values.sort();
    }
    by_line
}

fn found(scanner: &Scanner, ex: &Example) -> Vec<(Kind, String)> {
    let mut out: Vec<(Kind, String)> = scanner
        .scan_example(ex)
        .into_iter()
        .map(|mf| {
            (
                mf.finding.kind,
                ex.messages[mf.message].content[mf.finding.range].to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

fn line_of(ex: &Example) -> u64 {
    ex.origin.line_number().unwrap()
}

#[test]
fn every_planted_value_is_found_and_nothing_else() {
    let scanner = Scanner::new();
    let planted = planted();
    let examples = examples();
    assert_eq!(examples.len(), 12);
    let mut total = 0;
    for ex in &examples {
        let expected = planted.get(&line_of(ex)).cloned().unwrap_or_default();
        assert_eq!(
            found(&scanner, ex),
            expected,
            "planted.jsonl:{}",
            line_of(ex)
        );
        total += expected.len();
    }
    assert_eq!(total, 30);
}

#[test]
fn previews_hide_the_values() {
    let scanner = Scanner::new();
    for ex in examples() {
        for mf in scanner.scan_example(&ex) {
            let value = &ex.messages[mf.message].content[mf.finding.range.clone()];
            assert_ne!(mf.finding.preview, value);
            assert!(mf.finding.preview.contains('*'), "{}", mf.finding.preview);
            if mf.finding.kind != Kind::Email {
                assert_eq!(
                    mf.finding.preview.chars().count(),
                    value.chars().count(),
                    "same shape"
                );
            }
        }
    }
}

fn expected_counts() -> Counts {
    let mut c = Counts::default();
    for (kind, _) in planted().into_values().flatten() {
        c.add(kind, 1);
    }
    c
}

fn redact_all(redactor: &Redactor) -> (Vec<Example>, Counts) {
    let mut examples = examples();
    let mut counts = Counts::default();
    for ex in &mut examples {
        counts += redactor.redact_example(ex);
    }
    (examples, counts)
}

fn all_text(examples: &[Example]) -> String {
    examples
        .iter()
        .flat_map(|e| &e.messages)
        .map(|m| m.content.as_str())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn placeholders_mask_every_planted_value() {
    let redactor = Redactor::new(Scanner::new(), Mode::Placeholder);
    let (redacted, counts) = redact_all(&redactor);
    assert_eq!(counts, expected_counts());
    assert_eq!(
        (counts.cpf, counts.cnpj, counts.email, counts.phone),
        (7, 5, 6, 12)
    );
    let text = all_text(&redacted);
    for (_, value) in planted().into_values().flatten() {
        assert!(!text.contains(&value), "`{value}` survived");
    }
    assert!(
        redacted
            .iter()
            .all(|e| redactor.scanner().scan_example(e).is_empty())
    );
    // Markdown structure and the non-personal numbers are untouched.
    assert!(
        text.contains("- CPF: [CPF]\n- E-mail: [[EMAIL]](mailto:[EMAIL])\n- WhatsApp: [TELEFONE]")
    );
    assert!(text.contains("| A | [CPF] | [TELEFONE] |"));
    assert!(text.contains("R$ 4.800.000,00") && text.contains("0001234-56.2024.8.26.0100"));
    // Idempotent.
    let (again, counts) = {
        let mut again = redacted.clone();
        let mut c = Counts::default();
        for ex in &mut again {
            c += redactor.redact_example(ex);
        }
        (again, c)
    };
    assert_eq!(again, redacted);
    assert!(counts.is_empty());
}

#[test]
fn fakes_replace_every_planted_value_with_valid_consistent_ones() {
    let redactor = Redactor::new(
        Scanner::new(),
        Mode::Fake(FakeKey::from_secret(b"fixture key")),
    );
    let (redacted, counts) = redact_all(&redactor);
    assert_eq!(counts, expected_counts());
    let text = all_text(&redacted);
    for (_, value) in planted().into_values().flatten() {
        assert!(!text.contains(&value), "`{value}` survived");
    }
    // Fake numbers are valid and keep their shape, so a scan finds as many again; fake
    // e-mails are in example.com, which is not reported.
    let mut rescanned = Counts::default();
    for ex in &redacted {
        for mf in redactor.scanner().scan_example(ex) {
            rescanned.add(mf.finding.kind, 1);
        }
    }
    assert_eq!(
        rescanned,
        Counts {
            email: 0,
            ..expected_counts()
        }
    );
    assert_eq!(text.matches("@example.com").count(), 6);
    // The CPF repeated in line 1 gets one fake, in both messages.
    let line1 = &redacted[0];
    let fake = &line1.messages[1].content["Meu CPF é ".len().."Meu CPF é ".len() + 14];
    assert!(line1.messages[2].content.contains(fake));
    // Stable: another redactor with the same key, on other threads, gives the same bytes.
    let other = Redactor::new(
        Scanner::new(),
        Mode::Fake(FakeKey::from_secret(b"fixture key")),
    );
    let parallel = std::thread::scope(|s| {
        let handles: Vec<_> = examples()
            .into_iter()
            .map(|mut ex| {
                let other = &other;
                s.spawn(move || {
                    other.redact_example(&mut ex);
                    ex
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect::<Vec<_>>()
    });
    assert_eq!(parallel, redacted);
}

#[test]
fn listed_names_are_found_ignoring_case_and_accents() {
    let names = NameList::parse("joao\nMaria Souza\n").unwrap();
    let scanner = Scanner::new().with_names(names);
    let ex = &examples()[5];
    let found = found(&scanner, ex);
    assert!(
        found.contains(&(Kind::Name, "João".to_owned())),
        "{found:?}"
    );
    // `maria.souza@gmail.com` is an e-mail, not a name followed by text.
    let ex = &examples()[3];
    assert!(!found_kinds(&scanner, ex).contains(&Kind::Name));
}

fn found_kinds(scanner: &Scanner, ex: &Example) -> Vec<Kind> {
    scanner
        .scan_example(ex)
        .into_iter()
        .map(|f| f.finding.kind)
        .collect()
}

#[test]
fn no_false_positives_in_simples_nacional_text() {
    let text = fixture("no-false-positives.md");
    assert!(text.contains("R$ 4.800.000,00") && text.contains("LC 123/2006"));
    let findings: Vec<_> = Scanner::new()
        .scan(&text)
        .into_iter()
        .map(|f| (f.kind, text[f.range].to_owned()))
        .collect();
    assert_eq!(findings, vec![]);
}
