//! Fake Together AI and Fireworks AI services for [`MockServer::start_with`]: each
//! follows the provider's documented flow (Together's 302 to a signed `PUT` and
//! preprocess; Fireworks' dataset, `:upload` or signed URL, `READY`), answers the first
//! request of every route with a 429 (`retry-after-ms: 1`) so retries are exercised, and
//! refuses a signed `PUT` that carries an `Authorization` header.
//!
//! ```
//! use afinar_openai::testing::{MockServer, Outcome, Service};
//! use afinar_openai::{Client, Config};
//!
//! let (service, log) = Service::together("tk-test", Outcome::Succeed);
//! let server = MockServer::start_with(|url| service.handler(url)).unwrap();
//! let mut config = Config::together("tk-test");
//! config.base_url = format!("{}/v1", server.url());
//! config.retry.base_delay = std::time::Duration::from_millis(1);
//! let client = Client::new(config).unwrap();
//! let jobs = client.list_jobs(None, None).unwrap();
//! assert!(jobs.data.is_empty());
//! assert!(log.lock().unwrap().throttled >= 1);
//! ```

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use serde_json::{Value, json};

use super::{Reply, Request};

/// How the fake's jobs end.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Succeed,
    /// Fails with this message (the provider's own words for why).
    Fail(String),
}

/// One file's bytes as the fake received them.
#[derive(Debug, Clone, PartialEq)]
pub struct Uploaded {
    /// The file id (Together) or dataset id (Fireworks).
    pub id: String,
    pub name: String,
    pub bytes: Vec<u8>,
    /// How it came: `signed-put` or `multipart`.
    pub how: &'static str,
}

/// What the fake saw, for assertions.
#[derive(Debug, Default)]
pub struct ServiceLog {
    pub uploads: Vec<Uploaded>,
    /// The bodies of the job-creation requests.
    pub jobs_created: Vec<Value>,
    /// Requests answered 429 (the first of each route).
    pub throttled: usize,
    /// Signed `PUT`s refused for carrying the key.
    pub keyed_puts: usize,
    /// Dataset polls answered `UPLOADING`.
    pub not_ready_polls: usize,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Together,
    Fireworks,
}

/// A fake provider; [`Service::handler`] gives the request handler.
#[derive(Debug, Clone)]
pub struct Service {
    kind: Kind,
    key: String,
    account: String,
    outcome: Outcome,
    log: Arc<Mutex<ServiceLog>>,
}

type Log = Arc<Mutex<ServiceLog>>;

impl Service {
    /// Together AI, under `/v1`, taking `Bearer {key}`.
    pub fn together(key: &str, outcome: Outcome) -> (Service, Log) {
        Service::new(Kind::Together, key, "", outcome)
    }

    /// Fireworks AI for `account`, taking `Bearer {key}`.
    pub fn fireworks(key: &str, account: &str, outcome: Outcome) -> (Service, Log) {
        Service::new(Kind::Fireworks, key, account, outcome)
    }

    fn new(kind: Kind, key: &str, account: &str, outcome: Outcome) -> (Service, Log) {
        let log = Arc::new(Mutex::new(ServiceLog::default()));
        (
            Service {
                kind,
                key: key.to_owned(),
                account: account.to_owned(),
                outcome,
                log: Arc::clone(&log),
            },
            log,
        )
    }

    /// The handler, for a server at `url`.
    pub fn handler(self, url: String) -> impl FnMut(&Request) -> Reply + Send + 'static {
        let mut state = State {
            service: self,
            url,
            seen: HashSet::new(),
            files: BTreeMap::new(),
            datasets: BTreeMap::new(),
            jobs: BTreeMap::new(),
            next: 0,
        };
        move |req: &Request| state.answer(req)
    }
}

struct Job {
    body: Value,
    polls: u32,
    cancelled: bool,
}

struct State {
    service: Service,
    url: String,
    seen: HashSet<String>,
    /// Together: id → (name, bytes once PUT)
    files: BTreeMap<String, (String, Option<Vec<u8>>)>,
    /// Fireworks: id → (state, bytes once uploaded, polls answered UPLOADING)
    datasets: BTreeMap<String, (String, Option<Vec<u8>>)>,
    jobs: BTreeMap<String, Job>,
    next: u32,
}

