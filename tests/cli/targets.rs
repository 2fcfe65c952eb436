//! `--target`: each target's lines written by `convert`, read back by `check`, checked
//! against the JSON Schemas written from the services' docs; Together's own checker
//! cases; `[output] target` in a pipeline.

use std::path::{Path, PathBuf};

use afinar_check::dialect::to_openai;
use afinar_check::targets;
use serde_json::Value;

use crate::common::{afinar, filter, read, root, run};

const FAQ: &str = "fixtures/targets/faq.jsonl";
const PREFS: &str = "fixtures/targets/prefs.jsonl";
const UNFIT: &str = "fixtures/targets/unfit.jsonl";

fn convert(input: &str, target: &str, extra: &[&str], out: &Path) -> (i32, String, String) {
    run(afinar()
        .args(["convert", input, "--target", target, "-o"])
        .arg(out)
        .args(extra))
}

fn check_json(file: &Path, target: &str) -> (i32, Value) {
    let (code, stdout, stderr) = run(afinar()
        .arg("check")
        .arg(file)
        .args(["--target", target, "--format", "json", "--no-pii"]));
    let report = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}{stderr}"));
    (code, report)
}

fn lines(path: &Path) -> Vec<Value> {
    let text = read(path);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn error_codes(report: &Value) -> Vec<String> {
    report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect()
}

/// The schema `afinar check --schema NAME` prints, compiled.
fn schema(name: &str) -> jsonschema::Validator {
    let (code, stdout, _) = run(afinar().args(["check", "--schema", name]));
    assert_eq!(code, 0);
    jsonschema::validator_for(&serde_json::from_str(&stdout).unwrap()).unwrap()
}

/// Every target's lines carry the same conversations, accents and all: read back into
/// OpenAI's shape they equal the OpenAI lines (weight 1, a default, aside).
#[test]
fn each_writer_keeps_multi_turn_chat_and_system_prompts_and_check_reads_it_back() {
    let tmp = tempfile::tempdir().unwrap();
    let openai_out = tmp.path().join("openai.jsonl");
    let (code, _, stderr) = convert(FAQ, "openai", &[], &openai_out);
    assert_eq!(code, 0, "{stderr}");
    let canonical = lines(&openai_out);
    assert_eq!(canonical.len(), 10);
    assert!(
        read(&openai_out).contains("R$ 4,8 milhões") && read(&openai_out).contains("— ação rápida")
    );
    for t in targets::all() {
        let out = tmp.path().join(format!("{}.jsonl", t.id));
        let (code, _, stderr) = convert(FAQ, &t.id, &[], &out);
        assert_eq!(code, 0, "{}: {stderr}", t.id);
        let bytes = std::fs::read(&out).unwrap();
        assert_eq!(
            bytes.starts_with(b"\xEF\xBB\xBF"),
            t.id == "azure",
            "{}",
            t.id
        );
        let written = lines(&out);
        assert_eq!(written.len(), canonical.len(), "{}", t.id);
        for (w, c) in written.iter().zip(&canonical) {
            let back = to_openai(t.dialect, w)
                .unwrap()
                .unwrap_or_else(|| w.clone());
            assert_eq!(&back, c, "{} line {w}", t.id);
        }
        let (code, report) = check_json(&out, &t.id);
        assert_eq!(code, 0, "{}: {report}", t.id);
        assert_eq!(report["checked_for"], t.id.as_str());
        assert_eq!(report["examples"], 10);
        assert_eq!(report["valid"], 10, "{}: {report}", t.id);
        assert_eq!(report["format"], "chat");
        // The same conversations, so the same token counts whatever the dialect.
        assert_eq!(
            report["tokens"]["total"],
            check_json(&openai_out, "openai").1["tokens"]["total"],
            "{}",
            t.id
        );
    }
    // Vertex and Bedrock lines against the schemas written from their docs.
    for (t, name) in [("vertex", "vertex"), ("bedrock", "bedrock")] {
        let v = schema(name);
        for l in lines(&tmp.path().join(format!("{t}.jsonl"))) {
            assert!(v.is_valid(&l), "{t}: {l}");
        }
        // The OpenAI lines are not theirs.
        assert!(!v.is_valid(&canonical[0]));
    }
    let vertex = lines(&tmp.path().join("vertex.jsonl"));
    assert_eq!(vertex[0]["contents"][1]["role"], "model");
    assert_eq!(
        vertex[0]["systemInstruction"]["parts"][0]["text"],
        "Você é um assistente de uma contabilidade brasileira, especializado no Simples Nacional."
    );
    let bedrock = lines(&tmp.path().join("bedrock.jsonl"));
    assert_eq!(bedrock[0]["schemaVersion"], "bedrock-conversation-2024");
    assert_eq!(bedrock[0]["messages"].as_array().unwrap().len(), 4);
}

#[test]
fn dpo_pairs_where_the_target_takes_them() {
    let tmp = tempfile::tempdir().unwrap();
    let openai_out = tmp.path().join("openai.jsonl");
    let (code, _, _) = convert(PREFS, "openai", &["--to", "dpo"], &openai_out);
    assert_eq!(code, 0);
    let canonical = lines(&openai_out);
    for t in ["together", "fireworks", "trl", "llama-factory"] {
        let target = targets::lookup(t).unwrap();
        let out = tmp.path().join(format!("{t}.jsonl"));
        let (code, _, stderr) = convert(PREFS, t, &["--to", "dpo"], &out);
        assert_eq!(code, 0, "{t}: {stderr}");
        for (w, c) in lines(&out).iter().zip(&canonical) {
            let back = to_openai(target.dialect, w)
                .unwrap()
                .unwrap_or_else(|| w.clone());
            assert_eq!(&back, c, "{t}");
        }
        let (code, report) = check_json(&out, t);
        assert_eq!(
            (code, report["format"].as_str()),
            (0, Some("dpo")),
            "{t}: {report}"
        );
    }
    let trl = lines(&tmp.path().join("trl.jsonl"));
    assert_eq!(
        trl[0]["chosen"][0]["content"],
        "O limite é de R$ 4,8 milhões de receita bruta por ano (LC 123/2006, art. 3º)."
    );
    assert_eq!(trl[0]["prompt"][0]["role"], "system");
    // Bedrock and Vertex take no pairs: every row is a reject with its reason, no output.
    for t in ["bedrock", "vertex"] {
        let out = tmp.path().join(format!("{t}.jsonl"));
        let (code, stdout, _) = convert(PREFS, t, &["--to", "dpo", "--format", "json"], &out);
        assert_eq!(code, 1, "{t}");
        let summary: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(
            summary["rejects_by_code"]["shape_not_supported"], 10,
            "{t}: {summary}"
        );
        assert!(!out.exists());
    }
}

#[test]
fn what_a_target_cannot_take_is_rejected_with_its_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("vertex.jsonl");
    let (code, _, stderr) = convert(UNFIT, "vertex", &[], &out);
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!("targets_vertex_rejects", filter(&stderr, tmp.path()));
    assert_eq!(lines(&out).len(), 2);
    let out = tmp.path().join("together.jsonl");
    let (_, stdout, _) = convert(UNFIT, "together", &["--format", "json"], &out);
    let summary: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(summary["target"], "Together AI");
    assert_eq!(
        summary["rejects_by_code"],
        serde_json::json!({"system_not_first": 1, "tools_not_supported": 1, "turns_not_alternating": 1})
    );
    // What was written passes the target's check.
    let (code, report) = check_json(&out, "together");
    assert_eq!(code, 0, "{report}");
}

