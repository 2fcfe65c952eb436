//! `afinar check` for open-weight models: counts with the model's own tokenizer and chat
//! template (`--tokenizer`, or the Hugging Face cache for `--model ORG/NAME`), harmony
//! for gpt-oss, the limit and over-limit behaviour of the training target, and the
//! registry listing. Counts are held to Python transformers' `apply_chat_template`
//! (golden files written by `fixtures/tokenizers/oracle.py`, and the live oracle when it
//! is installed).

// Test helpers: a failed read or parse is a failed test.
#![allow(clippy::unwrap_used)]

use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use serde_json::Value;

use crate::common::{afinar, filter, read, root, run};

const FAQ: &str = "fixtures/tokenizers/faq-pt.jsonl";
const TINY: &str = "fixtures/tokenizers/tiny";

/// `{"tokens", "assistant_tokens"}` of each line of a per-example file.
fn counts(path: &Path) -> Vec<Value> {
    read(path)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            serde_json::json!({"tokens": v["tokens"], "assistant_tokens": v["assistant_tokens"]})
        })
        .collect()
}

fn golden(model: &str, n: usize) -> Vec<Value> {
    read(&root().join(format!("fixtures/tokenizers/golden/{model}.jsonl")))
        .lines()
        .take(n)
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn faq_lines() -> usize {
    read(&root().join(FAQ)).lines().count()
}

/// The error codes of a report, sorted and deduplicated. The FAQ fixture's line 18 has
/// a whitespace-only system prompt (an `empty_content` error, counted all the same).
fn error_codes(report: &Value) -> Vec<String> {
    let mut v: Vec<String> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_owned())
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Runs `afinar check FAQ ARGS --per-example` and returns (exit code, report, counts).
fn check_faq(args: &[&str], env: &[(&str, &Path)]) -> (i32, Value, Vec<Value>, String) {
    let tmp = tempfile::tempdir().unwrap();
    let per = tmp.path().join("tokens.jsonl");
    let mut cmd = afinar();
    cmd.arg("check")
        .arg(FAQ)
        .args(args)
        .arg("--per-example")
        .arg(&per);
    cmd.args(["--format", "json", "--no-pii"]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let (code, stdout, stderr) = run(&mut cmd);
    let report: Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    (code, report, counts(&per), stderr)
}

#[test]
fn tokenizer_dir_counts_equal_transformers() {
    let (code, report, got, _) = check_faq(&["--tokenizer", TINY, "--max-tokens", "1000"], &[]);
    assert_eq!(
        (code, error_codes(&report)),
        (1, vec!["empty_content".to_owned()])
    );
    assert_eq!(got, golden("tiny", faq_lines()));
    assert_eq!(report["encoding"], "tokenizer.json + chat template");
    assert_eq!(report["model"], "tiny");
    assert_eq!(report["limit"], 1000);
    assert!(report.get("target").is_none());
    // a tokenizer.json file works as its directory does
    let file = format!("{TINY}/tokenizer.json");
    let (_, _, again, _) = check_faq(&["--tokenizer", &file, "--max-tokens", "1000"], &[]);
    assert_eq!(again, got);

    // And live, when Python transformers is installed (always in CI).
    let oracle = root().join("fixtures/tokenizers/oracle.py");
    match StdCommand::new("python3")
        .arg(&oracle)
        .arg("--check")
        .output()
    {
        Ok(o) if o.status.success() => {
            let out = StdCommand::new("python3")
                .arg(&oracle)
                .arg(root().join(TINY))
                .arg(root().join(FAQ))
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let want: Vec<Value> = String::from_utf8(out.stdout)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            assert_eq!(got, want);
        }
        _ => {
            assert!(
                std::env::var("AFINAR_REQUIRE_HF_ORACLE").as_deref() != Ok("1"),
                "AFINAR_REQUIRE_HF_ORACLE=1 but python3 with transformers is missing"
            );
            eprintln!("skipped the live oracle: python3 with transformers is missing");
        }
    }
}

#[test]
fn tokenizer_limit_comes_from_its_config_and_the_report_says_so() {
    let (code, stdout, stderr) =
        run(afinar().args(["check", FAQ, "--tokenizer", TINY, "--no-pii"]));
    assert_eq!(code, 1, "{stdout}");
    insta::assert_snapshot!("open_tiny_text", stderr);
}

/// A Hugging Face cache holding the tiny tokenizer as `Qwen/Qwen3-8B`.
fn fake_hub(home: &Path) -> PathBuf {
    let entry = home.join("hub/models--Qwen--Qwen3-8B");
    let snap = entry.join("snapshots/0123abcd");
    std::fs::create_dir_all(&snap).unwrap();
    std::fs::create_dir_all(entry.join("refs")).unwrap();
    std::fs::write(entry.join("refs/main"), "0123abcd\n").unwrap();
    // an older snapshot without files is ignored
    std::fs::create_dir_all(entry.join("snapshots/00old")).unwrap();
    for f in ["tokenizer.json", "tokenizer_config.json"] {
        std::fs::copy(root().join(TINY).join(f), snap.join(f)).unwrap();
    }
    snap
}

#[test]
fn registry_model_is_found_in_the_hugging_face_cache() {
    let home = tempfile::tempdir().unwrap();
    fake_hub(home.path());
    let env = [("HF_HOME", home.path())];
    let (code, report, got, _) = check_faq(
        &[
            "--model",
            "Qwen/Qwen3-8B",
            "--target",
            "llama-factory",
            "--max-tokens",
            "150",
        ],
        &env,
    );
    assert_eq!(got, golden("tiny", faq_lines()));
    assert_eq!(code, 1);
    assert_eq!(report["model"], "Qwen/Qwen3-8B");
    assert_eq!(report["model_family"], "Qwen/Qwen3-8B");
    assert_eq!(report["target"], "LLaMA-Factory");
    assert_eq!(report["limit"], 150);
    let over: Vec<&Value> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "over_token_limit")
        .collect();
    let longer = got
        .iter()
        .filter(|c| c["tokens"].as_u64().unwrap() > 150)
        .count();
    assert!(longer > 0);
    assert_eq!(over.len(), longer, "{report}");
    let msg = over[0]["message"].as_str().unwrap();
    assert!(
        msg.contains("LLaMA-Factory truncates it to the first 150 tokens")
            && msg.contains("`cutoff_len`"),
        "{msg}"
    );

    // Axolotl drops long examples by default; its default sequence_len is the limit.
    let (_, report, _, _) = check_faq(&["--model", "qwen3-8b", "--target", "axolotl"], &env);
    assert_eq!(report["limit"], 512);
    assert_eq!(report["target"], "Axolotl");

    // AFINAR_TOKENIZERS: a folder of model folders, looked at first.
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("Qwen--Qwen3-8B");
    std::fs::create_dir_all(&model).unwrap();
    for f in ["tokenizer.json", "tokenizer_config.json"] {
        std::fs::copy(root().join(TINY).join(f), model.join(f)).unwrap();
    }
    let empty = tempfile::tempdir().unwrap();
    let (_, _, again, _) = check_faq(
        &["--model", "Qwen/Qwen3-8B", "--max-tokens", "150"],
        &[("AFINAR_TOKENIZERS", dir.path()), ("HF_HOME", empty.path())],
    );
    assert_eq!(again, got);
}

#[test]
fn missing_tokenizer_files_say_how_to_get_them() {
    let home = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(afinar()
        .args(["check", FAQ, "--model", "meta-llama/Llama-3.1-8B-Instruct"])
        .env("HF_HOME", home.path())
        .env_remove("AFINAR_TOKENIZERS")
        .env_remove("HF_HUB_CACHE"));
    assert_eq!(code, 2);
    insta::assert_snapshot!("open_missing_files", filter(&stderr, home.path()));

    let (code, _, stderr) =
        run(afinar().args(["check", FAQ, "--tokenizer", "fixtures/tokenizers"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("has no tokenizer.json"), "{stderr}");

    let (code, _, stderr) = run(afinar().args([
        "check",
        FAQ,
        "--model",
        "openai/gpt-oss-20b",
        "--target",
        "fireworks",
    ]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("pick one of `azure`, `llama-factory`, `axolotl`, `trl`"),
        "{stderr}"
    );
}

#[test]
fn gpt_oss_is_counted_with_harmony() {
    let (code, report, got, _) = check_faq(&["--model", "openai/gpt-oss-20b"], &[]);
    assert_eq!(got, golden("gptoss", faq_lines()));
    assert_eq!(report["encoding"], "o200k_harmony");
    assert_eq!(report["target"], "Azure AI Foundry");
    assert_eq!(report["limit"], 8192);
    assert_eq!(
        (code, error_codes(&report)),
        (1, vec!["empty_content".to_owned()])
    );
}

#[test]
fn template_errors_are_reported_at_their_line() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("t.jsonl");
    let good = r#"{"messages": [{"role": "user", "content": "Olá"}, {"role": "assistant", "content": "Oi"}]}"#;
    let tool = r#"{"messages": [{"role": "user", "content": "Olá"}, {"role": "assistant", "content": "Oi"}, {"role": "tool", "content": "x", "tool_call_id": "c"}]}"#;
    std::fs::write(&file, format!("{good}\n{tool}\n")).unwrap();
    let (code, stdout, _) =
        run(afinar()
            .arg("check")
            .arg(&file)
            .args(["--tokenizer", TINY, "--format", "json"]));
    assert_eq!(code, 1);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    let e = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "chat_template_error")
        .unwrap();
    assert_eq!(e["line"], 2);
    assert_eq!(
        e["message"],
        "The chat template rejects this example: Only user and assistant roles are supported after the system message"
    );
}

#[test]
fn real_qwen3_tokenizer_counts_the_faq_like_transformers() {
    let dir = std::env::var_os("AFINAR_HF_TOKENIZERS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target/hf-tokenizers"));
    let qwen = dir.join("qwen3");
    if !qwen.join("tokenizer.json").is_file() {
        assert!(
            std::env::var("AFINAR_REQUIRE_HF_ORACLE").as_deref() != Ok("1"),
            "AFINAR_REQUIRE_HF_ORACLE=1 but `{}` is missing (run fixtures/tokenizers/fetch.sh)",
            qwen.display()
        );
        eprintln!("skipped: no Qwen3 tokenizer (run bash fixtures/tokenizers/fetch.sh)");
        return;
    }
    let q = qwen.display().to_string();
    let (code, report, got, _) = check_faq(&["--tokenizer", &q, "--model", "Qwen/Qwen3-32B"], &[]);
    assert_eq!(got, golden("qwen3", faq_lines()));
    assert_eq!(report["target"], "Azure AI Foundry");
    assert_eq!(report["limit"], 8192);
    assert_eq!(
        (code, error_codes(&report)),
        (1, vec!["empty_content".to_owned()])
    );
}

#[test]
fn models_lists_open_models_with_tokenizer_limits_and_targets() {
    let (code, stdout, _) = run(afinar().args(["models", "--open"]));
    assert_eq!(code, 0);
    insta::assert_snapshot!("open_models_text", stdout);
}

/// A pipeline over the FAQ fixture for `model`, with `extra` lines in `[model]`.
fn open_pipeline(dir: &Path, model: &str, extra: &str) -> PathBuf {
    let p = dir.join("pipeline.toml");
    let faq = root().join(FAQ);
    std::fs::write(
        &p,
        format!(
            "[[sources]]\npath = {:?}\n\n[model]\nname = {model:?}\nmax_tokens = 100000\n{extra}\n\n[split]\nvalidation = 0.2\nseed = 7\n",
            faq.display().to_string()
        ),
    )
    .unwrap();
    p
}

/// The tokens the manifest gives an output, and what `check --tokenizer TINY` counts in it.
fn manifest_and_check_tokens(out: &Path, file: &str) -> (u64, u64) {
    let m: Value = serde_json::from_str(&read(&out.join("manifest.json"))).unwrap();
    let entry = m["outputs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|o| o["path"].as_str().unwrap().ends_with(file))
        .unwrap_or_else(|| panic!("no {file} in {m}"));
    let per = out.join("per.jsonl");
    let (code, _, stderr) = run(afinar()
        .arg("check")
        .arg(out.join(file))
        .args([
            "--tokenizer",
            TINY,
            "--max-tokens",
            "100000",
            "--no-pii",
            "--per-example",
        ])
        .arg(&per));
    assert!(code <= 1, "{stderr}");
    let sum = counts(&per)
        .iter()
        .map(|c| c["tokens"].as_u64().unwrap())
        .sum();
    (entry["tokens"].as_u64().unwrap(), sum)
}

/// `afinar run PIPELINE --out-dir OUT` with `HF_HOME` at `home` and no other tokenizer
/// place.
fn run_open(pipeline: &Path, out: &Path, home: &Path) -> (i32, String, String) {
    run(afinar()
        .arg("run")
        .arg(pipeline)
        .arg("--out-dir")
        .arg(out)
        .env("HF_HOME", home)
        .env_remove("HF_HUB_CACHE")
        .env_remove("AFINAR_TOKENIZERS"))
}

#[test]
fn pipelines_count_open_models_with_their_own_tokenizer() {
    // From the Hugging Face cache.
    let home = tempfile::tempdir().unwrap();
    fake_hub(home.path());
    let tmp = tempfile::tempdir().unwrap();
    let pipeline = open_pipeline(tmp.path(), "Qwen/Qwen3-8B", "");
    let out = tmp.path().join("out");
    let (code, _, stderr) = run_open(&pipeline, &out, home.path());
    assert!(code <= 1, "{stderr}");
    for file in ["train.jsonl", "validation.jsonl"] {
        let (manifest, check) = manifest_and_check_tokens(&out, file);
        assert!(manifest > 0);
        assert_eq!(
            manifest, check,
            "{file}: the run counts with the model's tokenizer"
        );
    }

    // From `[model] tokenizer`, with nothing in the cache.
    let empty = tempfile::tempdir().unwrap();
    let pipeline = open_pipeline(
        tmp.path(),
        "Qwen/Qwen3-8B",
        &format!("tokenizer = {:?}", root().join(TINY).display().to_string()),
    );
    let out2 = tmp.path().join("out2");
    let (code, _, stderr) = run_open(&pipeline, &out2, empty.path());
    assert!(code <= 1, "{stderr}");
    assert_eq!(
        read(&out.join("train.jsonl")),
        read(&out2.join("train.jsonl"))
    );
    let (manifest, check) = manifest_and_check_tokens(&out2, "train.jsonl");
    assert_eq!(manifest, check);
}

#[test]
fn a_pipeline_without_the_open_models_tokenizer_stops_before_writing() {
    let empty = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let pipeline = open_pipeline(tmp.path(), "Qwen/Qwen3-8B", "");
    let out = tmp.path().join("out");
    let (code, _, stderr) = run_open(&pipeline, &out, empty.path());
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("Cannot count tokens for `Qwen/Qwen3-8B`")
            && stderr.contains("hf download Qwen/Qwen3-8B"),
        "{stderr}"
    );
    assert!(!out.join("train.jsonl").exists(), "no output is written");
}