fn error(status: u16, message: &str) -> Reply {
    Reply::json(
        status,
        &json!({"error": {"message": message, "type": "invalid_request_error"}}),
    )
}

fn grpc_error(status: u16, code: u32, message: &str) -> Reply {
    Reply::json(
        status,
        &json!({"code": code, "message": message, "details": []}),
    )
}

impl State {
    fn log(&self) -> std::sync::MutexGuard<'_, ServiceLog> {
        self.service
            .log
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn id(&mut self, prefix: &str) -> String {
        self.next += 1;
        format!("{prefix}-{:04}", self.next)
    }

    fn answer(&mut self, req: &Request) -> Reply {
        // The first request of each route is rate limited.
        let route = format!("{} {}", req.method, req.path());
        if self.seen.insert(route) {
            self.log().throttled += 1;
            return error(429, "Rate limit reached; slow down").header("retry-after-ms", "1");
        }
        if req.path().starts_with("/signed/") {
            return self.signed_put(req);
        }
        let authorised =
            req.header("authorization") == Some(&format!("Bearer {}", self.service.key));
        if !authorised {
            return match self.service.kind {
                Kind::Together => error(401, "Invalid API key provided"),
                Kind::Fireworks => grpc_error(401, 16, "unauthenticated: invalid API key"),
            };
        }
        match self.service.kind {
            Kind::Together => self.together(req),
            Kind::Fireworks => self.fireworks(req),
        }
    }

    fn signed_put(&mut self, req: &Request) -> Reply {
        if req.method != "PUT" {
            return Reply::text(405, "Method not allowed");
        }
        if req.header("authorization").is_some() {
            self.log().keyed_puts += 1;
            return Reply::text(
                400,
                "<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed</Message></Error>",
            );
        }
        let id = req.path().rsplit('/').next().unwrap_or_default().to_owned();
        match self.service.kind {
            Kind::Together => {
                let Some((name, bytes)) = self.files.get_mut(&id) else {
                    return Reply::text(403, "SignatureDoesNotMatch");
                };
                *bytes = Some(req.body.clone());
                let name = name.clone();
                self.log().uploads.push(Uploaded {
                    id,
                    name,
                    bytes: req.body.clone(),
                    how: "signed-put",
                });
            }
            Kind::Fireworks => {
                let len = req.body.len();
                if req.header("x-goog-content-length-range") != Some(&format!("{len},{len}")) {
                    return Reply::text(400, "x-goog-content-length-range does not match the body");
                }
                let Some((state, bytes)) = self.datasets.get_mut(&id) else {
                    return Reply::text(403, "SignatureDoesNotMatch");
                };
                *bytes = Some(req.body.clone());
                *state = "UPLOADED".into();
                self.log().uploads.push(Uploaded {
                    id: id.clone(),
                    name: id,
                    bytes: req.body.clone(),
                    how: "signed-put",
                });
            }
        }
        Reply::text(200, "")
    }

