//! Together AI: files through a signed `PUT`, and `/fine-tunes`. The flow is
//! together-python's (`filemanager.py`, `resources/finetune.py`).

use std::path::Path;

use serde_json::{Map, Value, json};

use crate::client::{Client, decode, file_name};
use crate::config::{TOGETHER_SINGLE_MAX, encode_segment};
use crate::error::Error;
use crate::request::JobRequest;
use crate::transport::{Auth, Body, Method};
use crate::types::{Event, FileObject, Job, JobError, JobStatus, Page, parse_time};

/// Together's words for a job's state, in afinar's (the same for every provider).
pub(crate) fn status(s: &str) -> JobStatus {
    match s {
        "pending" | "queued" => JobStatus::Queued,
        "running" | "compressing" | "uploading" => JobStatus::Running,
        "completed" => JobStatus::Succeeded,
        "error" | "user_error" => JobStatus::Failed,
        "cancelled" => JobStatus::Cancelled,
        other => JobStatus::Other(other.to_owned()),
    }
}

/// A `/fine-tunes` object as a [`Job`]; everything else it says stays in `extra`.
pub(crate) fn job(value: Value) -> Job {
    let text = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_owned);
    let error = last_error(
        value
            .get("events")
            .and_then(Value::as_array)
            .map(Vec::as_slice),
    );
    let mut extra = Map::new();
    extra.insert("provider".into(), json!("together"));
    // The typed fields say these; the service's own status word stays, renamed.
    const TYPED: [&str; 7] = [
        "id",
        "status",
        "model",
        "created_at",
        "training_file",
        "validation_file",
        "events",
    ];
    if let Value::Object(map) = &value {
        for (k, v) in map {
            if !TYPED.contains(&k.as_str()) {
                extra.insert(k.clone(), v.clone());
            }
        }
        if let Some(s) = map.get("status") {
            extra.insert("provider_status".into(), s.clone());
        }
    }
    Job {
        id: text("id").or_else(|| text("job_id")).unwrap_or_default(),
        status: text("status").map_or(JobStatus::Missing, |s| status(&s)),
        model: text("model"),
        fine_tuned_model: text("model_output_name").or_else(|| text("output_name")),
        created_at: text("created_at").and_then(|t| parse_time(&t)),
        finished_at: None,
        estimated_finish: None,
        training_file: text("training_file"),
        validation_file: text("validation_file"),
        trained_tokens: value.get("token_count").and_then(Value::as_u64),
        error,
        seed: None,
        hyperparameters: None,
        method: None,
        extra,
    }
}

/// The message of the last error-level event: Together says why a job failed there.
fn last_error(events: Option<&[Value]>) -> Option<JobError> {
    events?.iter().rev().find_map(|e| {
        let level = e.get("level").and_then(Value::as_str).unwrap_or_default();
        let kind = e.get("type").and_then(Value::as_str).unwrap_or_default();
        let is_error = level.eq_ignore_ascii_case("error") || kind.ends_with("_ERROR");
        is_error.then(|| JobError {
            code: Some(kind.to_owned()).filter(|k| !k.is_empty()),
            message: e.get("message").and_then(Value::as_str).map(str::to_owned),
            param: None,
        })
    })
}

/// A Together event as an [`Event`]; its id is its `hash`, else its place in the list.
fn event(index: usize, value: &Value) -> Event {
    let text = |k: &str| value.get(k).and_then(Value::as_str).map(str::to_owned);
    let created_at = text("created_at").and_then(|t| parse_time(&t));
    Event {
        id: text("hash")
            .filter(|h| !h.is_empty())
            .unwrap_or_else(|| format!("together-event-{index}")),
        created_at,
        level: text("level")
            .map(|l| l.to_ascii_lowercase())
            .filter(|l| !l.is_empty()),
        message: text("message"),
        kind: text("type"),
        data: None,
        extra: Map::new(),
    }
}

fn job_path(id: &str, tail: &str) -> String {
    format!("/fine-tunes/{}{tail}", encode_segment(id))
}

impl Client {
    /// `POST /files` (answered 302 with the signed `Location` and `X-Together-File-Id`),
    /// `PUT` of the bytes there without the key, then `POST /files/{id}/preprocess`.
    pub(crate) fn together_upload(&self, path: &Path) -> Result<FileObject, Error> {
        let name = file_name(path);
        let len = std::fs::metadata(path)
            .map_err(|source| Error::Io {
                path: path.to_owned(),
                source,
            })?
            .len();
        if len > TOGETHER_SINGLE_MAX.min(self.config().upload_threshold) {
            return Err(Error::Unsupported {
                provider: "Together AI",
                message: format!(
                    "takes files over 5 GiB only through its multipart upload, which afinar \
                     does not do; `{}` has {len} bytes: split it (`afinar split`) or upload it \
                     with `together files upload`",
                    path.display()
                ),
            });
        }
        let what = || format!("Uploading `{name}`");
        let form = form(&[
            ("purpose", "fine-tune"),
            ("file_name", &name),
            ("file_type", "jsonl"),
        ]);
        let answer = self.transport.exchange(
            Method::Post,
            &self.config().url("/files", &[]),
            &Body::Form(form),
            Auth::Service,
            &[],
            true,
            &what,
        )?;
        let (Some(location), Some(id)) = (
            answer.headers.get("location"),
            answer.headers.get("x-together-file-id"),
        ) else {
            return Err(Error::NotReady {
                what: what(),
                message: format!(
                    "the service answered {} without the upload address (`Location`, \
                     `X-Together-File-Id`); check `TOGETHER_BASE_URL`",
                    answer.status
                ),
            });
        };
        self.transport.exchange(
            Method::Put,
            &location,
            &Body::File(path, len),
            Auth::Signed,
            &[],
            false,
            &|| format!("Sending the bytes of `{name}`"),
        )?;
        let done = self.transport.send(
            Method::Post,
            &self
                .config()
                .url(&format!("/files/{}/preprocess", encode_segment(&id)), &[]),
            &Body::Empty,
            &|| format!("Processing `{name}` ({id})"),
        )?;
        let mut file: FileObject = decode(&done, &what).unwrap_or_else(|_| FileObject {
            id: id.clone(),
            bytes: Some(len),
            created_at: None,
            filename: Some(name.clone()),
            purpose: Some("fine-tune".into()),
            status: None,
            extra: Map::new(),
        });
        if file.id.is_empty() {
            file.id = id;
        }
        Ok(file)
    }

