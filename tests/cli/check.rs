//! `afinar check` and `afinar models`: every rule at its line, exact token counts
//! against the reference validator, report formats, exit codes, schemas, the registry.

use std::collections::BTreeMap;
use std::process::Command as StdCommand;

use serde_json::Value;

use crate::common::{afinar, filter, fixture, read, root, run};

const RULES: &str = "fixtures/check/rules.jsonl";
const GOOD: &str = "fixtures/check/good.jsonl";
const COMPLETION: &str = "fixtures/check/completion.jsonl";
const DPO: &str = "fixtures/check/dpo.jsonl";
const VISION: &str = "fixtures/check/vision.jsonl";

/// Runs `afinar check ARGS --format json` and returns (exit code, report).
fn check_json(args: &[&str]) -> (i32, Value) {
    let (code, stdout, stderr) = run(afinar().arg("check").args(args).args(["--format", "json"]));
    let report =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    (code, report)
}

/// (line, code) of every error and warning, in report order.
fn findings(report: &Value) -> Vec<(Option<u64>, String)> {
    ["errors", "warnings"]
        .iter()
        .flat_map(|k| report[k].as_array().unwrap().iter())
        .map(|f| (f["line"].as_u64(), f["code"].as_str().unwrap().to_owned()))
        .collect()
}

fn at(line: u64, code: &str) -> (Option<u64>, String) {
    (Some(line), code.to_owned())
}

#[test]
fn every_chat_rule_is_reported_at_its_line() {
    let (code, report) = check_json(&[
        RULES,
        "--model",
        "gpt-3.5-turbo-0613",
        "--max-tokens",
        "300",
    ]);
    assert_eq!(code, 1);
    let expected = vec![
        // file-wide causes first, once each, at their first line
        at(19, "developer_role_unsupported"),
        at(23, "format_not_supported"),
        at(23, "mixed_formats"),
        at(33, "images_not_supported"),
        at(3, "invalid_json"),
        at(4, "invalid_utf8"),
        at(5, "data_type"),
        at(6, "missing_messages_list"),
        at(7, "message_missing_key"),
        at(8, "message_unrecognized_key"),
        at(9, "unrecognized_role"),
        at(10, "missing_content"),
        at(11, "empty_content"),
        at(12, "example_missing_assistant_message"),
        at(13, "invalid_weight"),
        at(14, "weight_not_on_assistant"),
        at(15, "invalid_name"),
        at(16, "invalid_content_part"),
        at(17, "invalid_tool_calls"),
        at(18, "invalid_tool_message"),
        at(21, "system_not_first"),
        at(24, "schema_violation"),
        at(25, "over_token_limit"),
        at(32, "special_token"),
        // warnings
        at(1, "utf8_bom"),
        at(20, "consecutive_turns"), // OpenAI takes two user turns in a row
        at(22, "blank_line"),
        at(26, "duplicate_example"),
        (None, "few_examples".to_owned()),
    ];
    assert_eq!(findings(&report), expected);
    assert_eq!(report["examples"], 32);
    assert_eq!(report["blank_lines"], 1);
    assert_eq!(report["valid"], 9); // lines 1, 2, 20, 26 and 27–31
    assert_eq!(report["over_limit"], 1);
    assert_eq!(report["limit"], 300);
    // the column of a JSON error is counted in characters (`Olá, ação` is 4 bytes longer)
    let json_err = &report["errors"][4]["message"];
    assert!(
        json_err
            .as_str()
            .unwrap()
            .starts_with("Invalid JSON at column 78: "),
        "{json_err}"
    );
}

#[test]
fn developer_role_is_fine_where_the_model_takes_it() {
    let (_, report) = check_json(&[RULES, "--model", "gpt-4.1", "--max-tokens", "300"]);
    let codes: Vec<_> = findings(&report).into_iter().map(|(_, c)| c).collect();
    assert!(
        !codes.contains(&"developer_role_unsupported".to_owned()),
        "{codes:?}"
    );
}

