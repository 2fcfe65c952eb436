//! The client against a scripted server on 127.0.0.1: bodies, headers, retries, errors,
//! pagination, Azure paths and the BOM. No network.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use afinar_openai::testing::{MockServer, Reply, Request};
use afinar_openai::{
    BOM, Client, Config, Error, Hyperparameters, JobRequest, JobStatus, Method, Provider,
};
use serde_json::{Value, json};

const KEY: &str = "sk-proj-TESTSECRET0123456789";

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/remote")
        .join(name)
}

fn fast(mut config: Config) -> Config {
    config.retry.base_delay = Duration::from_millis(1);
    config.retry.max_delay = Duration::from_millis(5);
    config
}

fn openai(server: &MockServer) -> Client {
    let mut config = Config::openai(KEY);
    config.base_url = format!("{}/v1", server.url());
    Client::new(fast(config)).expect("loopback http is allowed")
}

fn file_reply(id: &str) -> Reply {
    Reply::json(
        200,
        &json!({"id": id, "object": "file", "purpose": "fine-tune", "bytes": 10}),
    )
}

/// A handler that answers `replies` in turn, then repeats the last.
fn script(replies: Vec<Reply>) -> impl FnMut(&Request) -> Reply + Send + 'static {
    let mut i = 0;
    move |_| {
        let reply = replies[i.min(replies.len() - 1)].clone();
        i += 1;
        reply
    }
}

#[test]
fn upload_sends_multipart_with_the_same_bytes_and_headers() {
    let server = MockServer::start(script(vec![file_reply("file-abc")])).unwrap();
    let mut config = Config::openai(KEY);
    config.base_url = format!("{}/v1", server.url());
    config.organization = Some("org-contabil".into());
    config.project = Some("proj_faq".into());
    let client = Client::new(config).unwrap();

    let file = client.upload_file(&fixture("treino.jsonl")).unwrap();
    assert_eq!(file.id, "file-abc");

    let reqs = server.requests();
    assert_eq!(reqs.len(), 1);
    let req = &reqs[0];
    assert_eq!((req.method.as_str(), req.path()), ("POST", "/v1/files"));
    assert_eq!(
        req.header("authorization"),
        Some(format!("Bearer {KEY}").as_str())
    );
    assert_eq!(req.header("openai-organization"), Some("org-contabil"));
    assert_eq!(req.header("openai-project"), Some("proj_faq"));
    assert_eq!(req.header("api-key"), None);
    assert!(
        req.header("content-type")
            .unwrap()
            .starts_with("multipart/form-data; boundary=")
    );
    let parts = req.multipart().expect("a multipart body");
    assert_eq!(parts.len(), 2);
    assert_eq!(
        (parts[0].name.as_str(), parts[0].content.as_slice()),
        ("purpose", b"fine-tune".as_slice())
    );
    assert_eq!(parts[1].name, "file");
    assert_eq!(parts[1].filename.as_deref(), Some("treino.jsonl"));
    assert_eq!(
        parts[1].content,
        std::fs::read(fixture("treino.jsonl")).unwrap(),
        "same bytes, no BOM"
    );
}

#[test]
fn create_job_sends_the_method_object() {
    let server = MockServer::start(script(vec![Reply::json(
        200,
        &json!({"id": "ftjob-1", "status": "validating_files", "model": "gpt-4.1-mini-2025-04-14"}),
    )]))
    .unwrap();
    let request = JobRequest {
        model: "gpt-4.1-mini-2025-04-14".into(),
        training_file: "file-t".into(),
        validation_file: Some("file-v".into()),
        suffix: Some("simples".into()),
        seed: Some(42),
        method: Method::Supervised,
        hyperparameters: Hyperparameters {
            n_epochs: Some(3),
            batch_size: Some(4),
            learning_rate_multiplier: Some(1.8),
            ..Default::default()
        },
        training_type: None,
    };
    let job = openai(&server).create_job(&request).unwrap();
    assert_eq!(job.status, JobStatus::ValidatingFiles);
    let req = &server.requests()[0];
    assert_eq!(req.path(), "/v1/fine_tuning/jobs");
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(
        req.json().unwrap(),
        json!({
            "model": "gpt-4.1-mini-2025-04-14", "training_file": "file-t",
            "validation_file": "file-v", "suffix": "simples", "seed": 42,
            "method": {"type": "supervised", "supervised": {"hyperparameters":
                {"n_epochs": 3, "batch_size": 4, "learning_rate_multiplier": 1.8}}}
        })
    );
}

