//! The fuzz harnesses: one function per target, taking arbitrary bytes.
//!
//! Each `fuzz_targets/<name>.rs` calls the function of the same name, and
//! `tests/cli/fuzz_replay.rs` includes this file by path to replay `fuzz/seeds/<name>/`
//! and `fuzz/regressions/<name>/` through the very same code on stable Rust (the fuzz
//! crate itself needs nightly). So this file uses only the library crates and std.
//!
//! A harness returns normally on any input a library handles (examples, rejects or a
//! typed error) and panics when a library panics or a checked property fails. Nothing
//! here writes files, reads the environment or touches the network, and every run is
//! deterministic (the check engine runs on one thread).

use std::sync::{Arc, OnceLock};

use afinar_check::pii::PersonalDataRule;
use afinar_check::{CheckOptions, Registry, check_reader};
use afinar_formats::{InputKind, ReadOptions, ReadOutput, read};
use afinar_pipeline::spec::PipelineSpec;
use afinar_redact::{FakeKey, KindSet, Mode, NameList, Redactor, Scanner};

/// Delimited text, extension `.csv` (encoding, delimiter and header sniffed) and `.tsv`
/// (TAB forced).
pub fn csv(data: &[u8]) {
    read_kind(InputKind::Csv, data, "fuzz.csv");
    read_kind(InputKind::Csv, data, "fuzz.tsv");
}

/// A workbook (calamine picks XLSX, XLS, XLSB or ODS from the bytes).
pub fn spreadsheet(data: &[u8]) {
    read_kind(InputKind::Spreadsheet, data, "fuzz.xlsx");
}

/// A Markdown article with questions and answers.
pub fn markdown(data: &[u8]) {
    read_kind(InputKind::Markdown, data, "fuzz.md");
}

/// A Word document (any zip; the XML parts are parsed by the reader).
pub fn docx(data: &[u8]) {
    read_kind(InputKind::Docx, data, "fuzz.docx");
}

/// A web page (encoding sniffed, HTML5 parsed, JSON-LD read).
pub fn html(data: &[u8]) {
    read_kind(InputKind::Html, data, "fuzz.html");
}

/// JSON Lines (chat, prompt/completion, DPO, alpaca, ShareGPT) or a JSON array.
pub fn jsonl(data: &[u8]) {
    read_kind(InputKind::Jsonl, data, "fuzz.jsonl");
}

fn read_kind(kind: InputKind, data: &[u8], name: &str) {
    // Ok or a typed error are both fine; only a panic (or a broken invariant) is a bug.
    if let Ok(out) = read::read_bytes(kind, data, name, &ReadOptions::default()) {
        check_read_output(&out, name);
    }
}

/// What a reader promises about its output, whatever the input.
fn check_read_output(out: &ReadOutput, name: &str) {
    for e in &out.examples {
        assert!(
            !e.messages.is_empty(),
            "{name}: an example without messages"
        );
        assert_eq!(
            e.origin.file, name,
            "an example's origin names another file"
        );
    }
    for r in &out.rejects {
        assert!(
            !r.reason.is_empty(),
            "{name}: a reject without a reason: {r:?}"
        );
    }
}

/// A pipeline file (`afinar run x.toml`): parsed and validated, never run.
pub fn pipeline_toml(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = PipelineSpec::parse(text, "fuzz.toml") {
        // Rendering the error is part of what the user sees; it must not panic either.
        let _ = e.to_string();
    }
}

/// The streaming check engine as `afinar check` runs it: gpt-4o-mini, the personal-data
/// rule on. Batches are made small for some inputs so batch boundaries get exercised.
pub fn check(data: &[u8]) {
    let Some(model) = Registry::builtin().lookup("gpt-4o-mini").cloned() else {
        panic!("gpt-4o-mini is missing from the built-in registry");
    };
    let mut opts = CheckOptions::new(model);
    opts.model_name = "gpt-4o-mini".to_owned();
    opts.parallel = false;
    if data.first().is_some_and(|b| b & 1 == 1) {
        opts.batch_lines = 3;
        opts.batch_bytes = 256;
    }
    opts.extra_rules.push(Arc::new(PersonalDataRule::new(
        Scanner::new(),
        KindSet::EMPTY,
    )));
    let mut seen = 0u64;
    let mut last_line = 0u64;
    let result = check_reader(
        "fuzz.jsonl",
        data,
        Some(data.len() as u64),
        &opts,
        &mut |e| {
            // Called once per non-blank line, in input order.
            assert!(e.line > last_line, "per-example lines out of order");
            last_line = e.line;
            seen += 1;
            Ok(())
        },
    );
    if let Ok(report) = result {
        assert_eq!(
            report.examples, seen,
            "the report counts another number of examples than were passed to on_example"
        );
    }
}

/// Redaction, as properties: with placeholders nothing the scanner finds survives and a
/// second pass changes nothing; with fakes the output is deterministic. Valid UTF-8 only
/// (redaction takes `&str`).
pub fn redact(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (scanner, placeholders, fakes) = redactors();
    let (once, counts) = placeholders.redact(text);
    assert_eq!(
        counts.total(),
        scanner.scan(text).len() as u64,
        "the counts differ from the findings"
    );
    let left = scanner.scan(&once);
    assert!(
        left.is_empty(),
        "personal data survives placeholder redaction: {left:?} in {once:?}"
    );
    let (twice, again) = placeholders.redact(&once);
    assert_eq!(once, twice, "placeholder redaction is not idempotent");
    assert!(again.is_empty(), "a second pass replaced something");

    let (a, _) = fakes.redact(text);
    let (b, _) = fakes.redact(text);
    assert_eq!(a, b, "fake redaction is not deterministic");
}

/// The scanner (with a small name list) and both redactors, built once: building the
/// name matcher costs more than redacting a short text.
fn redactors() -> &'static (Scanner, Redactor, Redactor) {
    static REDACTORS: OnceLock<(Scanner, Redactor, Redactor)> = OnceLock::new();
    REDACTORS.get_or_init(|| {
        let names = match NameList::parse("Maria da Silva\nJoão\nJosé Antônio") {
            Ok(names) => names,
            Err(e) => panic!("the fuzz name list does not parse: {e}"),
        };
        let scanner = Scanner::new().with_names(names);
        let placeholders = Redactor::new(scanner.clone(), Mode::Placeholder);
        let fakes = Redactor::new(scanner.clone(), Mode::Fake(FakeKey::from_secret(b"fuzz")));
        (scanner, placeholders, fakes)
    })
}