#[test]
fn every_completion_rule_is_reported_at_its_line() {
    let (code, report) = check_json(&[COMPLETION, "--model", "davinci-002"]);
    assert_eq!(code, 1);
    let expected = vec![
        at(15, "format_not_supported"),
        at(15, "mixed_formats"),
        at(9, "missing_prompt"),
        at(10, "missing_completion"),
        at(11, "prompt_not_string"),
        at(12, "completion_not_string"),
        at(13, "unrecognized_key"),
        at(14, "empty_content"),
        (None, "few_examples".to_owned()),
    ];
    assert_eq!(findings(&report), expected);
    assert_eq!(report["format"], "completion");

    // The same file for a chat-only model: one finding for the cause, with the count and
    // the first lines, then the real per-line defects, not buried under one per line.
    let (code, report) = check_json(&[COMPLETION, "--model", "gpt-4o-mini"]);
    assert_eq!(code, 1);
    let expected = vec![
        at(1, "format_not_supported"),
        at(15, "mixed_formats"),
        at(9, "missing_prompt"),
        at(10, "missing_completion"),
        at(11, "prompt_not_string"),
        at(12, "completion_not_string"),
        at(13, "unrecognized_key"),
        at(14, "empty_content"),
        (None, "few_examples".to_owned()),
    ];
    assert_eq!(findings(&report), expected);
    assert_eq!(
        report["errors"][0]["message"],
        "Lines in prompt/completion format, which `gpt-4o-mini` does not take (it takes chat, dpo); convert the file with `afinar convert --to chat` or pick another --model (14 lines: 1, 2, 3, 4, 5 and 9 more)"
    );
    assert_eq!(report["codes"]["format_not_supported"], 1);
    assert_eq!(report["valid"], 0);
    let (_, stdout, stderr) = run(afinar().args(["check", COMPLETION, "--model", "gpt-4o-mini"]));
    assert_eq!(stdout, "");
    insta::assert_snapshot!("check_completion_for_a_chat_model_text", stderr);
}

#[test]
fn images_are_checked_for_vision_models_and_refused_for_others() {
    let (code, report) = check_json(&[VISION, "--model", "gpt-4o-2024-08-06"]);
    assert_eq!(code, 1);
    let expected = vec![
        at(11, "invalid_image"),
        at(12, "invalid_image"),
        at(13, "invalid_image"),
        at(14, "invalid_image"),
        at(15, "invalid_image"),
        at(16, "invalid_content_part"),
        // two text turns from the user: taken, a warning; text then image: nothing
        at(10, "consecutive_turns"),
        (None, "few_examples".to_owned()),
    ];
    assert_eq!(findings(&report), expected);
    assert_eq!(report["valid"], 10);
    let messages: Vec<&str> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    insta::assert_debug_snapshot!("check_vision_messages", messages);

    // A model not fine-tuned with images: one error for the cause (with the lines), and
    // the broken images still reported at their lines.
    for (model, hint) in [
        (
            "gpt-4o-mini",
            "`gpt-4o-mini` is not fine-tuned with images on `openai`;",
        ),
        (
            "gpt-4.1-2025-04-14",
            "`gpt-4.1` is not fine-tuned with images on `openai` (it does on `azure`);",
        ),
    ] {
        let (code, report) = check_json(&[VISION, "--model", model]);
        assert_eq!(code, 1);
        let found = findings(&report);
        assert_eq!(found[0], at(1, "images_not_supported"), "{model}");
        assert_eq!(found[1..7], expected[..6], "{model}");
        let first = report["errors"][0]["message"].as_str().unwrap();
        assert!(first.contains(hint), "{first}");
        assert!(
            first.ends_with("(14 lines: 1, 2, 3, 4, 5 and 9 more)"),
            "{first}"
        );
        assert_eq!(report["codes"]["images_not_supported"], 1);
    }
}