#[test]
fn retries_a_429_honouring_retry_after() {
    let server = MockServer::start(script(vec![
        Reply::json(
            429,
            &json!({"error": {"message": "Rate limit reached", "code": "rate_limit_exceeded"}}),
        )
        .header("retry-after-ms", "20"),
        Reply::json(429, &json!({"error": {"message": "Rate limit reached"}}))
            .header("Retry-After", "1"),
        Reply::json(200, &json!({"id": "ftjob-9", "status": "running"})),
    ]))
    .unwrap();
    let job = openai(&server).retrieve_job("ftjob-9").unwrap();
    assert_eq!(job.status, JobStatus::Running);
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert!(
        reqs.iter()
            .all(|r| r.path() == "/v1/fine_tuning/jobs/ftjob-9")
    );
}

#[test]
fn gives_up_on_5xx_with_the_services_message_code_and_param() {
    let server = MockServer::start(script(vec![Reply::json(
        503,
        &json!({"error": {"message": "The engine is currently overloaded", "type": "server_error",
                          "code": "overloaded", "param": "model"}}),
    )
    .header("x-request-id", "req_123")]))
    .unwrap();
    let err = openai(&server).list_jobs(None, Some(5)).unwrap_err();
    assert_eq!(server.requests().len(), 3, "1 try + 2 retries");
    assert!(err.is_remote());
    let api = err.api().unwrap();
    assert_eq!((api.status, api.attempts), (503, 3));
    assert_eq!(
        err.to_string(),
        "Listing fine-tuning jobs: the service answered 503 Service Unavailable: The engine is \
         currently overloaded (code `overloaded`, param `model`, request `req_123`, after 3 attempts)"
    );
}

#[test]
fn does_not_retry_when_the_server_says_so() {
    let server = MockServer::start(script(vec![
        Reply::json(500, &json!({"error": {"message": "no"}})).header("x-should-retry", "false"),
    ]))
    .unwrap();
    assert!(openai(&server).retrieve_job("x").is_err());
    assert_eq!(server.requests().len(), 1);
}

#[test]
fn a_401_says_what_to_check_and_never_shows_the_key() {
    // Some gateways echo the key back; it must not reach the message.
    let server = MockServer::start(script(vec![Reply::json(
        401,
        &json!({"error": {"message": format!("Incorrect API key provided: {KEY}."),
                          "type": "invalid_request_error", "code": "invalid_api_key"}}),
    )]))
    .unwrap();
    let client = openai(&server);
    let err = client.retrieve_job("ftjob-1").unwrap_err();
    assert_eq!(server.requests().len(), 1, "a 401 is not retried");
    let text = err.to_string();
    assert_eq!(
        text,
        "Reading job `ftjob-1`: the service answered 401 Unauthorized: Incorrect API key \
         provided: [redacted]. (code `invalid_api_key`); check the key in `OPENAI_API_KEY` \
         (and `OPENAI_BASE_URL`)"
    );
    for shown in [text, format!("{err:?}"), format!("{client:?}")] {
        assert!(!shown.contains("TESTSECRET"), "{shown}");
    }
}

#[test]
fn unknown_status_and_missing_metrics_parse() {
    let server = MockServer::start(|req: &Request| match req.path() {
        "/v1/fine_tuning/jobs/ftjob-new" => Reply::json(
            200,
            &json!({"id": "ftjob-new", "status": "warming_up", "brand_new": true}),
        ),
        _ => Reply::json(
            200,
            &json!({"object": "list", "data": [
                {"id": "ev-2", "type": "metrics", "data": {"step": 7}},
                {"id": "ev-1", "type": "metrics"},
            ]}),
        ),
    })
    .unwrap();
    let client = openai(&server);
    let job = client.retrieve_job("ftjob-new").unwrap();
    assert_eq!(job.status, JobStatus::Other("warming_up".into()));
    assert_eq!(job.fine_tuned_model, None);
    let events = client.events_since("ftjob-new", None).unwrap();
    assert_eq!(events.len(), 2);
    assert_eq!(events[0].metrics(), None, "no data at all");
    let m = events[1].metrics().unwrap();
    assert_eq!((m.step, m.train_loss, m.valid_loss), (Some(7), None, None));
}

