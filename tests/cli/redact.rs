//! Personal data: `afinar check` finds it (never printing it), `--deny-pii` and `--strict`
//! gate on it, and `afinar convert --redact` masks it.

use std::path::Path;

use serde_json::Value;

use crate::common::{afinar, read, run};

const PLANTED: &str = "fixtures/redact/planted.jsonl";

fn planted_values() -> Vec<(String, String)> {
    read(Path::new("fixtures/redact/planted.expected.jsonl"))
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (v["kind"].as_str().unwrap().to_owned(), v["value"].as_str().unwrap().to_owned())
        })
        .collect()
}

#[test]
fn check_reports_every_planted_value_masked_and_warns_by_default() {
    let (code, stdout, stderr) = run(afinar().args(["check", PLANTED, "--format", "json"]));
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let pii = report["codes"]["personal_data"].as_u64().unwrap_or(0);
    assert_eq!(pii, planted_values().len() as u64, "{stdout}");
    assert!(report["codes"].get("personal_data_denied").is_none());
    for (_, value) in planted_values() {
        assert!(!stdout.contains(&value) && !stderr.contains(&value), "`{value}` printed in full");
    }
    // Warnings alone do not fail the gate (the fixture's other errors do, so compare
    // with the same file without the scan).
    let (code_without, _, _) = run(afinar().args(["check", PLANTED, "--no-pii"]));
    assert_eq!(code, code_without);
}

#[test]
fn deny_pii_and_strict_turn_findings_into_errors() {
    let (_, stdout, _) = run(afinar().args(["check", PLANTED, "--deny-pii", "cpf,cnpj", "--format", "json"]));
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let ids = planted_values().iter().filter(|(k, _)| k == "cpf" || k == "cnpj").count() as u64;
    assert_eq!(report["codes"]["personal_data_denied"].as_u64(), Some(ids));
    let (code, stdout, _) = run(afinar().args(["check", PLANTED, "--strict", "--format", "json"]));
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(report["codes"]["personal_data_denied"].as_u64(), Some(planted_values().len() as u64));
    let (code, _, stderr) = run(afinar().args(["check", PLANTED, "--deny-pii", "rg"]));
    assert_eq!(code, 2, "{stderr}");
}

#[test]
fn monetary_values_and_dates_are_not_personal_data() {
    let tmp = tempfile::tempdir().unwrap();
    let text = read(Path::new("fixtures/redact/no-false-positives.md"));
    let lines: String = text
        .split("\n\n")
        .filter(|p| !p.trim().is_empty())
        .map(|p| {
            let line = serde_json::json!({"messages": [
                {"role": "user", "content": "Explique."},
                {"role": "assistant", "content": p},
            ]});
            format!("{line}\n")
        })
        .collect();
    let file = tmp.path().join("money.jsonl");
    std::fs::write(&file, lines).unwrap();
    let (_, stdout, _) = run(afinar().arg("check").arg(&file).args(["--format", "json"]));
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert!(report["codes"].get("personal_data").is_none(), "{}", report["warnings"]);
}