#[test]
fn special_tokens_are_errors_naming_the_token_and_the_field() {
    let (_, report) = check_json(&[RULES, "--model", "gpt-4o-mini"]);
    let special: Vec<&Value> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "special_token")
        .collect();
    assert_eq!(special.len(), 1);
    assert_eq!(special[0]["line"], 32);
    assert_eq!(
        special[0]["message"],
        "`messages[0].content` holds `<|endoftext|>`, a special token of `o200k_base`; the service rejects the file after upload. Remove it or break it up (`< |endoftext| >`)"
    );
    // good.jsonl's `<| endoftext |>` and `<|fim` are ordinary text.
    let (code, report) = check_json(&[GOOD]);
    assert_eq!(code, 0);
    assert!(report["codes"].get("special_token").is_none());
}

#[test]
fn consecutive_turns_are_an_error_where_a_model_needs_alternation() {
    let tmp = tempfile::tempdir().unwrap();
    let models = tmp.path().join("models.json");
    std::fs::write(
        &models,
        r#"{"models": [{"name": "alternating-7b", "encoding": "cl100k_base", "max_tokens": 4096,
            "formats": ["chat"], "price_per_million": null, "turn_order": "alternate"}]}"#,
    )
    .unwrap();
    let (_, report) = check_json(&[
        RULES,
        "--model",
        "alternating-7b",
        "--models",
        models.to_str().unwrap(),
    ]);
    let turn: Vec<&Value> = report["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "consecutive_turns")
        .collect();
    assert_eq!(turn.len(), 1);
    assert_eq!(turn[0]["line"], 20);
    assert_eq!(
        turn[0]["message"],
        "Messages 1 and 2 are both user turns, and `alternating-7b` needs user and assistant turns to alternate; merge them or add the missing turn between them"
    );
    let (_, report) = check_json(&[RULES, "--model", "gpt-4o-mini"]);
    let warned = report["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["code"] == "consecutive_turns" && f["line"] == 20);
    assert!(warned);
}

#[test]
fn every_dpo_rule_is_reported_at_its_line() {
    let (code, report) = check_json(&[DPO, "--model", "gpt-4o"]);
    assert_eq!(code, 1);
    let expected = vec![
        at(9, "invalid_dpo"),
        at(10, "invalid_dpo"),
        at(11, "empty_content"),
        at(12, "invalid_dpo"),
        (None, "few_examples".to_owned()),
    ];
    assert_eq!(findings(&report), expected);
    assert_eq!(report["format"], "dpo");
    let (_, report) = check_json(&[DPO, "--model", "gpt-3.5-turbo"]);
    assert!(findings(&report).contains(&at(1, "format_not_supported")));
}

#[test]
fn fewer_than_ten_examples_is_an_error() {
    let (code, report) = check_json(&["fixtures/check/tiny.jsonl"]);
    assert_eq!(code, 1);
    assert_eq!(
        findings(&report),
        vec![(None, "too_few_examples".to_owned())]
    );
    assert_eq!(report["valid"], 3);
}

#[test]
fn a_clean_file_passes_with_text_report() {
    let (code, stdout, stderr) =
        run(afinar().args(["check", GOOD, "--model", "gpt-4o-mini-2024-07-18"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "");
    insta::assert_snapshot!("check_good_text", stderr);
}

#[test]
fn json_report_has_the_documented_fields() {
    let (code, stdout, stderr) = run(afinar().args([
        "check",
        RULES,
        "--model",
        "gpt-3.5-turbo-0613",
        "--max-tokens",
        "300",
        "--format",
        "json",
    ]));
    assert_eq!(code, 1, "{stderr}");
    insta::assert_snapshot!("check_rules_json", stdout);
    let report: Value = serde_json::from_str(&stdout).unwrap();
    for key in [
        "examples",
        "valid",
        "errors",
        "warnings",
        "tokens",
        "over_limit",
        "epochs",
        "billed_tokens",
        "cost",
    ] {
        assert!(report.get(key).is_some(), "missing {key}");
    }
    for key in ["min", "max", "mean", "p50", "p95", "total"] {
        assert!(report["tokens"].get(key).is_some(), "missing tokens.{key}");
    }
    // billed tokens = sum of min(limit, tokens) over counted examples × epochs
    let tokens = report["tokens"]["total"].as_u64().unwrap();
    let over = 816 - 300; // the one over-limit example is billed up to the limit
    let epochs = report["epochs"].as_u64().unwrap();
    assert_eq!(epochs, 10); // 10 counted examples: 100 / 10
    assert_eq!(
        report["billed_tokens"].as_u64().unwrap(),
        (tokens - over) * epochs
    );
}

#[test]
fn github_format_prints_annotations() {
    let (code, stdout, stderr) = run(afinar().args([
        "check",
        RULES,
        "--model",
        "gpt-3.5-turbo-0613",
        "--max-tokens",
        "300",
        "--format",
        "github",
    ]));
    assert_eq!(code, 1);
    insta::assert_snapshot!("check_rules_github", stdout);
    assert!(stdout.starts_with("::error file=fixtures/check/rules.jsonl,line=19,title=developer_role_unsupported::Messages with role `developer`"));
    assert!(stdout.contains("\n::error file=fixtures/check/rules.jsonl,line=3,title=invalid_json::Invalid JSON at column 78"));
    let mut lines = stderr.lines();
    assert_eq!(
        lines.next(),
        Some("fixtures/check/rules.jsonl: 32 examples, 9 valid, 24 errors, 5 warnings")
    );
    // gpt-3.5-turbo-0613 can no longer be trained: the lifecycle warning follows.
    assert!(
        lines
            .next()
            .is_some_and(|l| l.starts_with("warning:") && l.contains("shut down on 2026-10-23")),
        "{stderr}"
    );
}

#[test]
fn several_files_give_an_array_and_the_worst_exit_code() {
    let (code, stdout, _) = run(afinar().args([
        "check",
        GOOD,
        "fixtures/check/tiny.jsonl",
        "--format",
        "json",
    ]));
    assert_eq!(code, 1);
    let reports: Value = serde_json::from_str(&stdout).unwrap();
    let files: Vec<&str> = reports
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, [GOOD, "fixtures/check/tiny.jsonl"]);
    let (code, stdout, _) = run(afinar().args(["check", GOOD, GOOD, "--format", "json"]));
    assert_eq!(code, 0);
    assert_eq!(
        serde_json::from_str::<Value>(&stdout)
            .unwrap()
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn usage_and_io_errors_exit_2() {
    let (code, _, stderr) = run(afinar().args(["check", "fixtures/check/nope.jsonl"]));
    assert_eq!(code, 2);
    insta::assert_snapshot!("check_error_missing_file", stderr);
    let (code, _, stderr) = run(afinar().args(["check", GOOD, "--model", "llama-3"]));
    assert_eq!(code, 2);
    insta::assert_snapshot!("check_error_unknown_model", stderr);
    let (code, _, _) = run(afinar().args(["check"]));
    assert_eq!(code, 2);
    let (code, _, _) = run(afinar().args(["check", GOOD, "--max-tokens", "0"]));
    assert_eq!(code, 2);
}

#[test]
fn schema_prints_the_bundled_schemas() {
    for (name, file) in [
        ("chat", "chat"),
        ("completion", "completion"),
        ("dpo", "dpo"),
    ] {
        let (code, stdout, stderr) = run(afinar().args(["check", "--schema", name]));
        assert_eq!(code, 0, "{stderr}");
        let schema: Value = serde_json::from_str(&stdout).unwrap();
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        assert_eq!(
            stdout,
            read(&root().join(format!(
                "crates/afinar-check/src/schemas/{file}.schema.json"
            )))
        );
    }
    let (code, _, _) = run(afinar().args(["check", "--schema", "chat", GOOD]));
    assert_eq!(code, 2);
    let (code, _, _) = run(afinar().args(["check", "--schema", "yaml"]));
    assert_eq!(code, 2);
}

#[test]
fn models_lists_the_registry() {
    let (code, stdout, stderr) = run(afinar().args(["models"]));
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!("models_text", stdout);
    let (code, stdout, _) = run(afinar().args(["models", "--format", "json"]));
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let nano = v["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["name"] == "gpt-4.1-nano")
        .unwrap();
    assert_eq!(nano["max_tokens"], 32768);
    assert_eq!(nano["encoding"], "o200k_base");
}

#[test]
fn a_models_file_adds_a_model_for_check() {
    let tmp = tempfile::tempdir().unwrap();
    let models = tmp.path().join("models.json");
    std::fs::write(
        &models,
        r#"{"models": [{"name": "acme-ft", "encoding": "cl100k_base", "max_tokens": 50,
            "formats": ["chat"], "price_per_million": 2.0, "developer_role": true}]}"#,
    )
    .unwrap();
    let (code, report) = check_json(&[
        GOOD,
        "--model",
        "acme-ft-2025-01-01",
        "--models",
        models.to_str().unwrap(),
    ]);
    assert_eq!(code, 1); // examples over 50 tokens
    assert_eq!(report["model_family"], "acme-ft");
    assert_eq!(report["encoding"], "cl100k_base");
    assert_eq!(report["limit"], 50);
    assert!(report["over_limit"].as_u64().unwrap() > 0);
    let (code, stdout, _) = run(afinar().args(["models", "--models"]).arg(&models));
    assert_eq!(code, 0);
    assert!(stdout.contains("acme-ft"));

    std::fs::write(&models, r#"{"models": [{"name": "x"}]}"#).unwrap();
    let (code, _, stderr) = run(afinar().args(["check", GOOD, "--models"]).arg(&models));
    assert_eq!(code, 2);
    insta::assert_snapshot!("check_error_bad_models_file", filter(&stderr, tmp.path()));
}

/// `{line: (tokens, assistant_tokens)}` of a per-example file (ours or the oracle's).
fn per_example(text: &str) -> BTreeMap<u64, (Option<u64>, Option<u64>)> {
    text.lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["line"].as_u64().unwrap(),
                (v["tokens"].as_u64(), v["assistant_tokens"].as_u64()),
            )
        })
        .collect()
}