/// 250 events, listed newest first, paged with `after` and `limit`.
fn events_server() -> MockServer {
    let ids: Vec<String> = (1..=250).map(|i| format!("ev-{i:03}")).collect();
    MockServer::start(move |req: &Request| {
        let limit: usize = req
            .query("limit")
            .and_then(|l| l.parse().ok())
            .unwrap_or(20);
        let newest_first: Vec<&String> = ids.iter().rev().collect();
        let start = match req.query("after") {
            Some(after) => newest_first
                .iter()
                .position(|id| *id == after)
                .map_or(0, |p| p + 1),
            None => 0,
        };
        let page: Vec<Value> = newest_first[start..]
            .iter()
            .take(limit)
            .map(|id| json!({"id": id, "type": "message", "message": format!("event {id}")}))
            .collect();
        let has_more = start + page.len() < newest_first.len();
        Reply::json(
            200,
            &json!({"object": "list", "data": page, "has_more": has_more}),
        )
    })
    .expect("the server starts")
}

#[test]
fn events_are_paged_with_after_until_the_last_seen() {
    let server = events_server();
    let client = openai(&server);
    let all = client.events_since("ftjob-1", None).unwrap();
    assert_eq!(all.len(), 250);
    assert_eq!(
        (all[0].id.as_str(), all[249].id.as_str()),
        ("ev-001", "ev-250"),
        "oldest first"
    );
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[0].query("after"), None);
    assert_eq!(reqs[1].query("after"), Some("ev-151"));
    assert_eq!(reqs[2].query("after"), Some("ev-051"));
    assert!(reqs.iter().all(|r| r.query("limit") == Some("100")));

    // A poll after ev-120 reads two pages and stops where it met it.
    let fresh = client.events_since("ftjob-1", Some("ev-120")).unwrap();
    assert_eq!(fresh.len(), 130);
    assert_eq!(fresh[0].id, "ev-121");
    assert_eq!(server.requests().len(), 5);

    // Nothing new: one request.
    assert!(
        client
            .events_since("ftjob-1", Some("ev-250"))
            .unwrap()
            .is_empty()
    );
    assert_eq!(server.requests().len(), 6);
}

#[test]
fn azure_v1_path_api_key_header_and_bom() {
    let server = MockServer::start(script(vec![file_reply("file-az")])).unwrap();
    let client = Client::new(fast(Config::azure(&server.url(), KEY, None))).unwrap();
    assert_eq!(client.provider(), Provider::Azure);
    client.upload_file(&fixture("treino.jsonl")).unwrap();
    // A file that already has a BOM does not get a second one.
    client.upload_file(&fixture("treino-bom.jsonl")).unwrap();

    let reqs = server.requests();
    let original = std::fs::read(fixture("treino.jsonl")).unwrap();
    let with_bom = [BOM, original.as_slice()].concat();
    for req in &reqs {
        assert_eq!(req.target, "/openai/v1/files");
        assert_eq!(req.header("api-key"), Some(KEY));
        assert_eq!(req.header("authorization"), None);
        let parts = req.multipart().unwrap();
        assert_eq!(parts[0].content, b"fine-tune");
        assert_eq!(parts[1].content, with_bom);
    }
}

#[test]
fn azure_dated_path_carries_the_api_version() {
    let server = MockServer::start(script(vec![Reply::json(
        200,
        &json!({"data": [{"id": "ftjob-a", "status": "succeeded", "fine_tuned_model": "gpt-4o-mini.ft-1"}], "has_more": false}),
    )]))
    .unwrap();
    let config = Config::azure(
        &format!("{}/", server.url()),
        KEY,
        Some("2024-10-21".into()),
    );
    let page = Client::new(fast(config))
        .unwrap()
        .list_jobs(Some("ftjob-z"), Some(2))
        .unwrap();
    assert_eq!(
        page.data[0].fine_tuned_model.as_deref(),
        Some("gpt-4o-mini.ft-1")
    );
    assert_eq!(
        server.requests()[0].target,
        "/openai/fine_tuning/jobs?after=ftjob-z&limit=2&api-version=2024-10-21"
    );
}

