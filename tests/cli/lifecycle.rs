//! The training lifecycle in `check`, `models`, `run` and `launch`: warnings that name the
//! dates and the targets that still train a model, and `launch` refusing a closed one
//! unless `--force`. Every run is judged on a fixed day (`AFINAR_TODAY`).

use std::path::Path;

use afinar_openai::testing::{MockServer, Reply, Request};
use serde_json::json;

use crate::common::{afinar, filter, run};
use crate::remote::clean;

const TRAIN: &str = "fixtures/remote/treino.jsonl";
const KEY: &str = "sk-proj-LIFECYCLETEST7";

/// The `warning:` lines of a command's standard error.
fn warnings(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect()
}

#[test]
fn check_gpt_4o_mini_warns_with_the_last_day_and_where_to_train_instead() {
    let (code, stdout, stderr) = run(afinar().args(["check", TRAIN, "--model", "gpt-4o-mini"]));
    assert_eq!(code, 0, "a warning does not fail the check: {stderr}");
    assert!(stdout.is_empty());
    let w = warnings(&stderr);
    assert_eq!(w.len(), 1, "{stderr}");
    assert!(w[0].contains("2027-01-06"), "{}", w[0]);
    insta::assert_snapshot!("check_gpt_4o_mini_warning", w[0]);
    // The warning comes after the report, so it is the last thing read.
    assert!(stderr.trim_end().ends_with(w[0]), "{stderr}");
    // A dated snapshot is the same family; JSON keeps stdout clean and warns on stderr.
    let (code, stdout, stderr) = run(afinar().args([
        "check",
        TRAIN,
        "--model",
        "gpt-4o-mini-2024-07-18",
        "--format",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    serde_json::from_str::<serde_json::Value>(&stdout).expect("stdout is the JSON report");
    assert_eq!(warnings(&stderr).len(), 1, "{stderr}");
    // GitHub annotations carry it too.
    let (_, stdout, _) = run(afinar().args([
        "check",
        TRAIN,
        "--model",
        "gpt-4o-mini",
        "--format",
        "github",
    ]));
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("::warning title=training_closed::") && l.contains("2027-01-06")),
        "{stdout}"
    );
}

#[test]
fn check_follows_the_day_it_is_judged_on() {
    let on = |day: &str, model: &str| {
        let (code, _, stderr) = run(afinar()
            .env("AFINAR_TODAY", day)
            .args(["check", TRAIN, "--model", model]));
        assert_eq!(code, 0, "{stderr}");
        warnings(&stderr).join("\n")
    };
    // Before OpenAI closed to new organisations: a warning that it will.
    let before = on("2026-05-01", "gpt-4o-mini");
    assert!(
        before.contains("not for long") && before.contains("(from 2026-05-07)"),
        "{before}"
    );
    let after = on("2027-01-07", "gpt-4o-mini");
    assert!(after.contains("closed since 2027-01-07"), "{after}");
    let gone = on("2027-01-14", "gpt-4o-mini");
    assert!(gone.contains("shut down on 2027-01-14"), "{gone}");
    // A model anyone can train: nothing to say, whatever the day.
    assert_eq!(on("2026-12-01", "openai/gpt-oss-20b"), "");
    assert_eq!(on("2031-06-30", "openai/gpt-oss-20b"), "");
    // Azure's own OpenAI models: existing customers only.
    let azure = {
        let (_, _, stderr) = run(afinar().args([
            "check",
            TRAIN,
            "--model",
            "gpt-4.1-mini",
            "--target",
            "azure",
        ]));
        warnings(&stderr).join("\n")
    };
    assert!(
        azure.contains("at Azure AI Foundry by someone new to it"),
        "{azure}"
    );
}

#[test]
fn a_bad_day_is_a_usage_error() {
    let (code, _, stderr) = run(afinar()
        .env("AFINAR_TODAY", "01/12/2026")
        .args(["check", TRAIN]));
    assert_eq!(code, 2);
    assert!(
        stderr.contains("AFINAR_TODAY") && stderr.contains("`01/12/2026` is not a date"),
        "{stderr}"
    );
}

#[test]
fn models_shows_the_training_status_of_every_model() {
    let (code, stdout, stderr) = run(afinar().args(["models", "--open"]));
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!("models_open_lifecycle", stdout);
    // Azure's open models, with their limit (assumed ones marked) and status.
    for line in [
        "openai/gpt-oss-20b                 o200k_harmony  131,072  azure              8,192*",
        "Qwen/Qwen3-32B                     chat template   32,768  azure               8,192",
    ] {
        assert!(stdout.contains(line), "{line}\n{stdout}");
    }
    let (_, later, _) = run(afinar().env("AFINAR_TODAY", "2027-01-07").args(["models"]));
    let row = |text: &str, model: &str| -> String {
        text.lines()
            .find(|l| l.starts_with(&format!("{model} ")))
            .unwrap_or_default()
            .to_owned()
    };
    let (_, now, _) = run(afinar().args(["models"]));
    assert!(
        row(&now, "gpt-4o-mini").contains("existing customers only, last job 2027-01-06"),
        "{now}"
    );
    assert!(
        row(&later, "gpt-4o-mini").contains("closed since 2027-01-07"),
        "{later}"
    );
    assert!(
        row(&now, "gpt-4.1-nano").contains("shut down 2026-10-23"),
        "{now}"
    );
}

/// Files and job creation only: enough for `launch --detach`.
fn job_server() -> MockServer {
    MockServer::start(|req: &Request| match (req.method.as_str(), req.path()) {
        ("POST", "/v1/files") => Reply::json(
            200,
            &json!({"id": "file-train", "object": "file", "purpose": "fine-tune", "filename": "treino.jsonl"}),
        ),
        ("POST", "/v1/fine_tuning/jobs") => Reply::json(
            200,
            &json!({"object": "fine_tuning.job", "id": "ftjob-9", "status": "validating_files",
                    "model": "gpt-4.1-mini-2025-04-14", "created_at": 1_763_769_600,
                    "training_file": "file-train", "fine_tuned_model": null, "error": null}),
        ),
        _ => Reply::json(404, &json!({"error": {"message": "Unexpected request"}})),
    })
    .expect("the server starts")
}

fn launch(server: &MockServer, day: &str, extra: &[&str]) -> (i32, String, String) {
    let mut cmd = clean();
    cmd.env("OPENAI_API_KEY", KEY)
        .env("OPENAI_BASE_URL", format!("{}/v1", server.url()))
        .env("AFINAR_RETRY_BASE_MS", "1")
        .env("AFINAR_TODAY", day)
        .args([
            "launch",
            "--training",
            TRAIN,
            "--model",
            "gpt-4.1-mini-2025-04-14",
            "--detach",
        ])
        .args(extra);
    run(&mut cmd)
}

#[test]
fn launch_refuses_a_closed_model_without_any_request_unless_forced() {
    let server = job_server();
    let (code, stdout, stderr) = launch(&server, "2027-01-07", &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stdout.is_empty());
    assert!(server.requests().is_empty(), "nothing is sent");
    insta::assert_snapshot!("launch_closed_refused", stderr);

    // --force: a warning, then the job as usual.
    let (code, stdout, stderr) = launch(&server, "2027-01-07", &["--force"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "ftjob-9\n");
    let w = warnings(&stderr);
    assert!(
        w.len() == 1 && w[0].contains("closed since 2027-01-07"),
        "{stderr}"
    );
    assert!(!stderr.contains(KEY));
    let paths: Vec<String> = server
        .requests()
        .iter()
        .map(|r| r.path().to_owned())
        .collect();
    assert_eq!(paths, ["/v1/files", "/v1/fine_tuning/jobs"]);
}

#[test]
fn launch_warns_but_goes_on_while_existing_customers_can_train() {
    let server = job_server();
    let (code, stdout, stderr) = launch(&server, "2026-12-01", &[]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "ftjob-9\n");
    let w = warnings(&stderr);
    assert!(w.len() == 1 && w[0].contains("2027-01-06"), "{stderr}");
    // The dry run says so too, and a refusal holds there as well.
    let (code, _, stderr) = launch(&server, "2027-01-07", &["--dry-run"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
}

#[test]
fn run_says_the_demo_model_can_be_trained_by_a_new_user() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(afinar()
        .args(["run", "pipelines/simples-nacional.toml", "--out-dir"])
        .arg(tmp.path()));
    assert_eq!(code, 0, "{stderr}");
    assert!(warnings(&stderr).is_empty(), "{stderr}");
    assert!(
        stderr.contains(
            "Training: `openai/gpt-oss-20b` can be fine-tuned today by anyone, new customers included, at azure, together, fireworks, llama-factory, axolotl, trl"
        ),
        "{stderr}"
    );
    // A pipeline for gpt-4o-mini warns with the dates instead.
    let pipeline = tmp.path().join("p.toml");
    let spec = std::fs::read_to_string(Path::new("pipelines/simples-nacional.toml"))
        .unwrap()
        .replace("name = \"openai/gpt-oss-20b\"", "name = \"gpt-4o-mini\"");
    std::fs::write(&pipeline, spec).unwrap();
    let out = tmp.path().join("mini");
    let (code, _, stderr) = run(afinar()
        .arg("run")
        .arg(&pipeline)
        .arg("--out-dir")
        .arg(&out));
    assert_eq!(code, 0, "{stderr}");
    let w = warnings(&stderr).join("\n");
    assert!(
        w.contains("2027-01-06") && w.contains("openai/gpt-oss-20b"),
        "{}",
        filter(&stderr, tmp.path())
    );
}
