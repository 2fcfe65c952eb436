//! Fireworks AI: datasets (`:upload`, or a signed URL plus `:validateUpload`) and
//! supervised fine-tuning jobs, under `/v1/accounts/{account}`. The flow is the one
//! fw-ai-external/python-sdk documents (`resources/datasets.py`,
//! `resources/supervised_fine_tuning_jobs.py`, its README's upload recipe).

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::client::{Client, file_name};
use crate::config::encode_segment;
use crate::error::Error;
use crate::multipart::Form;
use crate::request::JobRequest;
use crate::transport::{Auth, Body, Method};
use crate::types::{Event, FileObject, Job, JobError, JobStatus, Page, parse_time};

/// How long a dataset may stay `UPLOADING` before afinar gives up waiting.
const READY_WAIT: Duration = Duration::from_secs(30 * 60);

/// Fireworks' job states in afinar's words.
pub(crate) fn status(s: &str) -> JobStatus {
    match s.trim_start_matches("JOB_STATE_") {
        "COMPLETED" | "EARLY_STOPPED" => JobStatus::Succeeded,
        "FAILED" | "FAILED_CLEANING_UP" | "EXPIRED" => JobStatus::Failed,
        "CANCELLED" => JobStatus::Cancelled,
        "RUNNING" | "WRITING_RESULTS" | "VALIDATING" | "EVALUATION" | "ROLLOUT" => {
            JobStatus::Running
        }
        "CREATING" | "PENDING" | "RE_QUEUEING" | "CREATING_INPUT_DATASET" | "IDLE" => {
            JobStatus::Queued
        }
        "PAUSED" => JobStatus::Paused,
        _ => JobStatus::Other(s.to_owned()),
    }
}

/// The last segment of `accounts/a/supervisedFineTuningJobs/ID` (an id stays as it is).
pub(crate) fn short_id(name: &str) -> &str {
    name.rsplit('/').next().unwrap_or(name)
}

/// A job object as a [`Job`]: its id is the name's last segment.
pub(crate) fn job(value: Value) -> Job {
    let text = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_owned);
    let state = text("state").unwrap_or_default();
    let status = if state.is_empty() {
        JobStatus::Missing
    } else {
        status(&state)
    };
    let error = (status == JobStatus::Failed)
        .then(|| {
            let s = value.get("status")?;
            let message = s.get("message").and_then(Value::as_str)?.to_owned();
            Some(JobError {
                code: s
                    .get("code")
                    .map(|c| c.as_str().map_or(c.to_string(), str::to_owned)),
                message: Some(message),
                param: None,
            })
        })
        .flatten();
    let mut extra = Map::new();
    extra.insert("provider".into(), json!("fireworks"));
    if let Value::Object(map) = &value {
        for (k, v) in map {
            // `status` is Fireworks' error object; afinar's status is the typed one.
            let key = if k == "status" {
                "provider_status"
            } else {
                k.as_str()
            };
            extra.insert(key.to_owned(), v.clone());
        }
    }
    Job {
        id: text("name")
            .map(|n| short_id(&n).to_owned())
            .unwrap_or_default(),
        status,
        model: text("baseModel"),
        fine_tuned_model: text("outputModel"),
        created_at: text("createTime").and_then(|t| parse_time(&t)),
        finished_at: text("completedTime").and_then(|t| parse_time(&t)),
        estimated_finish: None,
        training_file: text("dataset"),
        validation_file: text("evaluationDataset"),
        trained_tokens: None,
        error,
        seed: None,
        hyperparameters: None,
        method: None,
        extra,
    }
}

/// A dataset id from the file's name: lowercase letters, digits and `-`, made unique.
fn dataset_id(path: &Path) -> String {
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    let mut slug = String::new();
    for c in stem.chars() {
        let c = match c {
            'á' | 'à' | 'â' | 'ã' => 'a',
            'é' | 'ê' => 'e',
            'í' => 'i',
            'ó' | 'ô' | 'õ' => 'o',
            'ú' | 'ü' => 'u',
            'ç' => 'c',
            c if c.is_ascii_alphanumeric() => c,
            _ => '-',
        };
        if !(c == '-' && (slug.is_empty() || slug.ends_with('-'))) {
            slug.push(c);
        }
    }
    let slug: String = slug.trim_matches('-').chars().take(40).collect();
    let slug = if slug.is_empty() {
        "dataset".to_owned()
    } else {
        slug
    };
    let tag: String = (0..8)
        .map(|_| {
            let n = fastrand::u8(0..36);
            char::from_digit(n.into(), 36).unwrap_or('0')
        })
        .collect();
    format!("{}-{tag}", slug.trim_end_matches('-'))
}

