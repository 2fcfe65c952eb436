//! `afinar upload`, `launch` and `jobs` against a scripted server on 127.0.0.1. Nothing
//! here touches the network.

use std::sync::{Arc, Mutex};

use afinar_openai::testing::{MockServer, Reply, Request};
use assert_cmd::Command;
use serde_json::{Value, json};

use crate::common::{afinar, fixture, run};

const KEY: &str = "sk-proj-CLITESTSECRET42";
const TRAIN: &str = "fixtures/remote/treino.jsonl";
const VALID: &str = "fixtures/remote/validacao.jsonl";
const BROKEN: &str = "fixtures/remote/quebrado.jsonl";
const MODEL: &str = "gpt-4.1-mini-2025-04-14";
const TUNED: &str = "ft:gpt-4.1-mini-2025-04-14:contabil:simples:AbC123";

/// `afinar` pointed at `server` as OpenAI, with the environment's own settings removed
/// and retries fast.
fn remote(server: &MockServer) -> Command {
    let mut cmd = clean();
    cmd.env("OPENAI_API_KEY", KEY)
        .env("OPENAI_BASE_URL", format!("{}/v1", server.url()))
        .env("AFINAR_RETRY_BASE_MS", "1");
    cmd
}

/// `afinar` with no provider settings from the environment (keys, endpoints, retries).
pub(crate) fn clean() -> Command {
    let mut cmd = afinar();
    for var in [
        "OPENAI_API_KEY",
        "OPENAI_BASE_URL",
        "OPENAI_ORG_ID",
        "OPENAI_ORGANIZATION",
        "OPENAI_PROJECT_ID",
        "OPENAI_API_VERSION",
        "AZURE_OPENAI_ENDPOINT",
        "AZURE_OPENAI_API_KEY",
        "AZURE_OPENAI_API_VERSION",
        "TOGETHER_API_KEY",
        "TOGETHER_BASE_URL",
        "FIREWORKS_API_KEY",
        "FIREWORKS_ACCOUNT_ID",
        "FIREWORKS_BASE_URL",
        "AFINAR_MAX_RETRIES",
        "AFINAR_RETRY_BASE_MS",
    ] {
        cmd.env_remove(var);
    }
    cmd
}

fn bytes(path: &str) -> Vec<u8> {
    std::fs::read(crate::common::root().join(path)).expect("fixture reads")
}

fn job(id: &str, status: &str) -> Value {
    json!({"object": "fine_tuning.job", "id": id, "status": status, "model": MODEL,
           "created_at": 1_763_769_600, "training_file": "file-train", "validation_file": "file-valid",
           "fine_tuned_model": null, "error": null})
}

fn no_key_anywhere(texts: &[&str]) {
    for t in texts {
        assert!(!t.contains("CLITESTSECRET"), "the key leaked: {t}");
    }
}

#[test]
fn upload_checks_then_sends_the_file_and_prints_its_id() {
    let server = MockServer::start(|_: &Request| {
        Reply::json(
            200,
            &json!({"id": "file-abc", "object": "file", "purpose": "fine-tune"}),
        )
    })
    .unwrap();
    let (code, stdout, stderr) = run(remote(&server).args(["upload", TRAIN]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "file-abc\n");
    insta::assert_snapshot!("upload_text", stderr);

    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    assert_eq!(
        (reqs[0].method.as_str(), reqs[0].path()),
        ("POST", "/v1/files")
    );
    assert_eq!(
        reqs[0].header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    let parts = reqs[0].multipart().unwrap();
    assert_eq!(parts[0].content, b"fine-tune");
    assert_eq!(parts[1].filename.as_deref(), Some("treino.jsonl"));
    assert_eq!(parts[1].content, bytes(TRAIN));
}

#[test]
fn upload_json_output() {
    let server = MockServer::start(|_: &Request| {
        Reply::json(
            200,
            &json!({"id": "file-abc", "bytes": 2300, "purpose": "fine-tune"}),
        )
    })
    .unwrap();
    let (code, stdout, stderr) = run(remote(&server).args(["upload", TRAIN, "--format", "json"]));
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["files"][0]["file"]["id"], "file-abc");
    assert_eq!(v["files"][0]["path"], TRAIN);
    assert_eq!(v["files"][0]["check"]["errors"], 0);
    assert_eq!(v["files"][0]["check"]["examples"], 10);
}

#[test]
fn upload_refuses_an_invalid_file_without_any_request() {
    let server =
        MockServer::start(|_: &Request| Reply::json(200, &json!({"id": "file-x"}))).unwrap();
    let (code, stdout, stderr) = run(remote(&server).args(["upload", TRAIN, BROKEN]));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stdout, "");
    assert!(server.requests().is_empty(), "nothing may be sent");
    assert!(
        stderr.contains("fixtures/remote/quebrado.jsonl:2:"),
        "{stderr}"
    );
    insta::assert_snapshot!("upload_refused", stderr);
}