    pub(crate) fn together_create(&self, request: &JobRequest) -> Result<Job, Error> {
        let value: Value = self.post_json(
            "/fine-tunes",
            &request.body(crate::Provider::Together),
            &|| "Creating the fine-tuning job".to_owned(),
        )?;
        Ok(job(value))
    }

    pub(crate) fn together_retrieve(&self, id: &str) -> Result<Job, Error> {
        let value: Value = self.get(&job_path(id, ""), &[], &|| format!("Reading job `{id}`"))?;
        let mut job = job(value);
        if job.status == JobStatus::Failed && job.failure().is_none() {
            // Why it failed is in the events.
            let events = self.together_events(id)?;
            job.error = last_error(Some(&events));
        }
        Ok(job)
    }

    pub(crate) fn together_list(&self, limit: Option<u32>) -> Result<Page<Job>, Error> {
        let value: Value = self.get("/fine-tunes", &[], &|| {
            "Listing fine-tuning jobs".to_owned()
        })?;
        let mut jobs: Vec<Job> = value
            .get("data")
            .and_then(Value::as_array)
            .map(|a| a.iter().cloned().map(job).collect())
            .unwrap_or_default();
        // Newest first, like the other providers.
        jobs.sort_by_key(|j| std::cmp::Reverse(j.created_at));
        let more = limit.is_some_and(|n| jobs.len() > n as usize);
        if let Some(n) = limit {
            jobs.truncate(n as usize);
        }
        Ok(Page {
            data: jobs,
            has_more: more,
            next_page_token: None,
        })
    }

    pub(crate) fn together_cancel(&self, id: &str) -> Result<Job, Error> {
        let value: Value = self.post_empty(&job_path(id, "/cancel"), &|| {
            format!("Cancelling job `{id}`")
        })?;
        Ok(job(value))
    }

    fn together_events(&self, id: &str) -> Result<Vec<Value>, Error> {
        let value: Value = self.get(&job_path(id, "/events"), &[], &|| {
            format!("Reading the events of job `{id}`")
        })?;
        Ok(value
            .get("data")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default())
    }

    /// The events after `last_seen`, oldest first (Together lists them oldest first, all
    /// at once).
    pub(crate) fn together_events_since(
        &self,
        id: &str,
        last_seen: Option<&str>,
    ) -> Result<Vec<Event>, Error> {
        let all: Vec<Event> = self
            .together_events(id)?
            .iter()
            .enumerate()
            .map(|(i, v)| event(i, v))
            .collect();
        let start = match last_seen {
            Some(seen) => all.iter().position(|e| e.id == seen).map_or(0, |i| i + 1),
            None => 0,
        };
        Ok(all[start..].to_vec())
    }
}

/// `application/x-www-form-urlencoded`, as `requests` sends a dict.
fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_segment(k), encode_segment(v)))
        .collect::<Vec<_>>()
        .join("&")
        .into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_jobs() {
        assert_eq!(status("completed"), JobStatus::Succeeded);
        assert_eq!(status("user_error"), JobStatus::Failed);
        assert_eq!(status("compressing"), JobStatus::Running);
        assert!(!status("cancel_requested").is_terminal());
        let j = job(json!({
            "id": "ft-1", "status": "error", "model": "m", "model_output_name": "acct/m-faq",
            "created_at": "2026-12-01T10:00:00.000Z",
            "events": [{"level": "Info", "message": "started"},
                       {"level": "Error", "type": "JOB_ERROR", "message": "Linha 3: papel inválido"}]
        }));
        assert_eq!(j.status, JobStatus::Failed);
        assert_eq!(j.fine_tuned_model.as_deref(), Some("acct/m-faq"));
        assert_eq!(j.created_at, Some(1_796_119_200));
        assert_eq!(
            j.failure().and_then(|e| e.message.as_deref()),
            Some("Linha 3: papel inválido")
        );
        assert!(!j.extra.contains_key("events"));
        // One `status` when shown as JSON: afinar's word, the service's beside it.
        let shown = serde_json::to_string(&j).unwrap();
        assert_eq!(shown.matches("\"status\"").count(), 1, "{shown}");
        let shown: Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(
            (&shown["status"], &shown["provider_status"]),
            (&json!("failed"), &json!("error"))
        );
    }

    #[test]
    fn form_encoding() {
        assert_eq!(
            form(&[("purpose", "fine-tune"), ("file_name", "treino 1.jsonl")]),
            b"purpose=fine-tune&file_name=treino%201.jsonl".to_vec()
        );
    }
}