/// together-python's `tests/unit/test_files_checks.py` cases (see
/// `fixtures/targets/together/README.md`): the same verdict from `check --target together`.
#[test]
fn check_together_gives_togethers_own_verdicts() {
    let dir = root().join("fixtures/targets/together");
    let cases = read(&dir.join("cases.tsv"));
    let mut ported = 0;
    for row in cases.lines().skip(1) {
        let cols: Vec<&str> = row.split('\t').collect();
        let (file, verdict, status) = (cols[0], cols[1], cols[3]);
        if status != "ported" {
            continue;
        }
        let path: PathBuf = dir.join(file);
        let (code, report) = check_json(&path, "together");
        let expected = if verdict == "passed" { 0 } else { 1 };
        assert_eq!(
            code, expected,
            "{file}: Together says {verdict}; afinar: {report}"
        );
        ported += 1;
    }
    assert_eq!(ported, 22);
    let codes = |f: &str| error_codes(&check_json(&dir.join(f), "together").1);
    assert_eq!(
        codes("non_alternating_roles.jsonl"),
        ["consecutive_turns", "example_missing_assistant_message"]
    );
    assert_eq!(codes("invalid_weight_float.jsonl"), ["invalid_weight"]);
    assert_eq!(codes("extra_column.jsonl"), ["unrecognized_key"]);
    assert_eq!(
        codes("inconsistent_dataset_format.jsonl"),
        ["mixed_formats"]
    );
    assert_eq!(codes("empty_file.jsonl"), ["too_few_examples"]);
    // Weights on user and system messages are Together's, not OpenAI's.
    let (code, _) = check_json(&dir.join("valid_weights_all_messages.jsonl"), "openai");
    assert_eq!(code, 1);
}

