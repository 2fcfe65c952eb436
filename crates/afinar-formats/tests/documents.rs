//! Word documents and web pages under `fixtures/sources/docx` and `fixtures/sources/html`
//! read with default options, each to its exact expected pairs, rejects and summary; the
//! traps in them (table of contents, headers, footers, footnotes, comments, deleted
//! changes, field codes, page chrome, templates, comments) never become text.

// Helpers outside `#[test]` functions panic on broken fixtures, which is what a test wants.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};

use afinar_formats::read::{self, InputKind, ReadOptions, ReadOutput};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/sources")
        .join(name)
}

/// Reads a fixture with origins naming it by its file name only.
fn read_fixture(name: &str) -> ReadOutput {
    let bytes = std::fs::read(fixture(name)).unwrap();
    let kind = InputKind::from_path(Path::new(name)).unwrap();
    let file = Path::new(name).file_name().unwrap().to_str().unwrap();
    read::read_bytes(kind, &bytes, file, &ReadOptions::default()).unwrap()
}

/// (origin, question, answer) of every example.
fn pairs(out: &ReadOutput) -> Vec<(String, String, String)> {
    out.examples
        .iter()
        .map(|e| {
            (
                e.origin.to_string(),
                e.question().unwrap_or("").to_owned(),
                e.answer().unwrap_or("").to_owned(),
            )
        })
        .collect()
}

fn rejects(out: &ReadOutput) -> Vec<(String, String)> {
    out.rejects
        .iter()
        .map(|r| (r.origin.to_string(), r.reason.clone()))
        .collect()
}

/// Everything the reader produced, to look for trap text in.
fn all_text(out: &ReadOutput) -> String {
    let mut s = String::new();
    for (o, q, a) in pairs(out) {
        s.push_str(&format!("{o}\n{q}\n{a}\n"));
    }
    for r in &out.rejects {
        s.push_str(&format!("{}\n{}\n{}\n", r.origin, r.reason, r.raw));
    }
    s
}

#[test]
fn debug_print() {
    for name in ["docx/manual-duvidas.docx"] {
        let out = read_fixture(name);
        for p in pairs(&out) {
            println!("{p:#?}");
        }
        println!("{:#?}", rejects(&out));
        println!("{:#?}", out.info);
    }
}