/// The whole service for one launch: uploads, a job created after one 429, then running
/// and succeeded, with events (newest first, as the service lists them).
fn launch_server() -> (MockServer, Arc<Mutex<Vec<String>>>) {
    let log = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&log);
    let mut creates = 0;
    let mut polls = 0;
    let mut event_reads = 0;
    let server = MockServer::start(move |req: &Request| {
        seen.lock().expect("log lock").push(format!("{} {}", req.method, req.target));
        match (req.method.as_str(), req.path()) {
            ("POST", "/v1/files") => {
                let name = req
                    .multipart()
                    .and_then(|p| p.get(1).and_then(|f| f.filename.clone()))
                    .unwrap_or_default();
                let id = if name == "treino.jsonl" { "file-train" } else { "file-valid" };
                Reply::json(200, &json!({"id": id, "object": "file", "purpose": "fine-tune", "filename": name}))
            }
            ("POST", "/v1/fine_tuning/jobs") => {
                creates += 1;
                if creates == 1 {
                    Reply::json(429, &json!({"error": {"message": "Rate limit reached for requests", "code": "rate_limit_exceeded"}}))
                        .header("retry-after-ms", "10")
                } else {
                    Reply::json(200, &job("ftjob-1", "validating_files"))
                }
            }
            ("GET", "/v1/fine_tuning/jobs/ftjob-1") => {
                polls += 1;
                if polls == 1 {
                    Reply::json(200, &job("ftjob-1", "running"))
                } else {
                    let mut done = job("ftjob-1", "succeeded");
                    done["fine_tuned_model"] = json!(TUNED);
                    done["finished_at"] = json!(1_763_773_200);
                    Reply::json(200, &done)
                }
            }
            ("GET", "/v1/fine_tuning/jobs/ftjob-1/events") => {
                event_reads += 1;
                let t = 1_763_769_600;
                let mut events = vec![
                    json!({"id": "ev-3", "created_at": t + 120, "level": "info", "type": "metrics",
                           "message": "Step 2/3: training loss=1.10",
                           "data": {"step": 2, "total_steps": 3, "train_loss": 1.1, "valid_loss": 1.3,
                                    "train_mean_token_accuracy": 0.71}}),
                    json!({"id": "ev-2", "created_at": t + 60, "level": "info", "type": "metrics",
                           "data": {"step": 1, "total_steps": 3, "train_loss": 2.25}}),
                    json!({"id": "ev-1", "created_at": t, "level": "info", "type": "message",
                           "message": "Fine-tuning job started"}),
                ];
                if event_reads > 1 {
                    events.insert(0, json!({"id": "ev-4", "created_at": t + 180, "level": "info",
                        "type": "metrics", "data": {"step": 3, "total_steps": 3, "train_loss": 0.42,
                        "full_valid_loss": 0.6, "train_mean_token_accuracy": 0.88}}));
                    events.insert(0, json!({"id": "ev-5", "created_at": t + 240, "level": "info",
                        "type": "message", "message": format!("New fine-tuned model created: {TUNED}")}));
                }
                Reply::json(200, &json!({"object": "list", "data": events, "has_more": false}))
            }
            _ => Reply::json(404, &json!({"error": {"message": "Unexpected request"}})),
        }
    })
    .expect("the server starts");
    (server, log)
}