fn ours(file: &str, model: &str) -> String {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("pe.jsonl");
    let (code, _, stderr) = run(afinar()
        .args(["check", file, "--model", model, "--per-example"])
        .arg(&out));
    assert!(code == 0 || code == 1, "{stderr}");
    read(&out)
}

#[test]
fn counts_equal_the_committed_oracle_output() {
    for (file, model, oracle) in [
        (GOOD, "gpt-4o-mini", "good.o200k_base"),
        (GOOD, "gpt-3.5-turbo", "good.cl100k_base"),
        (RULES, "gpt-3.5-turbo-0613", "rules.cl100k_base"),
        (COMPLETION, "davinci-002", "completion.cl100k_base"),
    ] {
        let ours = ours(file, model);
        let theirs = read(&fixture(&format!("check/oracle/{oracle}.jsonl")));
        assert_eq!(
            per_example(&ours),
            per_example(&theirs),
            "{file} with {model}"
        );
        assert!(ours.starts_with("{\"line\":1,\"tokens\":"), "{ours}");
    }
}

/// A deterministic, messy chat file: Portuguese and emoji, tool calls, names, weights,
/// content lists, numbers in arguments, special-token strings, long answers.
fn messy_file(n: usize) -> String {
    let words = [
        "Simples",
        "Nacional",
        "ação",
        "R$ 4,8 milhões",
        "🧾",
        "<|endoftext|>",
        "DAS\n",
        "\t",
        "“ok”",
        "123.456,78",
        "   ",
        "CNPJ",
    ];
    let mut out = String::new();
    let mut seed: u64 = 42;
    let mut next = |m: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((seed >> 33) as usize) % m
    };
    for i in 0..n {
        let text = |len: usize, next: &mut dyn FnMut(usize) -> usize| -> String {
            (0..len)
                .map(|_| words[next(words.len())])
                .collect::<Vec<_>>()
                .join(" ")
        };
        let q = text(1 + next(20), &mut next);
        let a = text(1 + next(if i % 50 == 0 { 2000 } else { 60 }), &mut next);
        let line = match i % 5 {
            0 => serde_json::json!({"messages": [{"role": "system", "content": "Você é contador."},
                {"role": "user", "content": q, "name": format!("u{i}")}, {"role": "assistant", "content": a, "weight": 1}]}),
            1 => serde_json::json!({"messages": [{"role": "user", "content": q},
                {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
                  "function": {"name": "f", "arguments": format!("{{\"x\": {i}, \"s\": \"{}\"}}", i % 7)}}]},
                {"role": "tool", "tool_call_id": "c1", "content": a.clone()}, {"role": "assistant", "content": a}]}),
            2 => {
                serde_json::json!({"messages": [{"role": "user", "content": [{"type": "text", "text": q}]},
                {"role": "assistant", "content": a, "meta": {"n": 1.5e-7, "big": 1e21, "ok": true}}]})
            }
            3 => {
                serde_json::json!({"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}]})
            }
            _ => {
                serde_json::json!({"messages": [{"role": "user", "content": q}, {"role": "assistant", "content": a}], "x": i})
            }
        };
        out.push_str(&line.to_string());
        out.push('\n');
    }
    out
}

