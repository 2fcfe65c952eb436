//! Replays the fuzz corpora on stable Rust: every file in `fuzz/regressions/<target>/`
//! (minimised reproducers of bugs the fuzzer found) and `fuzz/seeds/<target>/` goes
//! through the target's harness, which is `fuzz/src/lib.rs` itself, included by path, so
//! the replay runs exactly the fuzzed code. A harness panics on a library panic or a
//! broken property (see that file); every failing file is named at the end.

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};

use afinar_formats::{FormatError, InputKind, ReadOptions, ReadOutput};

#[path = "../../fuzz/src/lib.rs"]
mod harness;

type Harness = fn(&[u8]);

const TARGETS: [(&str, Harness); 9] = [
    ("csv", harness::csv),
    ("spreadsheet", harness::spreadsheet),
    ("markdown", harness::markdown),
    ("docx", harness::docx),
    ("html", harness::html),
    ("jsonl", harness::jsonl),
    ("pipeline_toml", harness::pipeline_toml),
    ("check", harness::check),
    ("redact", harness::redact),
];

fn fuzz_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

/// The files of `dir`, sorted; none when it does not exist (a target without
/// regressions).
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

/// Runs every file of `fuzz/<kind>/<target>/` through its harness; returns the files
/// that panicked (with the message) and how many files ran.
fn replay(kind: &str) -> (Vec<String>, usize) {
    let mut failed = Vec::new();
    let mut ran = 0;
    for (target, run) in TARGETS {
        for path in files(&fuzz_dir().join(kind).join(target)) {
            let data = std::fs::read(&path).unwrap();
            ran += 1;
            if let Err(payload) = panic::catch_unwind(AssertUnwindSafe(|| run(&data))) {
                let message = payload
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default();
                failed.push(format!("{kind}/{target}/{}: {message}", file_name(&path)));
            }
        }
    }
    (failed, ran)
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[test]
fn regressions_do_not_panic() {
    let (failed, _) = replay("regressions");
    assert!(
        failed.is_empty(),
        "fuzz reproducers fail again:\n{}",
        failed.join("\n")
    );
}

#[test]
fn seeds_do_not_panic() {
    let (failed, ran) = replay("seeds");
    assert!(failed.is_empty(), "fuzz seeds fail:\n{}", failed.join("\n"));
    // Every target has seeds: a missing directory would make this test pass vacuously.
    for (target, _) in TARGETS {
        assert!(
            !files(&fuzz_dir().join("seeds").join(target)).is_empty(),
            "no seeds for the `{target}` fuzz target"
        );
    }
    assert!(ran >= TARGETS.len());
}

/// The harnesses really check something: a seed the reader accepts yields examples, and
/// the redaction property holds on planted personal data.
#[test]
fn harnesses_see_real_data() {
    let out = read("seeds/csv/faq-cp1252.csv", InputKind::Csv, "fuzz.csv").unwrap();
    assert!(!out.examples.is_empty());
    harness::redact("CPF 529.982.247-25, e-mail fulano@empresa.com.br".as_bytes());
}

/// The workbooks that once panicked or filled memory are typed errors, not just "no panic".
#[test]
fn damaged_workbooks_are_errors() {
    for (file, expected) in [
        ("xlsx-row-4e9-beyond-grid.xlsx", "beyond the 1048576 rows"),
        ("xlsx-cell-ref-row-overflow.xlsx", "the workbook is damaged"),
        (
            "xlsx-cell-ref-column-overflow.xlsx",
            "the workbook is damaged",
        ),
    ] {
        let path = format!("regressions/spreadsheet/{file}");
        let err = read(&path, InputKind::Spreadsheet, "fuzz.xlsx").unwrap_err();
        assert!(err.to_string().contains(expected), "{file}: {err}");
    }
}

fn read(path: &str, kind: InputKind, name: &str) -> Result<ReadOutput, FormatError> {
    let data = std::fs::read(fuzz_dir().join(path)).unwrap();
    afinar_formats::read::read_bytes(kind, &data, name, &ReadOptions::default())
}