#[test]
fn launch_uploads_both_creates_the_job_survives_a_429_and_follows_to_the_model() {
    let (server, log) = launch_server();
    let (code, stdout, stderr) = run(remote(&server).args([
        "launch",
        "--training",
        TRAIN,
        "--validation",
        VALID,
        "--model",
        MODEL,
        "--suffix",
        "simples",
        "--epochs",
        "3",
        "--batch-size",
        "4",
        "--learning-rate-multiplier",
        "0.5",
        "--seed",
        "42",
        "--interval",
        "0.01",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, format!("ftjob-1\n{TUNED}\n"));
    insta::assert_snapshot!("launch_follow", stderr);
    no_key_anywhere(&[&stdout, &stderr]);

    let reqs = server.requests();
    // Both files, same bytes, purpose fine-tune.
    let uploads: Vec<&Request> = reqs.iter().filter(|r| r.path() == "/v1/files").collect();
    assert_eq!(uploads.len(), 2);
    for (req, path) in uploads.iter().zip([TRAIN, VALID]) {
        let parts = req.multipart().unwrap();
        assert_eq!(
            (parts[0].name.as_str(), parts[0].content.as_slice()),
            ("purpose", b"fine-tune".as_slice())
        );
        assert_eq!(parts[1].content, bytes(path), "{path} sent as is");
    }
    // The job: asked twice (a 429, then created), with the model, suffix and hyperparameters.
    let creates: Vec<&Request> = reqs
        .iter()
        .filter(|r| r.path() == "/v1/fine_tuning/jobs")
        .collect();
    assert_eq!(creates.len(), 2);
    assert_eq!(
        creates[0].body, creates[1].body,
        "the retry sends the same body"
    );
    assert_eq!(
        creates[1].json().unwrap(),
        json!({"model": MODEL, "training_file": "file-train", "validation_file": "file-valid",
               "suffix": "simples", "seed": 42,
               "method": {"type": "supervised", "supervised": {"hyperparameters":
                   {"n_epochs": 3, "batch_size": 4, "learning_rate_multiplier": 0.5}}}})
    );
    assert!(
        reqs.iter()
            .all(|r| r.header("authorization") == Some(format!("Bearer {KEY}").as_str()))
    );
    insta::assert_snapshot!("launch_requests", log.lock().unwrap().join("\n"));
}

#[test]
fn launch_json_follow_writes_json_lines() {
    let (server, _) = launch_server();
    let (code, stdout, stderr) = run(remote(&server).args([
        "launch",
        "--training",
        TRAIN,
        "--model",
        MODEL,
        "--interval",
        "0",
        "--format",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let lines: Vec<Value> = stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 6, "{stdout}");
    assert_eq!(lines[0]["event"]["id"], "ev-1");
    assert_eq!(lines[4]["event"]["id"], "ev-5");
    assert_eq!(lines[5]["job"]["fine_tuned_model"], TUNED);
}

#[test]
fn launch_refuses_an_invalid_file_before_any_upload() {
    let (server, _) = launch_server();
    let (code, stdout, stderr) = run(remote(&server).args([
        "launch",
        "--training",
        TRAIN,
        "--validation",
        BROKEN,
        "--model",
        MODEL,
    ]));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stdout, "");
    assert!(server.requests().is_empty(), "no upload, no job");
    insta::assert_snapshot!("launch_refused", stderr);
}

#[test]
fn launch_checks_flags_before_anything() {
    let (server, _) = launch_server();
    for (args, needle) in [
        (vec!["--suffix", "perguntas frequentes"], "use only letters"),
        (vec!["--suffix", &"x".repeat(65)], "at most 64"),
        (vec!["--epochs", "0"], "epochs must be 1 to 50"),
        (vec!["--batch-size", "1000"], "batch size must be 1 to 256"),
        (vec!["--learning-rate-multiplier", "-1"], "greater than 0"),
        (vec!["--method", "dpo", "--beta", "3"], "beta must be"),
        (vec!["--beta", "0.1"], "beta applies only to `--method dpo`"),
    ] {
        let (code, _, stderr) = run(remote(&server)
            .args(["launch", "--training", TRAIN, "--model", MODEL])
            .args(&args));
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
    assert!(server.requests().is_empty());
}

#[test]
fn launch_dpo_wants_dpo_data() {
    let (server, _) = launch_server();
    let (code, _, stderr) = run(remote(&server).args([
        "launch",
        "--training",
        TRAIN,
        "--model",
        MODEL,
        "--method",
        "dpo",
        "--beta",
        "0.1",
    ]));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("this method needs DPO"), "{stderr}");
    assert!(server.requests().is_empty());
}

#[test]
fn launch_dry_run_shows_the_request_and_sends_nothing() {
    // No credentials needed for a dry run.
    let (code, stdout, stderr) = run(clean().args([
        "launch",
        "--training",
        TRAIN,
        "--model",
        MODEL,
        "--suffix",
        "faq",
        "--epochs",
        "2",
        "--dry-run",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        v["request"],
        json!({"model": MODEL, "training_file": "<training file id>", "suffix": "faq",
               "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2}}}})
    );
    assert_eq!(v["checks"][0]["errors"], 0);
}

#[test]
fn follow_a_failed_job_exits_3_with_its_error() {
    let server = MockServer::start(|req: &Request| {
        if req.path().ends_with("/events") {
            return Reply::json(200, &json!({"data": [{"id": "ev-1", "level": "error", "message": "Training file has 3 examples; at least 10 are needed"}]}));
        }
        let mut failed = job("ftjob-2", "failed");
        failed["error"] = json!({"code": "invalid_training_file", "message": "The training file does not have enough examples", "param": "training_file"});
        Reply::json(200, &failed)
    })
    .unwrap();
    let (code, stdout, stderr) =
        run(remote(&server).args(["jobs", "follow", "ftjob-2", "--interval", "0"]));
    assert_eq!(code, 3, "{stderr}");
    assert_eq!(stdout, "");
    insta::assert_snapshot!("follow_failed", stderr);
}

#[test]
fn follow_rides_out_an_outage_longer_than_the_retries() {
    let mut calls = 0;
    let server = MockServer::start(move |req: &Request| {
        calls += 1;
        if (2..=5).contains(&calls) {
            return Reply::json(503, &json!({"error": {"message": "Service unavailable"}}));
        }
        if req.path().ends_with("/events") {
            return Reply::json(200, &json!({"data": []}));
        }
        let status = if calls == 1 { "running" } else { "succeeded" };
        let mut j = job("ftjob-3", status);
        j["fine_tuned_model"] = json!(TUNED);
        Reply::json(200, &j)
    })
    .expect("the server starts");
    let (code, stdout, stderr) =
        run(remote(&server).args(["jobs", "follow", "ftjob-3", "--interval", "0"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, format!("{TUNED}\n"));
    assert!(stderr.contains("503 Service Unavailable: Service unavailable (after 3 attempts); polling again (1 of 5)"), "{stderr}");
}

#[test]
fn a_401_exits_3_says_what_to_check_and_hides_the_key() {
    let server = MockServer::start(|_: &Request| {
        Reply::json(401, &json!({"error": {"message": format!("Incorrect API key provided: {KEY}"), "code": "invalid_api_key"}}))
    })
    .unwrap();
    let (code, stdout, stderr) = run(remote(&server).args(["jobs", "show", "ftjob-1"]));
    assert_eq!(code, 3);
    assert_eq!(stdout, "");
    no_key_anywhere(&[&stderr]);
    insta::assert_snapshot!("error_401", stderr);
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn server_errors_are_retried_then_reported_with_message_code_and_param() {
    let server = MockServer::start(|_: &Request| {
        Reply::json(500, &json!({"error": {"message": "The server had an error while processing your request", "type": "server_error", "code": "internal_error", "param": "after"}}))
    })
    .unwrap();
    let (code, _, stderr) = run(remote(&server).args(["jobs", "list"]));
    assert_eq!(code, 3);
    assert_eq!(server.requests().len(), 3, "1 try and 2 retries");
    insta::assert_snapshot!("error_500", stderr);
}

#[test]
fn jobs_list_show_checkpoints_cancel() {
    let server = MockServer::start(|req: &Request| match (req.method.as_str(), req.path()) {
        ("GET", "/v1/fine_tuning/jobs") => {
            let mut a = job("ftjob-new", "hibernating");
            a["model"] = json!("gpt-4o-mini-2024-07-18");
            let mut b = job("ftjob-old", "succeeded");
            b["fine_tuned_model"] = json!(TUNED);
            b["created_at"] = json!(1_700_000_000);
            Reply::json(200, &json!({"data": [a, b], "has_more": true}))
        }
        ("GET", "/v1/fine_tuning/jobs/ftjob-old/checkpoints") => Reply::json(200, &json!({"data": [
            {"id": "cp-2", "step_number": 20, "fine_tuned_model_checkpoint": format!("{TUNED}:ckpt-step-20"),
             "metrics": {"train_loss": 0.41, "full_valid_loss": 0.52, "full_valid_mean_token_accuracy": 0.83}},
            {"id": "cp-1", "step_number": 10, "metrics": {}}], "has_more": false})),
        ("POST", "/v1/fine_tuning/jobs/ftjob-new/cancel") => Reply::json(200, &job("ftjob-new", "cancelled")),
        (_, path) if path.starts_with("/v1/fine_tuning/jobs/ftjob-old") => {
            let mut b = job("ftjob-old", "succeeded");
            b["fine_tuned_model"] = json!(TUNED);
            b["trained_tokens"] = json!(12_345);
            b["method"] = json!({"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 3, "batch_size": 1}}});
            Reply::json(200, &b)
        }
        _ => Reply::json(404, &json!({"error": {"message": "Unexpected"}})),
    })
    .unwrap();

    let (code, stdout, stderr) = run(remote(&server).args(["jobs", "list", "--limit", "2"]));
    assert_eq!(code, 0, "{stderr}");
    insta::assert_snapshot!("jobs_list", format!("{stdout}---\n{stderr}"));
    assert_eq!(server.requests()[0].target, "/v1/fine_tuning/jobs?limit=2");

    let (code, stdout, _) = run(remote(&server).args(["jobs", "list", "--format", "json"]));
    assert_eq!(code, 0);
    let v: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["data"][0]["status"], "hibernating");
    assert_eq!(v["has_more"], true);

    let (code, stdout, _) = run(remote(&server).args(["jobs", "show", "ftjob-old"]));
    assert_eq!(code, 0);
    insta::assert_snapshot!("jobs_show", stdout);

    let (code, stdout, _) = run(remote(&server).args(["jobs", "checkpoints", "ftjob-old"]));
    assert_eq!(code, 0);
    insta::assert_snapshot!("jobs_checkpoints", stdout);

    let (code, stdout, _) =
        run(remote(&server).args(["jobs", "cancel", "ftjob-new", "--format", "json"]));
    assert_eq!(code, 0);
    assert_eq!(
        serde_json::from_str::<Value>(&stdout).unwrap()["status"],
        "cancelled"
    );
}

#[test]
fn azure_upload_uses_the_dated_path_api_key_and_a_bom() {
    let server =
        MockServer::start(|_: &Request| Reply::json(201, &json!({"id": "file-az"}))).unwrap();
    let (code, stdout, stderr) = run(clean()
        .env("AZURE_OPENAI_ENDPOINT", server.url())
        .env("AZURE_OPENAI_API_KEY", KEY)
        .env("AZURE_OPENAI_API_VERSION", "2024-10-21")
        .args(["upload", TRAIN, "--provider", "azure"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "file-az\n");
    let req = &server.requests()[0];
    assert_eq!(req.target, "/openai/files?api-version=2024-10-21");
    assert_eq!(req.header("api-key"), Some(KEY));
    assert_eq!(req.header("authorization"), None);
    let sent = &req.multipart().unwrap()[1].content;
    assert_eq!(sent[..3], *b"\xEF\xBB\xBF");
    assert_eq!(sent[3..], *bytes(TRAIN));
}

#[test]
fn missing_credentials_and_plain_http_are_usage_errors() {
    let (code, _, stderr) = run(clean().args(["jobs", "list"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("`OPENAI_API_KEY`"), "{stderr}");

    let (code, _, stderr) = run(clean()
        .env("OPENAI_API_KEY", KEY)
        .env("OPENAI_BASE_URL", "http://api.example.com/v1")
        .args(["jobs", "list"]));
    assert_eq!(code, 2);
    assert!(stderr.contains("use https"), "{stderr}");
    no_key_anywhere(&[&stderr]);
}

#[test]
fn fixtures_are_what_the_tests_assume() {
    assert_eq!(bytes(TRAIN).iter().filter(|b| **b == b'\n').count(), 10);
    assert!(
        bytes(VALID).windows(2).any(|w| w == b"\r\n"),
        "validation has CRLF"
    );
    assert_eq!(
        bytes("fixtures/remote/treino-bom.jsonl")[3..],
        *bytes(TRAIN)
    );
    assert!(fixture("remote/quebrado.jsonl").exists());
}
