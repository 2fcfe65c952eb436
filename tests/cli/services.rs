//! `upload`, `launch`, `jobs` and `run --launch` on Together AI and Fireworks AI, against
//! the fakes of `afinar_openai::testing::Service` on 127.0.0.1: each provider's flow
//! (Together's 302 and signed `PUT`, Fireworks' dataset and `READY`), a 429 on the first
//! request of every route, the bytes' sha256, the job's fields, exit codes, the key's
//! absence from all output.

use std::path::Path;
use std::sync::{Arc, Mutex};

use afinar_openai::testing::{MockServer, Outcome, Reply, Request, Service, ServiceLog};
use assert_cmd::Command;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::common::{read, root, run};
use crate::remote::clean;

const TOGETHER_KEY: &str = "tgp_v1_CLITOGETHERSECRET";
const FIREWORKS_KEY: &str = "fw_CLIFIREWORKSSECRET";
const TRAIN: &str = "fixtures/remote/treino.jsonl";
const VALID: &str = "fixtures/remote/validacao.jsonl";
const BROKEN: &str = "fixtures/remote/quebrado.jsonl";
const INSTRUCTIONS: &str = "fixtures/remote/instrucoes.jsonl";
const QWEN: &str = "Qwen/Qwen3-8B";

type Log = Arc<Mutex<ServiceLog>>;

fn sha(bytes: &[u8]) -> String {
    format!("{:x}", Sha256::digest(bytes))
}

fn file_sha(path: &str) -> String {
    sha(&std::fs::read(root().join(path)).expect("fixture reads"))
}

fn no_key(texts: &[&str]) {
    for t in texts {
        assert!(
            !t.contains("CLITOGETHERSECRET") && !t.contains("CLIFIREWORKSSECRET"),
            "the key leaked: {t}"
        );
    }
}

fn together(outcome: Outcome) -> (MockServer, Log) {
    let (service, log) = Service::together(TOGETHER_KEY, outcome);
    (
        MockServer::start_with(|url| service.handler(url)).unwrap(),
        log,
    )
}

fn fireworks(outcome: Outcome) -> (MockServer, Log) {
    let (service, log) = Service::fireworks(FIREWORKS_KEY, "contabil", outcome);
    (
        MockServer::start_with(|url| service.handler(url)).unwrap(),
        log,
    )
}

/// `clean()` with no tokenizer files to find: the checks (and snapshots) must not depend
/// on this machine's Hugging Face cache.
fn hermetic() -> Command {
    let mut cmd = clean();
    cmd.env("HF_HUB_CACHE", root().join("fixtures/remote/no-such-cache"))
        .env_remove("AFINAR_TOKENIZERS");
    cmd
}

fn at_together(server: &MockServer) -> Command {
    let mut cmd = hermetic();
    cmd.env("TOGETHER_API_KEY", TOGETHER_KEY)
        .env("TOGETHER_BASE_URL", format!("{}/v1", server.url()))
        .env("AFINAR_RETRY_BASE_MS", "1");
    cmd
}

fn at_fireworks(server: &MockServer) -> Command {
    let mut cmd = hermetic();
    cmd.env("FIREWORKS_API_KEY", FIREWORKS_KEY)
        .env("FIREWORKS_ACCOUNT_ID", "contabil")
        .env("FIREWORKS_BASE_URL", server.url())
        .env("AFINAR_RETRY_BASE_MS", "1");
    cmd
}