    fn together(&mut self, req: &Request) -> Reply {
        let path = req
            .path()
            .strip_prefix("/v1")
            .unwrap_or_default()
            .to_owned();
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match (req.method.as_str(), parts.as_slice()) {
            ("POST", ["files"]) => {
                let form: BTreeMap<String, String> = req
                    .text()
                    .split('&')
                    .filter_map(|kv| kv.split_once('='))
                    .map(|(k, v)| (k.to_owned(), decode(v)))
                    .collect();
                if form.get("purpose").map(String::as_str) != Some("fine-tune")
                    || form.get("file_type").map(String::as_str) != Some("jsonl")
                    || !form.contains_key("file_name")
                {
                    return error(400, "purpose, file_name and file_type are required");
                }
                let id = self.id("file");
                self.files
                    .insert(id.clone(), (form["file_name"].clone(), None));
                Reply {
                    status: 302,
                    headers: vec![
                        (
                            "Location".into(),
                            format!("{}/signed/together/{id}?X-Amz-Signature=f00", self.url),
                        ),
                        ("X-Together-File-Id".into(), id),
                    ],
                    body: Vec::new(),
                }
            }
            ("POST", ["files", id, "preprocess"]) => match self.files.get(*id) {
                Some((name, Some(bytes))) => Reply::json(
                    200,
                    &json!({"id": id, "object": "file", "filename": name, "bytes": bytes.len(),
                            "purpose": "fine-tune", "FileType": "jsonl", "Processed": true}),
                ),
                Some((_, None)) => error(400, "The file has no content yet; upload it first"),
                None => error(404, &format!("File {id} not found")),
            },
            ("POST", ["fine-tunes"]) => {
                let body = req.json().unwrap_or(Value::Null);
                for key in ["training_file", "validation_file"] {
                    if let Some(f) = body.get(key).and_then(Value::as_str)
                        && !matches!(self.files.get(f), Some((_, Some(_))))
                    {
                        return error(400, &format!("Invalid {key}: file {f} not found"));
                    }
                }
                self.log().jobs_created.push(body.clone());
                let id = self.id("ft");
                self.jobs.insert(
                    id.clone(),
                    Job {
                        body,
                        polls: 0,
                        cancelled: false,
                    },
                );
                Reply::json(200, &self.together_job(&id))
            }
            ("GET", ["fine-tunes"]) => {
                let data: Vec<Value> = self.jobs.keys().map(|id| self.together_job(id)).collect();
                Reply::json(200, &json!({"data": data}))
            }
            ("GET", ["fine-tunes", id]) if self.jobs.contains_key(*id) => {
                let id = id.to_string();
                if let Some(j) = self.jobs.get_mut(&id) {
                    j.polls += 1;
                }
                Reply::json(200, &self.together_job(&id))
            }
            ("GET", ["fine-tunes", id, "events"]) if self.jobs.contains_key(*id) => {
                Reply::json(200, &json!({"data": self.together_events(id)}))
            }
            ("POST", ["fine-tunes", id, "cancel"]) if self.jobs.contains_key(*id) => {
                let id = id.to_string();
                if let Some(j) = self.jobs.get_mut(&id) {
                    j.cancelled = true;
                }
                Reply::json(200, &self.together_job(&id))
            }
            _ => error(404, &format!("Unknown route {} {}", req.method, req.path())),
        }
    }