#[test]
fn large_files_go_through_the_uploads_api_in_parts() {
    let parts_seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&parts_seen);
    let server = MockServer::start(move |req: &Request| match req.path() {
        "/v1/uploads" => Reply::json(200, &json!({"id": "upload_1", "status": "pending"})),
        "/v1/uploads/upload_1/parts" => {
            let n = counter.fetch_add(1, Ordering::SeqCst) + 1;
            Reply::json(200, &json!({"id": format!("part_{n}"), "upload_id": "upload_1"}))
        }
        "/v1/uploads/upload_1/complete" => Reply::json(
            200,
            &json!({"id": "upload_1", "status": "completed", "file": {"id": "file-big", "purpose": "fine-tune"}}),
        ),
        _ => Reply::json(404, &json!({"error": {"message": "unexpected"}})),
    })
    .unwrap();
    let mut config = Config::openai(KEY);
    config.base_url = format!("{}/v1", server.url());
    config.upload_threshold = 1000;
    config.part_size = 1000;
    let file = Client::new(config)
        .unwrap()
        .upload_file(&fixture("treino.jsonl"))
        .unwrap();
    assert_eq!(file.id, "file-big");

    let original = std::fs::read(fixture("treino.jsonl")).unwrap();
    let reqs = server.requests();
    let create = reqs[0].json().unwrap();
    assert_eq!(create["purpose"], "fine-tune");
    assert_eq!(create["filename"], "treino.jsonl");
    assert_eq!(create["bytes"], original.len());
    let parts: Vec<Vec<u8>> = reqs[1..reqs.len() - 1]
        .iter()
        .map(|r| {
            let mp = r.multipart().unwrap();
            assert_eq!(mp[0].name, "data");
            mp[0].content.clone()
        })
        .collect();
    assert_eq!(parts.len(), original.len().div_ceil(1000));
    assert_eq!(parts.concat(), original);
    let complete = reqs.last().unwrap().json().unwrap();
    assert_eq!(complete["part_ids"], json!(["part_1", "part_2", "part_3"]));
}

#[test]
fn connection_errors_are_retried_then_reported() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut config = Config::openai(KEY);
    config.base_url = format!("http://127.0.0.1:{port}/v1");
    let err = Client::new(fast(config))
        .unwrap()
        .retrieve_job("ftjob-1")
        .unwrap_err();
    assert!(
        matches!(err, Error::Transport { attempts: 3, .. }),
        "{err:?}"
    );
    assert!(err.is_remote());
    assert!(
        err.to_string()
            .starts_with("Reading job `ftjob-1`: could not reach the service after 3 attempts")
    );
}

#[test]
fn plain_http_to_another_host_is_refused() {
    let mut config = Config::openai(KEY);
    config.base_url = "http://api.example.com/v1".into();
    let err = Client::new(config).unwrap_err();
    assert!(matches!(err, Error::InsecureUrl { .. }));
    assert!(!err.is_remote());
}

#[test]
fn checkpoints_read_every_page() {
    let server = MockServer::start(|req: &Request| {
        let page = match req.query("after") {
            None => json!({"data": [{"id": "cp-3", "step_number": 30, "fine_tuned_model_checkpoint": "ft:m:org::x:ckpt-step-30",
                                     "metrics": {"train_loss": 0.4}}], "has_more": true}),
            Some(_) => json!({"data": [{"id": "cp-2"}], "has_more": false}),
        };
        Reply::json(200, &page)
    })
    .unwrap();
    let cps = openai(&server).checkpoints("ftjob-1").unwrap();
    assert_eq!(cps.len(), 2);
    assert_eq!(cps[0].step_number, Some(30));
    assert_eq!(cps[0].metrics.as_ref().unwrap().train_loss, Some(0.4));
    assert_eq!(cps[1].metrics, None);
    assert_eq!(server.requests()[1].query("after"), Some("cp-3"));
}