/// Compares with the reference validator run live, when python3 and tiktoken are there.
/// With AFINAR_REQUIRE_ORACLE=1 a missing oracle fails the test instead of skipping it.
#[test]
fn counts_equal_the_live_oracle_on_a_generated_file() {
    let script = root().join("../shared/reference/ref_validate.py");
    let python_ok = script.is_file()
        && StdCommand::new("python3")
            .args(["-c", "import tiktoken"])
            .output()
            .is_ok_and(|o| o.status.success());
    if !python_ok {
        assert!(
            std::env::var("AFINAR_REQUIRE_ORACLE").as_deref() != Ok("1"),
            "AFINAR_REQUIRE_ORACLE=1 but python3 with tiktoken or {} is missing",
            script.display()
        );
        eprintln!("skipped: python3 with tiktoken or the reference validator is missing");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("messy.jsonl");
    std::fs::write(&data, messy_file(2000)).unwrap();
    for (model, encoding) in [
        ("gpt-4o-mini", "o200k_base"),
        ("gpt-3.5-turbo", "cl100k_base"),
    ] {
        let theirs_path = tmp.path().join(format!("oracle.{encoding}.jsonl"));
        let status = StdCommand::new("python3")
            .arg(&script)
            .arg(&data)
            .args(["--encoding", encoding, "--per-example"])
            .arg(&theirs_path)
            .output()
            .unwrap();
        assert!(
            status.status.success(),
            "{}",
            String::from_utf8_lossy(&status.stderr)
        );
        let ours = per_example(&ours(data.to_str().unwrap(), model));
        let theirs = per_example(&read(&theirs_path));
        assert_eq!(ours.len(), 2000);
        let diff: Vec<_> = ours
            .iter()
            .filter(|(l, c)| theirs.get(l) != Some(c))
            .take(5)
            .collect();
        assert!(diff.is_empty(), "{encoding}: first differences {diff:?}");
        assert_eq!(ours, theirs);
    }
}

#[test]
fn per_example_output_is_written_in_order_for_every_line() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("sub/pe.jsonl");
    let (code, _, _) = run(afinar()
        .args([
            "check",
            RULES,
            "--model",
            "gpt-3.5-turbo-0613",
            "--per-example",
        ])
        .arg(&out));
    assert_eq!(code, 1);
    let lines: Vec<u64> = per_example(&read(&out)).keys().copied().collect();
    let expected: Vec<u64> = (1..=33).filter(|l| *l != 22).collect(); // the blank line has none
    assert_eq!(lines, expected);
}
