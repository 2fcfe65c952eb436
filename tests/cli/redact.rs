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
            (
                v["kind"].as_str().unwrap().to_owned(),
                v["value"].as_str().unwrap().to_owned(),
            )
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
        assert!(
            !stdout.contains(&value) && !stderr.contains(&value),
            "`{value}` printed in full"
        );
    }
    // Warnings alone do not fail the gate (the fixture's other errors do, so compare
    // with the same file without the scan).
    let (code_without, _, _) = run(afinar().args(["check", PLANTED, "--no-pii"]));
    assert_eq!(code, code_without);
}

#[test]
fn deny_pii_and_strict_turn_findings_into_errors() {
    let (_, stdout, _) = run(afinar().args([
        "check",
        PLANTED,
        "--deny-pii",
        "cpf,cnpj",
        "--format",
        "json",
    ]));
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let ids = planted_values()
        .iter()
        .filter(|(k, _)| k == "cpf" || k == "cnpj")
        .count() as u64;
    assert_eq!(report["codes"]["personal_data_denied"].as_u64(), Some(ids));
    let (code, stdout, _) = run(afinar().args(["check", PLANTED, "--strict", "--format", "json"]));
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        report["codes"]["personal_data_denied"].as_u64(),
        Some(planted_values().len() as u64)
    );
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
    assert!(
        report["codes"].get("personal_data").is_none(),
        "{}",
        report["warnings"]
    );
}

#[test]
fn convert_redact_masks_every_planted_value() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("masked.jsonl");
    let (code, stdout, stderr) = run(afinar()
        .args(["convert", PLANTED, "--redact", "--format", "json", "-o"])
        .arg(&out));
    assert_eq!(code, 0, "{stderr}");
    let masked = read(&out);
    for (_, value) in planted_values() {
        assert!(!masked.contains(&value), "`{value}` survived");
    }
    assert!(
        masked.contains("[CPF]") && masked.contains("[EMAIL]") && masked.contains("[TELEFONE]")
    );
    let summary: Value = serde_json::from_str(&stdout).unwrap();
    let total: u64 = ["cpf", "cnpj", "email", "phone"]
        .iter()
        .map(|k| summary["redacted"][k].as_u64().unwrap())
        .sum();
    assert_eq!(total, planted_values().len() as u64);
    // The masked file passes the CI gate (the original does not).
    let gate = |file: &Path| {
        let (_, stdout, _) = run(afinar().arg("check").arg(file).args([
            "--deny-pii",
            "cpf,cnpj",
            "--format",
            "json",
        ]));
        let report: Value = serde_json::from_str(&stdout).unwrap();
        report["codes"]["personal_data_denied"]
            .as_u64()
            .unwrap_or(0)
    };
    assert_eq!(gate(&out), 0);
    assert!(gate(Path::new(PLANTED)) > 0);
}

#[test]
fn convert_redact_fake_is_keyed_stable_and_refused_without_a_key() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a.jsonl"), tmp.path().join("b.jsonl"));
    for out in [&a, &b] {
        let (code, _, stderr) = run(afinar()
            .args(["convert", PLANTED, "--redact=fake", "-o"])
            .arg(out)
            .env("AFINAR_REDACT_KEY", "segredo-do-escritorio"));
        assert_eq!(code, 0, "{stderr}");
    }
    let fake = read(&a);
    assert_eq!(fake, read(&b), "the same key gives the same fakes");
    for (_, value) in planted_values() {
        assert!(!fake.contains(&value), "`{value}` survived");
    }
    // Fake CPFs are valid ones, so the scanner still finds them (as CPFs, not the originals).
    let (_, stdout, _) = run(afinar().arg("check").arg(&a).args(["--format", "json"]));
    let report: Value = serde_json::from_str(&stdout).unwrap();
    assert!(report["codes"]["personal_data"].as_u64().unwrap_or(0) > 0);

    let (code, _, stderr) = run(afinar()
        .args(["convert", PLANTED, "--redact=fake", "-o"])
        .arg(tmp.path().join("c.jsonl"))
        .env_remove("AFINAR_REDACT_KEY"));
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("AFINAR_REDACT_KEY"), "{stderr}");
}