#[test]
fn cancel_pause_resume_post_to_their_paths() {
    let server = MockServer::start(|req: &Request| {
        let status = req
            .path()
            .rsplit('/')
            .next()
            .unwrap_or_default()
            .replace("cancel", "cancelled");
        Reply::json(200, &json!({"id": "ftjob-1", "status": status}))
    })
    .unwrap();
    let client = openai(&server);
    assert_eq!(
        client.cancel_job("ftjob-1").unwrap().status,
        JobStatus::Cancelled
    );
    assert_eq!(
        client.pause_job("ftjob-1").unwrap().status,
        JobStatus::Other("pause".into())
    );
    client.resume_job("ftjob-1").unwrap();
    let paths: Vec<(String, String)> = server
        .requests()
        .iter()
        .map(|r| (r.method.clone(), r.path().to_owned()))
        .collect();
    assert_eq!(
        paths,
        [
            (
                "POST".to_owned(),
                "/v1/fine_tuning/jobs/ftjob-1/cancel".to_owned()
            ),
            (
                "POST".to_owned(),
                "/v1/fine_tuning/jobs/ftjob-1/pause".to_owned()
            ),
            (
                "POST".to_owned(),
                "/v1/fine_tuning/jobs/ftjob-1/resume".to_owned()
            ),
        ]
    );
}

#[test]
fn any_2xx_is_success() {
    let server =
        MockServer::start(script(vec![Reply::json(202, &json!({"id": "file-x"}))])).unwrap();
    assert_eq!(
        openai(&server).create_file("a.jsonl", b"{}\n").unwrap().id,
        "file-x"
    );
}

// Together AI and Fireworks AI against the fakes of `testing::Service`, which follow each
// provider's documented flow and throttle the first request of every route.

mod services {
    use super::*;
    use afinar_openai::testing::{Outcome, Service};
    use afinar_openai::{TrainingType, follow};
    use sha2::{Digest, Sha256};

    const TOGETHER_KEY: &str = "tk-TOGETHERSECRET42";
    const FIREWORKS_KEY: &str = "fw-FIREWORKSSECRET42";

    fn sha(bytes: &[u8]) -> String {
        format!("{:x}", Sha256::digest(bytes))
    }

    fn together(server: &MockServer) -> Client {
        let mut config = Config::together(TOGETHER_KEY);
        config.base_url = format!("{}/v1", server.url());
        Client::new(fast(config)).expect("loopback http is allowed")
    }

    fn fireworks(server: &MockServer, threshold: u64) -> Client {
        let mut config = Config::fireworks(FIREWORKS_KEY, "contabil");
        config.base_url = server.url();
        config.upload_threshold = threshold;
        config.poll_interval = Duration::from_millis(1);
        Client::new(fast(config)).expect("loopback http is allowed")
    }

    #[test]
    fn together_upload_redirects_to_a_signed_put_without_the_key_then_preprocesses() {
        let (service, log) = Service::together(TOGETHER_KEY, Outcome::Succeed);
        let server = MockServer::start_with(|url| service.handler(url)).unwrap();
        let client = together(&server);
        let path = fixture("treino.jsonl");
        let file = client.upload_file(&path).unwrap();
        assert_eq!(file.id, "file-0001");
        let log = log.lock().unwrap();
        assert_eq!(log.uploads.len(), 1);
        assert_eq!(log.uploads[0].how, "signed-put");
        assert_eq!(log.uploads[0].name, "treino.jsonl");
        assert_eq!(
            sha(&log.uploads[0].bytes),
            sha(&std::fs::read(&path).unwrap())
        );
        assert_eq!(log.keyed_puts, 0, "the signed PUT carried the key");
        let reqs = server.requests();
        let put = reqs.iter().find(|r| r.method == "PUT").unwrap();
        assert!(put.header("authorization").is_none());
        assert!(put.target.contains("X-Amz-Signature"));
        let post = reqs.iter().rfind(|r| r.path() == "/v1/files").unwrap();
        assert_eq!(
            post.text(),
            "purpose=fine-tune&file_name=treino.jsonl&file_type=jsonl"
        );
        assert_eq!(
            post.header("content-type"),
            Some("application/x-www-form-urlencoded")
        );
        // POST /files, PUT and preprocess were each throttled once, then retried.
        assert_eq!(log.throttled, 3);
        assert!(reqs.iter().all(|r| !r.text().contains("TOGETHERSECRET")));
    }

