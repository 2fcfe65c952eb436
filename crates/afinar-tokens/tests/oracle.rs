//! Live comparison with Python tiktoken on a fresh seeded random corpus.
//!
//! Runs `fixtures/tokens/oracle.py` (Python tiktoken, loaded offline from the reference
//! validator's BPE files). Skipped when Python, tiktoken or the reference files are
//! missing, unless `AFINAR_REQUIRE_ORACLE=1`, which makes a missing oracle a failure (CI).
//! `AFINAR_ORACLE_SEED` picks another corpus; `AFINAR_ORACLE_TEXTS` its size.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use afinar_tokens::{Encoding, Tokenizer};
use common::Rng;
use serde_json::{Value, json};

fn oracle_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/tokens/oracle.py")
}

fn python() -> String {
    std::env::var("AFINAR_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

/// Whether the oracle can run; `Err` says why not.
fn oracle_available() -> Result<(), String> {
    let out = Command::new(python())
        .arg(oracle_script())
        .arg("--check")
        .output()
        .map_err(|e| format!("cannot run `{}`: {e}", python()))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_owned())
    }
}

#[test]
fn counts_equal_live_python_tiktoken_on_random_corpus() {
    if let Err(why) = oracle_available() {
        let required = std::env::var("AFINAR_REQUIRE_ORACLE").is_ok_and(|v| v == "1");
        assert!(
            !required,
            "AFINAR_REQUIRE_ORACLE=1 but the Python oracle is unavailable: {why}"
        );
        eprintln!("skipped: Python tiktoken oracle unavailable ({why})");
        return;
    }
    let seed = std::env::var("AFINAR_ORACLE_SEED")
        .ok()
        .and_then(|s| s.parse().ok());
    let n: usize = std::env::var("AFINAR_ORACLE_TEXTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4000);
    let mut rng = Rng(seed.unwrap_or(0x0a71_4a12_2026_1121));
    let texts: Vec<String> = (0..n).map(|_| rng.text()).collect();

    let mut input = String::new();
    for t in &texts {
        input.push_str(&json!({ "text": t }).to_string());
        input.push('\n');
    }
    let mut child = Command::new(python())
        .arg(oracle_script())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "oracle failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let rows: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        rows.len(),
        texts.len(),
        "oracle answered {} of {} texts",
        rows.len(),
        texts.len()
    );
    let mut bad = Vec::new();
    for (text, row) in texts.iter().zip(&rows) {
        assert_eq!(
            row["text"].as_str(),
            Some(text.as_str()),
            "oracle row out of order"
        );
        for encoding in Encoding::ALL {
            let want = row[encoding.name()].as_u64().unwrap() as usize;
            let got = Tokenizer::get(encoding).count(text);
            if got != want {
                bad.push(format!(
                    "{encoding} {text:?}: {got}, Python tiktoken {want}"
                ));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "{} mismatches:\n{}",
        bad.len(),
        bad[..bad.len().min(20)].join("\n")
    );
    eprintln!(
        "{} texts, 2 encodings: identical to Python tiktoken",
        texts.len()
    );
}
