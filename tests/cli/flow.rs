//! One convert flow: `afinar convert` and a one-source `afinar run` go through the same
//! stages, so the same source and settings give the same bytes; and a failing `convert`
//! leaves a good output alone.

use std::path::{Path, PathBuf};

use crate::common::{afinar, read, root, run};

/// Every fixture a reader takes.
fn fixtures() -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut dirs = vec![root().join("fixtures")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| {
                let e = e.to_string_lossy().to_lowercase();
                ["csv", "tsv", "txt", "xlsx", "ods", "md", "jsonl", "json"].contains(&e.as_str())
            }) {
                found.push(path.strip_prefix(root()).unwrap().to_owned());
            }
        }
    }
    found.sort();
    found
}

/// One set of settings, as `convert` flags and as pipeline keys.
struct Settings {
    name: &'static str,
    flags: Vec<String>,
    /// Top-level keys (before `[[sources]]`).
    top: String,
    /// Keys of the source.
    source: String,
    /// Tables after the source.
    tables: String,
}

fn settings(names: &Path) -> Vec<Settings> {
    let system = "Você é um assistente do escritório; responda em português.";
    let names = names.display().to_string();
    vec![
        Settings {
            name: "defaults",
            flags: vec![],
            top: String::new(),
            source: String::new(),
            tables: String::new(),
        },
        Settings {
            name: "system, fake redaction, names, role aliases",
            flags: [
                "--system",
                system,
                "--redact=fake",
                "--redact-names",
                &names,
                "--role-alias",
                "sistema=system",
                "--role-alias",
                "cliente=user",
                "--role-alias",
                "atendente = assistant",
            ]
            .map(str::to_owned)
            .to_vec(),
            top: format!("system = \"{system}\"\n"),
            source: "role_aliases = [\"sistema=system\", \"cliente=user\", \"atendente = assistant\"]\n".into(),
            tables: format!("[redact]\nmode = \"fake\"\nnames = \"{names}\"\n"),
        },
        Settings {
            name: "completion, framing, system dropped, no normalisation",
            flags: [
                "--to",
                "completion",
                "--prompt-suffix",
                "\\n\\n###\\n\\n",
                "--completion-suffix",
                " END",
                "--system-policy",
                "drop",
                "--no-normalize",
            ]
            .map(str::to_owned)
            .to_vec(),
            top: String::new(),
            source: String::new(),
            tables: "[output]\nformat = \"completion\"\nprompt_suffix = \"\\n\\n###\\n\\n\"\ncompletion_suffix = \" END\"\nsystem_policy = \"drop\"\n[normalize]\nenabled = false\n".into(),
        },
    ]
}

#[test]
fn convert_and_a_one_source_pipeline_give_the_same_bytes_for_every_fixture() {
    let tmp = tempfile::tempdir().unwrap();
    let names = tmp.path().join("nomes.txt");
    std::fs::write(&names, "# clientes\nMaria da Silva\n").unwrap();
    // A stray space around the key gives the same fakes through both.
    let key = "uma frase secreta ";
    let mut compared = 0;
    for s in settings(&names) {
        for (i, fixture) in fixtures().iter().enumerate() {
            let dir = tmp.path().join(format!("{}-{i}", s.flags.len()));
            let out = dir.join("convert.jsonl");
            let rejects = dir.join("convert.rejects.jsonl");
            let (c_code, _, c_err) = run(afinar()
                .env("AFINAR_REDACT_KEY", key)
                .arg("convert")
                .arg(fixture)
                .args(&s.flags)
                .arg("-o")
                .arg(&out)
                .arg("--rejects")
                .arg(&rejects));
            let pipeline = dir.join("p.toml");
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(
                &pipeline,
                format!(
                    "{}[[sources]]\npath = '{}'\n{}[dedupe]\nenabled = false\n[split]\nenabled = false\n{}",
                    s.top,
                    fixture.display(),
                    s.source,
                    s.tables
                ),
            )
            .unwrap();
            let run_dir = dir.join("run");
            let (p_code, _, p_err) = run(afinar()
                .env("AFINAR_REDACT_KEY", key)
                .arg("run")
                .arg(&pipeline)
                .arg("--out-dir")
                .arg(&run_dir));
            let what = format!("{} with {}", fixture.display(), s.name);
            if c_code == 2 {
                assert_eq!(
                    p_code, 2,
                    "{what}: convert failed, run did not\n{c_err}\n{p_err}"
                );
                continue;
            }
            assert!(
                p_code <= 1,
                "{what}: run failed\n{p_err}\nconvert:\n{c_err}"
            );
            let train = std::fs::read(run_dir.join("train.jsonl")).unwrap();
            if c_code == 0 {
                assert!(
                    std::fs::read(&out).unwrap() == train,
                    "{what}: examples differ\n{c_err}"
                );
                compared += 1;
            } else {
                assert!(!out.exists(), "{what}: a failed convert wrote its output");
                assert!(
                    train.is_empty(),
                    "{what}: convert found nothing valid, run did"
                );
            }
            assert!(
                std::fs::read(&rejects).unwrap()
                    == std::fs::read(run_dir.join("rejects.jsonl")).unwrap(),
                "{what}: rejects differ"
            );
        }
    }
    // The comparison must have compared real outputs, not only failures.
    assert!(compared >= 40, "only {compared} outputs compared");
}