    #[test]
    fn together_job_is_created_with_its_fields_and_followed_to_success() {
        let (service, log) = Service::together(TOGETHER_KEY, Outcome::Succeed);
        let server = MockServer::start_with(|url| service.handler(url)).unwrap();
        let client = together(&server);
        let training = client.upload_file(&fixture("treino.jsonl")).unwrap();
        let validation = client.upload_file(&fixture("validacao.jsonl")).unwrap();
        let job = client
            .create_job(&JobRequest {
                model: "Qwen/Qwen3-8B".into(),
                training_file: training.id.clone(),
                validation_file: Some(validation.id.clone()),
                suffix: Some("simples".into()),
                hyperparameters: Hyperparameters {
                    n_epochs: Some(2),
                    learning_rate: Some(0.0001),
                    lora_rank: Some(16),
                    ..Default::default()
                },
                training_type: Some(TrainingType::Lora),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(job.status, JobStatus::Queued);
        let body = &log.lock().unwrap().jobs_created[0].clone();
        assert_eq!(body["training_file"], training.id);
        assert_eq!(body["validation_file"], validation.id);
        assert_eq!(body["n_epochs"], 2);
        assert_eq!(body["learning_rate"], 0.0001);
        assert_eq!(body["training_type"]["lora_r"], 16);
        assert_eq!(body["training_method"]["method"], "sft");
        let mut seen = Vec::new();
        let done = follow::follow(&client, &job.id, Duration::ZERO, &mut |p| {
            if let follow::Progress::Event(e) = p {
                seen.push(e.message.clone().unwrap_or_default());
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(done.job.status, JobStatus::Succeeded);
        assert_eq!(
            done.job.fine_tuned_model.as_deref(),
            Some("contabil/Qwen3-8B-simples")
        );
        assert_eq!(
            seen,
            [
                "Fine tune request created",
                "Training started for model",
                "Job finished; model uploaded"
            ]
        );
        assert_eq!(log.lock().unwrap().jobs_created.len(), 1);
    }

    #[test]
    fn a_failed_together_job_carries_the_services_message() {
        let (service, _) = Service::together(
            TOGETHER_KEY,
            Outcome::Fail("Line 4: roles must alternate between user and assistant".into()),
        );
        let server = MockServer::start_with(|url| service.handler(url)).unwrap();
        let client = together(&server);
        let file = client.upload_file(&fixture("treino.jsonl")).unwrap();
        let job = client
            .create_job(&JobRequest {
                model: "m".into(),
                training_file: file.id,
                ..Default::default()
            })
            .unwrap();
        let done = follow::follow(&client, &job.id, Duration::ZERO, &mut |_| Ok(())).unwrap();
        assert_eq!(done.job.status, JobStatus::Failed);
        assert_eq!(
            follow::why_not(&done.job),
            "failed: Line 4: roles must alternate between user and assistant (code `JOB_ERROR`)"
        );
    }

    #[test]
    fn together_refuses_files_over_its_single_upload_before_any_request() {
        let (service, _) = Service::together(TOGETHER_KEY, Outcome::Succeed);
        let server = MockServer::start_with(|url| service.handler(url)).unwrap();
        let mut config = Config::together(TOGETHER_KEY);
        config.base_url = format!("{}/v1", server.url());
        config.upload_threshold = 100;
        let client = Client::new(config).unwrap();
        let err = client.upload_file(&fixture("treino.jsonl")).unwrap_err();
        assert!(matches!(err, Error::Unsupported { .. }), "{err}");
        assert!(!err.is_remote());
        assert!(err.to_string().contains("multipart"), "{err}");
        assert!(server.requests().is_empty());
    }

    #[test]
    fn fireworks_small_dataset_goes_through_upload_and_is_ready() {
        let (service, log) = Service::fireworks(FIREWORKS_KEY, "contabil", Outcome::Succeed);
        let server = MockServer::start_with(|url| service.handler(url)).unwrap();
        let client = fireworks(&server, 150 * 1024 * 1024);
        let path = fixture("treino.jsonl");
        let file = client.upload_file(&path).unwrap();
        assert!(
            file.id.starts_with("accounts/contabil/datasets/treino-"),
            "{}",
            file.id
        );
        assert_eq!(file.status.as_deref(), Some("READY"));
        let log = log.lock().unwrap();
        assert_eq!(log.uploads[0].how, "multipart");
        assert_eq!(
            sha(&log.uploads[0].bytes),
            sha(&std::fs::read(&path).unwrap())
        );
        let create = server
            .requests()
            .into_iter()
            .find(|r| r.path() == "/v1/accounts/contabil/datasets" && r.method == "POST")
            .unwrap();
        assert_eq!(create.json().unwrap()["dataset"]["exampleCount"], "10");
    }

    #[test]
    fn fireworks_large_dataset_uses_a_signed_url_validate_and_polls_until_ready() {
        let (service, log) = Service::fireworks(FIREWORKS_KEY, "contabil", Outcome::Succeed);
        let server = MockServer::start_with(|url| service.handler(url)).unwrap();
        let client = fireworks(&server, 100);
        let path = fixture("validacao.jsonl");
        let file = client.upload_file(&path).unwrap();
        assert_eq!(file.status.as_deref(), Some("READY"));
        let log = log.lock().unwrap();
        assert_eq!(log.uploads[0].how, "signed-put");
        assert_eq!(
            sha(&log.uploads[0].bytes),
            sha(&std::fs::read(&path).unwrap())
        );
        assert_eq!(log.keyed_puts, 0);
        assert_eq!(log.not_ready_polls, 1, "it waited for READY");
        let reqs = server.requests();
        let verbs: Vec<&str> = reqs
            .iter()
            .filter_map(|r| r.path().rsplit_once(':').map(|(_, v)| v))
            .collect();
        assert!(verbs.contains(&"getUploadEndpoint") && verbs.contains(&"validateUpload"));
        let put = reqs.iter().rfind(|r| r.method == "PUT").unwrap();
        assert!(put.header("authorization").is_none());
        assert_eq!(put.header("content-type"), Some("application/octet-stream"));
    }

    #[test]
    fn fireworks_job_followed_to_completion_or_failure() {
        for outcome in [
            Outcome::Succeed,
            Outcome::Fail("Dataset has no assistant turn".into()),
        ] {
            let (service, log) = Service::fireworks(FIREWORKS_KEY, "contabil", outcome.clone());
            let server = MockServer::start_with(|url| service.handler(url)).unwrap();
            let client = fireworks(&server, 150 * 1024 * 1024);
            let data = client.upload_file(&fixture("treino.jsonl")).unwrap();
            let job = client
                .create_job(&JobRequest {
                    model: "qwen3-8b".into(),
                    training_file: data.id.clone(),
                    suffix: Some("faq-simples".into()),
                    hyperparameters: Hyperparameters {
                        n_epochs: Some(2),
                        learning_rate: Some(0.0001),
                        lora_rank: Some(8),
                        ..Default::default()
                    },
                    ..Default::default()
                })
                .unwrap();
            let body = log.lock().unwrap().jobs_created[0].clone();
            assert_eq!(
                body,
                json!({"dataset": data.id, "baseModel": "accounts/fireworks/models/qwen3-8b",
                       "epochs": 2, "learningRate": 0.0001, "loraRank": 8, "outputModel": "faq-simples"})
            );
            let mut progress = Vec::new();
            let done = follow::follow(&client, &job.id, Duration::ZERO, &mut |p| {
                if let follow::Progress::Event(e) = p {
                    progress.push(e.message.clone().unwrap_or_default());
                }
                Ok(())
            })
            .unwrap();
            match outcome {
                Outcome::Succeed => {
                    assert_eq!(done.job.status, JobStatus::Succeeded);
                    assert_eq!(
                        done.job.fine_tuned_model.as_deref(),
                        Some("accounts/contabil/models/faq-simples")
                    );
                    assert_eq!(
                        progress,
                        ["progress 50% (epoch 1)", "progress 100% (epoch 1)"]
                    );
                }
                Outcome::Fail(why) => {
                    assert_eq!(done.job.status, JobStatus::Failed);
                    assert!(follow::why_not(&done.job).contains(&why));
                }
            }
            let err = client.cancel_job(&job.id).unwrap_err();
            assert!(matches!(err, Error::Unsupported { .. }) && !err.is_remote());
        }
    }

    #[test]
    fn wrong_keys_are_401_with_the_variable_to_check() {
        let (service, _) = Service::fireworks("other-key", "contabil", Outcome::Succeed);
        let server = MockServer::start_with(|url| service.handler(url)).unwrap();
        let err = fireworks(&server, 1000).list_jobs(None, None).unwrap_err();
        let text = err.to_string();
        assert!(err.is_remote());
        assert!(
            text.contains("`FIREWORKS_API_KEY`") && text.contains("unauthenticated"),
            "{text}"
        );
        assert!(!text.contains("FIREWORKSSECRET"), "{text}");
        assert_eq!(Provider::Fireworks.key_var(), "FIREWORKS_API_KEY");
    }
}