    /// pending → running → completed or error, one step per poll.
    fn together_status(&self, id: &str) -> &'static str {
        let j = &self.jobs[id];
        if j.cancelled {
            return "cancelled";
        }
        match (j.polls, &self.service.outcome) {
            (0, _) => "pending",
            (1, _) => "running",
            (_, Outcome::Succeed) => "completed",
            (_, Outcome::Fail(_)) => "error",
        }
    }

    fn together_job(&self, id: &str) -> Value {
        let j = &self.jobs[id];
        let status = self.together_status(id);
        let model = j.body["model"].clone();
        let output = (status == "completed").then(|| {
            format!(
                "contabil/{}-{}",
                model
                    .as_str()
                    .unwrap_or_default()
                    .rsplit('/')
                    .next()
                    .unwrap_or_default(),
                j.body["suffix"].as_str().unwrap_or("ft")
            )
        });
        json!({"id": id, "status": status, "model": model, "model_output_name": output,
               "training_file": j.body["training_file"], "validation_file": j.body["validation_file"],
               "n_epochs": j.body["n_epochs"], "learning_rate": j.body["learning_rate"],
               "training_type": j.body["training_type"],
               "created_at": "2026-12-01T10:00:00.000Z", "updated_at": "2026-12-01T10:05:00.000Z"})
    }

    fn together_events(&self, id: &str) -> Vec<Value> {
        let status = self.together_status(id);
        let event = |n: u32, level: &str, kind: &str, message: &str| {
            json!({"object": "fine-tune-event", "created_at": format!("2026-12-01T10:0{n}:00.000Z"),
                   "level": level, "type": kind, "message": message, "hash": format!("{id}-ev{n}")})
        };
        let mut events = vec![event(0, "Info", "JOB_PENDING", "Fine tune request created")];
        if status != "pending" {
            events.push(event(
                1,
                "Info",
                "TRAINING_START",
                "Training started for model",
            ));
        }
        match (status, &self.service.outcome) {
            ("completed", _) => events.push(event(
                2,
                "Info",
                "JOB_COMPLETE",
                "Job finished; model uploaded",
            )),
            ("error", Outcome::Fail(why)) => events.push(event(2, "Error", "JOB_ERROR", why)),
            _ => {}
        }
        events
    }

    fn fireworks(&mut self, req: &Request) -> Reply {
        let prefix = format!("/v1/accounts/{}/", self.service.account);
        let Some(rest) = req.path().strip_prefix(&prefix) else {
            return grpc_error(404, 5, &format!("account not found: {}", req.path()));
        };
        let rest = rest.to_owned();
        let (resource, verb) = match rest.split_once(':') {
            Some((r, v)) => (r.to_owned(), Some(v.to_owned())),
            None => (rest.clone(), None),
        };
        let parts: Vec<&str> = resource.split('/').collect();
        let account = self.service.account.clone();
        match (req.method.as_str(), parts.as_slice(), verb.as_deref()) {
            ("POST", ["datasets"], None) => {
                let body = req.json().unwrap_or(Value::Null);
                let Some(id) = body["datasetId"].as_str().map(str::to_owned) else {
                    return grpc_error(400, 3, "datasetId is required");
                };
                if body.pointer("/dataset/userUploaded").is_none() {
                    return grpc_error(400, 3, "dataset.userUploaded is required for uploads");
                }
                if self.datasets.contains_key(&id) {
                    return grpc_error(409, 6, "dataset already exists");
                }
                self.datasets.insert(id.clone(), ("UPLOADING".into(), None));
                Reply::json(
                    200,
                    &json!({"name": format!("accounts/{account}/datasets/{id}"),
                    "state": "UPLOADING", "exampleCount": body["dataset"]["exampleCount"]}),
                )
            }
            ("POST", ["datasets", id], Some("upload")) => {
                let Some(parts) = req.multipart() else {
                    return grpc_error(400, 3, "expected multipart/form-data");
                };
                let Some(file) = parts.into_iter().find(|p| p.name == "file") else {
                    return grpc_error(400, 3, "no `file` part");
                };
                let Some(entry) = self.datasets.get_mut(*id) else {
                    return grpc_error(404, 5, "dataset not found");
                };
                *entry = ("READY".into(), Some(file.content.clone()));
                self.log().uploads.push(Uploaded {
                    id: id.to_string(),
                    name: file.filename.unwrap_or_default(),
                    bytes: file.content,
                    how: "multipart",
                });
                Reply::json(200, &json!({"filenameToSize": {}}))
            }
            ("POST", ["datasets", id], Some("getUploadEndpoint")) => {
                if !self.datasets.contains_key(*id) {
                    return grpc_error(404, 5, "dataset not found");
                }
                let body = req.json().unwrap_or(Value::Null);
                let Some(map) = body["filenameToSize"].as_object() else {
                    return grpc_error(400, 3, "filenameToSize is required");
                };
                let urls: serde_json::Map<String, Value> = map
                    .keys()
                    .map(|name| {
                        (
                            name.clone(),
                            json!(format!(
                                "{}/signed/fireworks/{id}?X-Goog-Signature=b4d",
                                self.url
                            )),
                        )
                    })
                    .collect();
                Reply::json(200, &json!({"filenameToSignedUrls": urls}))
            }
            ("POST", ["datasets", id], Some("validateUpload")) => {
                match self.datasets.get_mut(*id) {
                    Some((state, Some(_))) => {
                        // Ready after one more poll: the client must wait for it.
                        *state = "VALIDATING".into();
                        Reply::json(200, &json!({}))
                    }
                    Some((_, None)) => grpc_error(400, 9, "no file was uploaded to the signed URL"),
                    None => grpc_error(404, 5, "dataset not found"),
                }
            }
            ("GET", ["datasets", id], None) => {
                let Some((state, _)) = self.datasets.get_mut(*id) else {
                    return grpc_error(404, 5, "dataset not found");
                };
                let shown = if state == "VALIDATING" {
                    *state = "READY".into();
                    "UPLOADING"
                } else {
                    state.as_str()
                };
                let shown = shown.to_owned();
                if shown == "UPLOADING" {
                    self.log().not_ready_polls += 1;
                }
                Reply::json(
                    200,
                    &json!({"name": format!("accounts/{account}/datasets/{id}"), "state": shown}),
                )
            }
            ("POST", ["supervisedFineTuningJobs"], None) => {
                let body = req.json().unwrap_or(Value::Null);
                for key in ["dataset", "evaluationDataset"] {
                    if let Some(name) = body.get(key).and_then(Value::as_str) {
                        let id = name.rsplit('/').next().unwrap_or_default();
                        if !matches!(self.datasets.get(id), Some((s, _)) if s == "READY") {
                            return grpc_error(400, 9, &format!("{key} {name} is not READY"));
                        }
                    }
                }
                if !body["baseModel"]
                    .as_str()
                    .is_some_and(|m| m.starts_with("accounts/"))
                {
                    return grpc_error(
                        400,
                        3,
                        "baseModel must be a model name (accounts/…/models/…)",
                    );
                }
                self.log().jobs_created.push(body.clone());
                let id = self.id("sftj");
                self.jobs.insert(
                    id.clone(),
                    Job {
                        body,
                        polls: 0,
                        cancelled: false,
                    },
                );
                Reply::json(200, &self.fireworks_job(&id))
            }
            ("GET", ["supervisedFineTuningJobs"], None) => {
                let data: Vec<Value> = self.jobs.keys().map(|id| self.fireworks_job(id)).collect();
                Reply::json(
                    200,
                    &json!({"supervisedFineTuningJobs": data, "nextPageToken": "", "totalSize": data.len()}),
                )
            }
            ("GET", ["supervisedFineTuningJobs", id], None) if self.jobs.contains_key(*id) => {
                let id = id.to_string();
                if let Some(j) = self.jobs.get_mut(&id) {
                    j.polls += 1;
                }
                Reply::json(200, &self.fireworks_job(&id))
            }
            _ => grpc_error(
                404,
                5,
                &format!("unknown route {} {}", req.method, req.path()),
            ),
        }
    }

    /// CREATING → RUNNING (50 %) → COMPLETED or FAILED; the follow loop reads the job
    /// twice per poll (state, then progress), so each state lasts two reads.
    fn fireworks_job(&self, id: &str) -> Value {
        let j = &self.jobs[id];
        let account = &self.service.account;
        let (state, percent) = match (j.polls, &self.service.outcome) {
            (0, _) => ("JOB_STATE_CREATING", None),
            (1..=2, _) => ("JOB_STATE_RUNNING", Some(50)),
            (_, Outcome::Succeed) => ("JOB_STATE_COMPLETED", Some(100)),
            (_, Outcome::Fail(_)) => ("JOB_STATE_FAILED", Some(50)),
        };
        let mut job = json!({
            "name": format!("accounts/{account}/supervisedFineTuningJobs/{id}"),
            "state": state, "dataset": j.body["dataset"], "baseModel": j.body["baseModel"],
            "epochs": j.body["epochs"], "learningRate": j.body["learningRate"],
            "loraRank": j.body["loraRank"], "createTime": "2026-12-01T10:00:00Z",
            "outputModel": j.body.get("outputModel").cloned()
                .map(|m| json!(format!("accounts/{account}/models/{}", m.as_str().unwrap_or_default())))
                .unwrap_or(json!(format!("accounts/{account}/models/{id}"))),
        });
        if let Some(p) = percent {
            job["jobProgress"] = json!({"percent": p, "epoch": 0});
        }
        if let (Outcome::Fail(why), "JOB_STATE_FAILED") = (&self.service.outcome, state) {
            job["status"] = json!({"code": "INVALID_ARGUMENT", "message": why});
        }
        job
    }
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 3;
                    }
                    Err(_) => {
                        out.push(b'%');
                        i += 1;
                    }
                }
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