#[test]
fn role_aliases_and_fakes_really_apply_through_the_pipeline() {
    let tmp = tempfile::tempdir().unwrap();
    let pipeline = tmp.path().join("p.toml");
    std::fs::write(
        &pipeline,
        "[[sources]]\npath = 'fixtures/sources/papeis.jsonl'\nrole_aliases = [\"sistema=system\", \"cliente=user\", \"atendente=assistant\"]\n[split]\nenabled = false\n[redact]\nmode = \"fake\"\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    let (code, _, stderr) = run(afinar()
        .env("AFINAR_REDACT_KEY", "k")
        .arg("run")
        .arg(&pipeline)
        .arg("--out-dir")
        .arg(&out));
    assert!(code <= 1, "{stderr}");
    let train = read(&out.join("train.jsonl"));
    assert_eq!(train.lines().count(), 3, "{train}");
    assert!(train.contains("\"role\":\"user\",\"content\":\"Qual o prazo do DAS?\""));
    assert!(!train.contains("123.456.789-09") && !train.contains("maria@exemplo.com.br"));
    let rejects = read(&out.join("rejects.jsonl"));
    assert_eq!(rejects.lines().count(), 1);
    assert!(rejects.contains("robô"), "{rejects}");
}

#[test]
fn a_percentage_validation_works_in_a_pipeline() {
    let tmp = tempfile::tempdir().unwrap();
    let pipeline = tmp.path().join("p.toml");
    std::fs::write(
        &pipeline,
        "[[sources]]\npath = 'fixtures/simples-nacional.csv'\n[split]\nvalidation = \"20%\"\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    let (code, _, stderr) = run(afinar()
        .arg("run")
        .arg(&pipeline)
        .arg("--out-dir")
        .arg(&out));
    assert!(code <= 1, "{stderr}");
    let m: serde_json::Value = serde_json::from_str(&read(&out.join("manifest.json"))).unwrap();
    let a = &m["accounting"];
    let (train, validation) = (
        a["train"].as_u64().unwrap(),
        a["validation"].as_u64().unwrap(),
    );
    assert_eq!(
        validation,
        ((train + validation) as f64 * 0.2).round() as u64,
        "{a}"
    );
    // Every stage accounts for what came in.
    for stage in m["stages"].as_array().unwrap() {
        let n = |k: &str| stage[k].as_u64().unwrap();
        assert_eq!(n("input"), n("output") + n("removed"), "{stage}");
    }
    assert!(
        m["rejects_by_code"]
            .as_object()
            .unwrap()
            .values()
            .all(|v| v.as_u64() > Some(0))
    );
}

/// A good output from an earlier run, and a convert that must not touch it.
fn survives(extra: &[&str], input: &Path) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("train.jsonl");
    let (code, _, stderr) = run(afinar()
        .args(["convert", "fixtures/simples-nacional.jsonl", "-o"])
        .arg(&out));
    assert_eq!(code, 0, "{stderr}");
    let good = std::fs::read(&out).unwrap();
    let (code, _, stderr) = run(afinar()
        .arg("convert")
        .arg(input)
        .args(extra)
        .arg("-o")
        .arg(&out));
    assert_eq!(code, 1, "{stderr}");
    assert!(
        std::fs::read(&out).unwrap() == good,
        "the good output was replaced"
    );
    assert!(
        stderr.contains("no examples were written")
            && stderr.contains("was not created or changed"),
        "{stderr}"
    );
    // The rejects say why.
    assert!(!read(&tmp.path().join("train.rejects.jsonl")).is_empty());
    // And a failing convert creates nothing where there was nothing.
    let fresh = tmp.path().join("novo.jsonl");
    let (code, _, _) = run(afinar()
        .arg("convert")
        .arg(input)
        .args(extra)
        .arg("-o")
        .arg(&fresh));
    assert_eq!(code, 1);
    assert!(!fresh.exists(), "a failing convert created its output");
    assert!(tmp.path().join("novo.rejects.jsonl").is_file());
}

#[test]
fn a_strict_convert_with_a_reject_keeps_the_previous_output() {
    survives(&["--strict"], Path::new("fixtures/simples-nacional.csv"));
}

#[test]
fn a_convert_with_nothing_valid_keeps_the_previous_output() {
    // DPO lines cannot become chat: every row is rejected.
    survives(&[], Path::new("fixtures/sources/dpo.jsonl"));
}

#[test]
fn a_failing_convert_to_stdout_writes_no_data() {
    let (code, stdout, stderr) =
        run(afinar().args(["convert", "fixtures/sources/dpo.jsonl", "-o", "-"]));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stdout, "");
    assert!(stderr.contains("no examples were written"), "{stderr}");
}