#[test]
fn azure_wants_its_bom_and_together_refuses_one() {
    let tmp = tempfile::tempdir().unwrap();
    let azure = tmp.path().join("azure.jsonl");
    assert_eq!(convert(FAQ, "azure", &[], &azure).0, 0);
    let warnings = |r: &Value| -> Vec<String> {
        r["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap().to_owned())
            .collect()
    };
    let (_, r) = check_json(&azure, "azure");
    assert!(!warnings(&r).contains(&"utf8_bom".to_owned()), "{r}");
    let (_, r) = check_json(&azure, "openai");
    assert!(warnings(&r).contains(&"utf8_bom".to_owned()));
    let (_, r) = check_json(Path::new(FAQ), "azure");
    assert!(warnings(&r).contains(&"missing_bom".to_owned()), "{r}");
    let (code, r) = check_json(&azure, "together");
    assert_eq!((code, error_codes(&r)), (1, vec!["utf8_bom".to_owned()]));
}

#[test]
fn bedrock_rules_first_turn_and_reserved_keywords() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("b.jsonl");
    let good = r#"{"schemaVersion":"bedrock-conversation-2024","messages":[{"role":"user","content":[{"text":"Prazo do DAS?"}]},{"role":"assistant","content":[{"text":"Dia 20."}]}]}"#;
    let mut text = String::new();
    for i in 0..8 {
        text.push_str(&good.replace("DAS?", &format!("DAS {i}?")));
        text.push('\n');
    }
    text.push_str(r#"{"schemaVersion":"bedrock-conversation-2024","messages":[{"role":"assistant","content":[{"text":"Olá"}]},{"role":"user","content":[{"text":"Oi"}]},{"role":"assistant","content":[{"text":"Diga."}]}]}"#);
    text.push('\n');
    text.push_str(r#"{"schemaVersion":"bedrock-conversation-2024","messages":[{"role":"user","content":[{"text":"User: qual o prazo?"}]},{"role":"assistant","content":[{"text":"Dia 20."}]}]}"#);
    text.push('\n');
    text.push_str(r#"{"schemaVersion":"bedrock-conversation-2024","messages":[{"role":"user","content":[{"image":{}}]},{"role":"assistant","content":[{"text":"x"}]}]}"#);
    text.push('\n');
    std::fs::write(&file, text).unwrap();
    let (code, stderr_report) = check_json(&file, "bedrock");
    assert_eq!(code, 1);
    assert_eq!(
        error_codes(&stderr_report),
        [
            "first_turn_not_user",
            "reserved_keyword",
            "invalid_target_line"
        ]
    );
    let (_, _, stderr) = run(afinar()
        .arg("check")
        .arg(&file)
        .args(["--target", "bedrock", "--no-pii"]));
    insta::assert_snapshot!("targets_check_bedrock", filter(&stderr, tmp.path()));
}

#[test]
fn an_unknown_target_is_a_usage_error_listing_the_known_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, stderr) = convert(FAQ, "sagemaker", &[], &tmp.path().join("o.jsonl"));
    assert_eq!(code, 2);
    insta::assert_snapshot!("targets_unknown", stderr);
    let (code, _, stderr2) = run(afinar().args(["check", FAQ, "--target", "sagemaker"]));
    assert_eq!((code, &stderr2), (2, &stderr));
    let pipeline = tmp.path().join("p.toml");
    std::fs::write(
        &pipeline,
        "[[sources]]\npath = \"fixtures/simples-nacional.csv\"\n[output]\ntarget = \"sagemaker\"\n",
    )
    .unwrap();
    let (code, _, stderr) = run(afinar()
        .arg("run")
        .arg(&pipeline)
        .arg("--out-dir")
        .arg(tmp.path().join("out")));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("Unknown target `sagemaker`; pick one of `openai`, `azure`"),
        "{stderr}"
    );
}

#[test]
fn a_pipeline_writes_and_checks_its_target() {
    let tmp = tempfile::tempdir().unwrap();
    let pipeline = tmp.path().join("p.toml");
    std::fs::write(
        &pipeline,
        "system = \"Seja breve.\"\n[[sources]]\npath = \"fixtures/simples-nacional.csv\"\n[output]\ntarget = \"vertex\"\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    let (code, _, stderr) = run(afinar()
        .arg("run")
        .arg(&pipeline)
        .arg("--out-dir")
        .arg(&out));
    assert_eq!(code, 0, "{stderr}");
    let train = lines(&out.join("train.jsonl"));
    let v = schema("vertex");
    assert!(!train.is_empty());
    for l in &train {
        assert!(v.is_valid(l), "{l}");
        assert_eq!(l["systemInstruction"]["parts"][0]["text"], "Seja breve.");
    }
    let (code, report) = check_json(&out.join("train.jsonl"), "vertex");
    assert_eq!(code, 0, "{report}");
}