fn count_examples(path: &Path) -> Result<u64, Error> {
    let io = |source| Error::Io {
        path: path.to_owned(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut n = 0;
    for line in BufReader::new(file).split(b'\n') {
        if !line.map_err(io)?.iter().all(u8::is_ascii_whitespace) {
            n += 1;
        }
    }
    Ok(n)
}

impl Client {
    fn account_url(&self, tail: &str) -> String {
        let c = self.config();
        c.url(&c.account_path(tail), &[])
    }

    /// Creates a dataset from `path` and waits until it is `READY`; the file's "id" is
    /// the dataset's name, `accounts/{a}/datasets/{id}`.
    pub(crate) fn fireworks_upload(&self, path: &Path) -> Result<FileObject, Error> {
        let name = file_name(path);
        let io = |source| Error::Io {
            path: path.to_owned(),
            source,
        };
        let len = std::fs::metadata(path).map_err(io)?.len();
        let examples = count_examples(path)?;
        let id = dataset_id(path);
        let seg = encode_segment(&id);
        let what = || format!("Uploading `{name}`");
        let created: Value = self.post_json(
            &self.config().account_path("/datasets"),
            &json!({"datasetId": id, "dataset": {"userUploaded": {}, "exampleCount": examples.to_string()}}),
            &|| format!("Creating dataset `{id}` for `{name}`"),
        )?;
        if len < self.config().upload_threshold {
            let bytes = std::fs::read(path).map_err(io)?;
            let mut form = Form::with_capacity(bytes.len());
            form.file("file", &name, "application/octet-stream", &[&bytes]);
            let (content_type, body) = form.finish();
            self.transport.send(
                Method::Post,
                &self.account_url(&format!("/datasets/{seg}:upload")),
                &Body::Multipart(content_type, &body),
                &what,
            )?;
        } else {
            let endpoint: Value = self.post_json(
                &self
                    .config()
                    .account_path(&format!("/datasets/{seg}:getUploadEndpoint")),
                &json!({"filenameToSize": {name.clone(): len.to_string()}}),
                &what,
            )?;
            let Some(url) = endpoint
                .get("filenameToSignedUrls")
                .and_then(|m| m.get(&name))
                .and_then(Value::as_str)
            else {
                return Err(Error::NotReady {
                    what: what(),
                    message: format!("the service gave no upload address for `{name}`"),
                });
            };
            self.transport.exchange(
                Method::Put,
                url,
                &Body::File(path, len),
                Auth::Signed,
                &[
                    ("Content-Type", "application/octet-stream".to_owned()),
                    ("x-goog-content-length-range", format!("{len},{len}")),
                ],
                false,
                &|| format!("Sending the bytes of `{name}`"),
            )?;
            let _: Value = self.post_json(
                &self
                    .config()
                    .account_path(&format!("/datasets/{seg}:validateUpload")),
                &json!({}),
                &|| format!("Validating the upload of `{name}`"),
            )?;
        }
        let ready = self.fireworks_wait_ready(&id, &name)?;
        let dataset_name = ready
            .get("name")
            .or_else(|| created.get("name"))
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| {
                format!(
                    "accounts/{}/datasets/{id}",
                    self.config().account.as_deref().unwrap_or_default()
                )
            });
        let mut extra = Map::new();
        extra.insert("provider".into(), json!("fireworks"));
        extra.insert("exampleCount".into(), json!(examples.to_string()));
        Ok(FileObject {
            id: dataset_name,
            bytes: Some(len),
            created_at: None,
            filename: Some(name),
            purpose: Some("fine-tune".into()),
            status: ready
                .get("state")
                .and_then(Value::as_str)
                .map(str::to_owned),
            extra,
        })
    }

    fn fireworks_wait_ready(&self, id: &str, name: &str) -> Result<Value, Error> {
        let start = Instant::now();
        let poll = self.config().poll_interval;
        loop {
            let dataset: Value = self.get(
                &self
                    .config()
                    .account_path(&format!("/datasets/{}", encode_segment(id))),
                &[],
                &|| format!("Reading dataset `{id}`"),
            )?;
            match dataset.get("state").and_then(Value::as_str) {
                Some("READY") => return Ok(dataset),
                Some("UPLOADING") | Some("STATE_UNSPECIFIED") | None
                    if start.elapsed() < READY_WAIT =>
                {
                    std::thread::sleep(poll);
                }
                other => {
                    let why = dataset
                        .pointer("/status/message")
                        .and_then(Value::as_str)
                        .map(|m| format!(": {m}"))
                        .unwrap_or_default();
                    return Err(Error::NotReady {
                        what: format!("Dataset `{id}` for `{name}`"),
                        message: format!(
                            "is `{}`, not `READY`{why}",
                            other.unwrap_or("without a state")
                        ),
                    });
                }
            }
        }
    }

    pub(crate) fn fireworks_create(&self, request: &JobRequest) -> Result<Job, Error> {
        let value: Value = self.post_json(
            &self.config().account_path("/supervisedFineTuningJobs"),
            &request.body(crate::Provider::Fireworks),
            &|| "Creating the fine-tuning job".to_owned(),
        )?;
        Ok(job(value))
    }

    pub(crate) fn fireworks_retrieve(&self, id: &str) -> Result<Job, Error> {
        let short = short_id(id);
        let value: Value = self.get(
            &self.config().account_path(&format!(
                "/supervisedFineTuningJobs/{}",
                encode_segment(short)
            )),
            &[],
            &|| format!("Reading job `{short}`"),
        )?;
        Ok(job(value))
    }

    pub(crate) fn fireworks_list(
        &self,
        page_token: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<Job>, Error> {
        let size = limit.map(|n| n.to_string());
        let mut query = Vec::new();
        if let Some(s) = &size {
            query.push(("pageSize", s.as_str()));
        }
        if let Some(t) = page_token {
            query.push(("pageToken", t));
        }
        let value: Value = self.get(
            &self.config().account_path("/supervisedFineTuningJobs"),
            &query,
            &|| "Listing fine-tuning jobs".to_owned(),
        )?;
        let jobs: Vec<Job> = value
            .get("supervisedFineTuningJobs")
            .and_then(Value::as_array)
            .map(|a| a.iter().cloned().map(job).collect())
            .unwrap_or_default();
        let next = value
            .get("nextPageToken")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_owned);
        Ok(Page {
            data: jobs,
            has_more: next.is_some(),
            next_page_token: next,
        })
    }

    /// Fireworks has no events list for these jobs: its progress (percent, epoch) is
    /// turned into an event whenever it changes.
    pub(crate) fn fireworks_events_since(
        &self,
        id: &str,
        last_seen: Option<&str>,
    ) -> Result<Vec<Event>, Error> {
        let job = self.fireworks_retrieve(id)?;
        let Some(progress) = job.extra.get("jobProgress") else {
            return Ok(Vec::new());
        };
        let percent = progress.get("percent").and_then(Value::as_u64);
        let epoch = progress.get("epoch").and_then(Value::as_u64);
        let Some(percent) = percent else {
            return Ok(Vec::new());
        };
        let event_id = format!("progress-{percent}-{}", epoch.unwrap_or(0));
        if last_seen == Some(event_id.as_str()) {
            return Ok(Vec::new());
        }
        let mut message = format!("progress {percent}%");
        if let Some(e) = epoch {
            message.push_str(&format!(" (epoch {})", e + 1));
        }
        Ok(vec![Event {
            id: event_id,
            created_at: None,
            level: Some("info".into()),
            message: Some(message),
            kind: Some("progress".into()),
            data: None,
            extra: Map::new(),
        }])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_and_jobs() {
        assert_eq!(status("JOB_STATE_COMPLETED"), JobStatus::Succeeded);
        assert_eq!(status("JOB_STATE_FAILED"), JobStatus::Failed);
        assert_eq!(status("JOB_STATE_CREATING"), JobStatus::Queued);
        let j = job(json!({
            "name": "accounts/contabil/supervisedFineTuningJobs/sft-9", "state": "JOB_STATE_FAILED",
            "status": {"code": "INVALID_ARGUMENT", "message": "Dataset has no assistant turn"},
            "baseModel": "accounts/fireworks/models/qwen3-8b", "createTime": "2026-12-01T10:00:00Z"
        }));
        assert_eq!(j.id, "sft-9");
        assert_eq!(j.created_at, Some(1_796_119_200));
        assert_eq!(
            j.failure().map(ToString::to_string).as_deref(),
            Some("Dataset has no assistant turn (code `INVALID_ARGUMENT`)")
        );
        assert_eq!(short_id("sft-9"), "sft-9");
    }

    #[test]
    fn dataset_ids_are_valid() {
        let id = dataset_id(Path::new("dir/Treino Simples_Nacional.jsonl"));
        assert!(id.starts_with("treino-simples-nacional-"), "{id}");
        assert!(
            id.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        );
        assert!(dataset_id(Path::new("validação.jsonl")).starts_with("validacao-"));
        assert!(dataset_id(Path::new("___.jsonl")).starts_with("dataset-"));
    }
}