#[test]
fn together_launch_uploads_through_the_signed_url_creates_one_job_and_follows_it() {
    let (server, log) = together(Outcome::Succeed);
    let (code, stdout, stderr) = run(at_together(&server).args([
        "launch",
        "--provider",
        "together",
        "--training",
        TRAIN,
        "--validation",
        VALID,
        "--model",
        QWEN,
        "--epochs",
        "2",
        "--learning-rate",
        "0.0001",
        "--lora-rank",
        "16",
        "--suffix",
        "simples",
        "--interval",
        "0",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "ft-0003\ncontabil/Qwen3-8B-simples\n");
    insta::assert_snapshot!("together_launch", stderr);
    no_key(&[&stdout, &stderr]);

    let log = log.lock().unwrap();
    let sent: Vec<(&str, String, &str)> = log
        .uploads
        .iter()
        .map(|u| (u.name.as_str(), sha(&u.bytes), u.how))
        .collect();
    assert_eq!(
        sent,
        [
            ("treino.jsonl", file_sha(TRAIN), "signed-put"),
            ("validacao.jsonl", file_sha(VALID), "signed-put"),
        ]
    );
    assert_eq!(log.keyed_puts, 0);
    assert_eq!(log.jobs_created.len(), 1);
    let body = &log.jobs_created[0];
    assert_eq!(body["model"], QWEN);
    assert_eq!(body["training_file"], "file-0001");
    assert_eq!(body["validation_file"], "file-0002");
    assert_eq!(body["n_epochs"], 2);
    assert_eq!(body["learning_rate"], 0.0001);
    assert_eq!(body["suffix"], "simples");
    assert_eq!(
        body["training_type"],
        json!({"type": "Lora", "lora_r": 16, "lora_alpha": 32, "lora_dropout": 0.0,
               "lora_trainable_modules": "all-linear"})
    );
    assert_eq!(body["training_method"]["method"], "sft");
    // Every route was throttled once and retried.
    assert!(log.throttled >= 6, "{}", log.throttled);
    for req in server.requests() {
        no_key(&[&req.text()]);
        if req.method == "PUT" {
            assert_eq!(req.header("authorization"), None, "{}", req.target);
        } else if req.path().starts_with("/v1/") {
            assert_eq!(
                req.header("authorization"),
                Some(format!("Bearer {TOGETHER_KEY}").as_str())
            );
        }
    }
}

#[test]
fn a_failed_together_job_exits_3_with_the_services_message() {
    let (server, _) = together(Outcome::Fail(
        "Line 4: roles must alternate between user and assistant".into(),
    ));
    let (code, stdout, stderr) = run(at_together(&server).args([
        "launch",
        "--provider",
        "together",
        "--training",
        TRAIN,
        "--model",
        QWEN,
        "--interval",
        "0",
    ]));
    assert_eq!(code, 3, "{stderr}");
    assert_eq!(stdout, "ft-0002\n");
    assert!(
        stderr.contains(
            "error: Job `ft-0002` failed: Line 4: roles must alternate between user and assistant"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("job error: Line 4"), "{stderr}");
    no_key(&[&stderr]);
}

#[test]
fn fireworks_launch_creates_a_dataset_waits_for_ready_and_follows_the_job() {
    let (server, log) = fireworks(Outcome::Succeed);
    let (code, stdout, stderr) = run(at_fireworks(&server).args([
        "launch",
        "--provider",
        "fireworks",
        "--training",
        TRAIN,
        "--validation",
        VALID,
        "--model",
        "qwen3-8b",
        "--epochs",
        "2",
        "--learning-rate",
        "0.0001",
        "--lora-rank",
        "8",
        "--suffix",
        "faq-simples",
        "--interval",
        "0",
    ]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "sftj-0001\naccounts/contabil/models/faq-simples\n");
    assert!(stderr.contains("progress 50% (epoch 1)"), "{stderr}");
    assert!(
        stderr.contains("done: job sftj-0001 succeeded; fine-tuned model:"),
        "{stderr}"
    );
    no_key(&[&stdout, &stderr]);
    let log = log.lock().unwrap();
    let hashes: Vec<String> = log.uploads.iter().map(|u| sha(&u.bytes)).collect();
    assert_eq!(hashes, [file_sha(TRAIN), file_sha(VALID)]);
    assert_eq!(log.jobs_created.len(), 1);
    let body = &log.jobs_created[0];
    let datasets: Vec<&str> = log.uploads.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(
        body["dataset"],
        format!("accounts/contabil/datasets/{}", datasets[0])
    );
    assert_eq!(
        body["evaluationDataset"],
        format!("accounts/contabil/datasets/{}", datasets[1])
    );
    assert_eq!(body["baseModel"], "accounts/fireworks/models/qwen3-8b");
    assert_eq!(
        (
            &body["epochs"],
            &body["learningRate"],
            &body["loraRank"],
            &body["outputModel"]
        ),
        (&json!(2), &json!(0.0001), &json!(8), &json!("faq-simples"))
    );
    assert!(datasets[0].starts_with("treino-") && datasets[1].starts_with("validacao-"));
}

#[test]
fn a_failed_fireworks_job_exits_3_with_the_services_message() {
    let (server, _) = fireworks(Outcome::Fail("Dataset has no assistant turn".into()));
    let (code, _, stderr) = run(at_fireworks(&server).args([
        "launch",
        "--provider",
        "fireworks",
        "--training",
        TRAIN,
        "--model",
        "qwen3-8b",
        "--interval",
        "0",
    ]));
    assert_eq!(code, 3, "{stderr}");
    assert!(
        stderr.contains(
            "error: Job `sftj-0001` failed: Dataset has no assistant turn (code `INVALID_ARGUMENT`)"
        ),
        "{stderr}"
    );
}

#[test]
fn invalid_files_send_no_request_to_either_provider() {
    let (tserver, _) = together(Outcome::Succeed);
    let (code, stdout, stderr) =
        run(at_together(&tserver).args(["upload", BROKEN, "--provider", "together"]));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stdout, "");
    assert!(stderr.contains("on Together AI"), "{stderr}");
    assert!(tserver.requests().is_empty());

    // Fireworks trains on chat lines only: prompt/completion is refused here, not there.
    let (fserver, _) = fireworks(Outcome::Succeed);
    let (code, _, stderr) = run(at_fireworks(&fserver).args([
        "launch",
        "--provider",
        "fireworks",
        "--training",
        INSTRUCTIONS,
        "--model",
        "qwen3-8b",
    ]));
    assert_eq!(code, 1, "{stderr}");
    insta::assert_snapshot!("fireworks_refused", stderr);
    assert!(fserver.requests().is_empty());

    // Together takes the same file.
    let (code, stdout, stderr) =
        run(at_together(&tserver).args(["upload", INSTRUCTIONS, "--provider", "together"]));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "file-0001\n");

    // Together's own rule, from the target table: turns alternate. A file OpenAI would
    // take, with two user turns in a row, is refused before any request.
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("seguidas.jsonl");
    let line = |i: usize| {
        format!(
            "{{\"messages\":[{{\"role\":\"user\",\"content\":\"Oi, tudo bem? ({i})\"}},\
             {{\"role\":\"user\",\"content\":\"Qual o prazo do DAS?\"}},\
             {{\"role\":\"assistant\",\"content\":\"Até o dia 20.\"}}]}}\n"
        )
    };
    std::fs::write(&file, (0..12).map(line).collect::<String>()).unwrap();
    let before = tserver.requests().len();
    let (code, stdout, stderr) = run(at_together(&tserver)
        .arg("upload")
        .arg(&file)
        .args(["--provider", "together"]));
    assert_eq!(code, 1, "{stderr}");
    assert_eq!(stdout, "");
    assert!(stderr.contains("seguidas.jsonl:1"), "{stderr}");
    assert_eq!(tserver.requests().len(), before);
    // OpenAI's rules alone take it.
    let (code, _, stderr) = run(crate::common::afinar().arg("check").arg(&file));
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn flags_a_provider_does_not_take_are_usage_errors_naming_it() {
    let (server, _) = together(Outcome::Succeed);
    for (provider, args, needle) in [
        (
            "together",
            vec!["--seed", "7"],
            "Together AI does not take `--seed`",
        ),
        (
            "together",
            vec!["--learning-rate-multiplier", "2"],
            "Together AI does not take `--learning-rate-multiplier`",
        ),
        (
            "together",
            vec!["--suffix", &"x".repeat(41)],
            "Together AI takes at most 40",
        ),
        (
            "fireworks",
            vec!["--method", "dpo"],
            "Fireworks AI does not take `--method dpo`",
        ),
        (
            "fireworks",
            vec!["--training-type", "full"],
            "Fireworks AI does not take training type `full`",
        ),
        (
            "fireworks",
            vec!["--suffix", "FAQ_Simples"],
            "not a Fireworks model id",
        ),
        (
            "openai",
            vec!["--learning-rate", "0.0001"],
            "OpenAI does not take `--learning-rate`",
        ),
        (
            "openai",
            vec!["--lora-rank", "8"],
            "OpenAI does not take `--lora-rank`",
        ),
        (
            "azure",
            vec!["--training-type", "lora"],
            "Azure OpenAI does not take training type `lora`",
        ),
        (
            "together",
            vec!["--learning-rate", "3"],
            "learning rate must be greater than 0 and at most 1",
        ),
        (
            "together",
            vec!["--training-type", "cheap"],
            "is not a training type",
        ),
    ] {
        let (code, _, stderr) = run(at_together(&server)
            .args([
                "launch",
                "--training",
                TRAIN,
                "--model",
                QWEN,
                "--provider",
                provider,
            ])
            .args(&args));
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(needle), "{args:?}: {stderr}");
    }
    assert!(server.requests().is_empty());
}

#[test]
fn dry_runs_show_each_providers_real_requests_without_a_key() {
    let (code, stdout, stderr) = run(hermetic().args([
        "launch",
        "--provider",
        "together",
        "--training",
        TRAIN,
        "--validation",
        VALID,
        "--model",
        QWEN,
        "--training-type",
        "full",
        "--dry-run",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let steps: Vec<String> = v["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r["method"].as_str().unwrap(),
                r["url"].as_str().unwrap()
            )
        })
        .collect();
    let upload = [
        "POST https://api.together.xyz/v1/files",
        "PUT <Location>",
        "POST https://api.together.xyz/v1/files/<X-Together-File-Id>/preprocess",
    ];
    let mut expected: Vec<&str> = upload.iter().chain(&upload).copied().collect();
    expected.push("POST https://api.together.xyz/v1/fine-tunes");
    assert_eq!(steps, expected);
    assert_eq!(v["request"]["training_type"], json!({"type": "Full"}));
    assert_eq!(v["request"]["validation_file"], "<validation file id>");
    assert_eq!(
        v["requests"][0]["headers"]["Authorization"],
        "Bearer $TOGETHER_API_KEY"
    );

    // With a key in the environment it still sends nothing and shows only the variable.
    let (code, stdout, stderr) = run(hermetic()
        .env("FIREWORKS_API_KEY", FIREWORKS_KEY)
        .env("FIREWORKS_ACCOUNT_ID", "contabil")
        .args([
            "launch",
            "--provider",
            "fireworks",
            "--training",
            TRAIN,
            "--model",
            "qwen3-8b",
            "--epochs",
            "3",
            "--dry-run",
        ]));
    assert_eq!(code, 0, "{stderr}");
    no_key(&[&stdout, &stderr]);
    let v: Value = serde_json::from_str(&stdout).unwrap();
    let urls: Vec<&str> = v["requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["url"].as_str().unwrap())
        .collect();
    assert_eq!(
        urls,
        [
            "https://api.fireworks.ai/v1/accounts/contabil/datasets",
            "https://api.fireworks.ai/v1/accounts/contabil/datasets/%3Cdataset%20id%3E:upload",
            "https://api.fireworks.ai/v1/accounts/contabil/datasets/%3Cdataset%20id%3E",
            "https://api.fireworks.ai/v1/accounts/contabil/supervisedFineTuningJobs",
        ]
    );
    assert_eq!(
        v["request"],
        json!({"dataset": "<training dataset name>",
               "baseModel": "accounts/fireworks/models/qwen3-8b", "epochs": 3})
    );
}

#[test]
fn jobs_list_show_follow_and_cancel_on_together_cancel_refused_on_fireworks() {
    let (server, log) = together(Outcome::Succeed);
    let (code, _, stderr) = run(at_together(&server).args([
        "launch",
        "--provider",
        "together",
        "--training",
        TRAIN,
        "--model",
        QWEN,
        "--detach",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let (code, stdout, stderr) =
        run(at_together(&server).args(["jobs", "list", "--provider", "together"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("ID"), "{stdout}");
    assert!(
        stdout.contains("ft-0002  queued  Qwen/Qwen3-8B"),
        "{stdout}"
    );
    let (code, stdout, _) = run(at_together(&server).args([
        "jobs",
        "follow",
        "ft-0002",
        "--interval",
        "0",
        "--provider",
        "together",
    ]));
    assert_eq!(code, 0);
    assert_eq!(stdout, "contabil/Qwen3-8B-ft\n");
    let (code, stdout, stderr) = run(at_together(&server).args([
        "jobs",
        "show",
        "ft-0002",
        "--provider",
        "together",
        "--format",
        "json",
    ]));
    assert_eq!(code, 0, "{stderr}");
    let job: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(job["status"], "succeeded");
    assert_eq!(job["provider"], "together");
    let (code, stdout, stderr) =
        run(at_together(&server).args(["jobs", "cancel", "ft-0002", "--provider", "together"]));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("status            cancelled"), "{stdout}");
    assert_eq!(log.lock().unwrap().jobs_created.len(), 1);

    let (fserver, _) = fireworks(Outcome::Succeed);
    let (code, _, stderr) =
        run(at_fireworks(&fserver).args(["jobs", "cancel", "sftj-1", "--provider", "fireworks"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("Fireworks AI has no way to cancel"),
        "{stderr}"
    );
    assert!(fserver.requests().is_empty());
    let (code, _, stderr) =
        run(at_together(&server).args(["jobs", "pause", "ft-0002", "--provider", "together"]));
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("only OpenAI and Azure OpenAI can"),
        "{stderr}"
    );
}

#[test]
fn a_pipeline_launches_on_together_through_the_same_path() {
    let (server, log) = together(Outcome::Succeed);
    let tmp = tempfile::tempdir().unwrap();
    let pipeline = tmp.path().join("together.toml");
    let base = read(Path::new("pipelines/simples-nacional.toml"));
    std::fs::write(
        &pipeline,
        format!(
            "{base}\n[launch]\nprovider = \"together\"\nmodel = \"{QWEN}\"\nlearning_rate = 0.0002\nlora_rank = 8\nsuffix = \"simples\"\ninterval = 0\n"
        ),
    )
    .unwrap();
    let out = tmp.path().join("out");
    let (code, stdout, stderr) = run(at_together(&server)
        .arg("run")
        .arg(&pipeline)
        .arg("--out-dir")
        .arg(&out)
        .arg("--launch"));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.ends_with("contabil/Qwen3-8B-simples\n"), "{stdout}");
    let log = log.lock().unwrap();
    let hashes: Vec<String> = log.uploads.iter().map(|u| sha(&u.bytes)).collect();
    let local: Vec<String> = ["train.jsonl", "validation.jsonl"]
        .iter()
        .map(|f| sha(&std::fs::read(out.join(f)).unwrap()))
        .collect();
    assert_eq!(hashes, local);
    assert_eq!(log.jobs_created.len(), 1);
    assert_eq!(log.jobs_created[0]["learning_rate"], 0.0002);
    assert_eq!(log.jobs_created[0]["training_type"]["lora_r"], 8);
}

#[test]
fn azure_open_models_get_the_training_type_on_the_v1_path() {
    let created = Arc::new(Mutex::new(None));
    let seen = Arc::clone(&created);
    let server = MockServer::start(
        move |req: &Request| match (req.method.as_str(), req.path()) {
            ("POST", "/openai/v1/files") => {
                Reply::json(200, &json!({"id": "file-az", "object": "file"}))
            }
            ("POST", "/openai/v1/fine_tuning/jobs") => {
                *seen.lock().unwrap() = req.json();
                Reply::json(
                    200,
                    &json!({"id": "ftjob-az", "status": "pending", "model": "gpt-oss-20b"}),
                )
            }
            _ => Reply::json(404, &json!({"error": {"message": "Unexpected request"}})),
        },
    )
    .unwrap();
    for (flag, sent) in [
        ("global-standard", "GlobalStandard"),
        ("developer", "Developer"),
    ] {
        let (code, stdout, stderr) = run(clean()
            .env("AZURE_OPENAI_ENDPOINT", server.url())
            .env("AZURE_OPENAI_API_KEY", "az-CLIAZURESECRET")
            .env("AFINAR_RETRY_BASE_MS", "1")
            .args([
                "launch",
                "--provider",
                "azure",
                "--training",
                TRAIN,
                "--model",
                "gpt-oss-20b",
                "--training-type",
                flag,
                "--detach",
            ]));
        assert_eq!(code, 0, "{stderr}");
        assert_eq!(stdout, "ftjob-az\n");
        let body = created.lock().unwrap().clone().unwrap();
        assert_eq!(body["trainingType"], sent);
        assert_eq!(body["model"], "gpt-oss-20b");
        assert!(!stderr.contains("CLIAZURESECRET"));
    }
}
