//! The endpoints.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::config::{Config, Provider, encode_segment};
use crate::error::Error;
use crate::multipart::Form;
use crate::request::JobRequest;
use crate::transport::{Body, Method, Transport};
use crate::types::{Checkpoint, Event, FileObject, Job, Page, Upload};

/// The UTF-8 byte order mark Azure OpenAI wants at the start of uploaded JSONL.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// The purpose of every file afinar uploads.
pub const PURPOSE: &str = "fine-tune";

/// Page size for the list endpoints that are read to the end.
const PAGE: u32 = 100;

/// The most pages read in one go (a guard against a server that always has more).
const MAX_PAGES: usize = 10_000;

/// A blocking client for the fine-tuning endpoints of OpenAI or Azure OpenAI.
#[derive(Debug)]
pub struct Client {
    pub(crate) transport: Transport,
}

impl Client {
    /// Refuses a base URL that would send the key in clear text (plain http other than
    /// to loopback).
    pub fn new(config: Config) -> Result<Client, Error> {
        Ok(Client {
            transport: Transport::new(config)?,
        })
    }

    /// [`Config::from_env`] then [`Client::new`].
    pub fn from_env(provider: Option<Provider>) -> Result<Client, Error> {
        Client::new(Config::from_env(provider)?)
    }

    pub fn config(&self) -> &Config {
        &self.transport.config
    }

    pub fn provider(&self) -> Provider {
        self.transport.config.provider
    }

    // Files

    /// Uploads a JSONL file for fine-tuning: the Files API up to 512 MB, the Uploads API
    /// in 64 MB parts above. For Azure a BOM is put in front when the file has none.
    ///
    /// Together: `POST /files`, the bytes to the signed URL it redirects to, then
    /// preprocess. Fireworks: a dataset, its bytes, and a wait until it is `READY`; the
    /// returned id is the dataset's name.
    pub fn upload_file(&self, path: &Path) -> Result<FileObject, Error> {
        match self.provider() {
            Provider::Together => return self.together_upload(path),
            Provider::Fireworks => return self.fireworks_upload(path),
            Provider::OpenAi | Provider::Azure => {}
        }
        let io = |source| Error::Io {
            path: path.to_owned(),
            source,
        };
        let filename = file_name(path);
        let mut file = File::open(path).map_err(io)?;
        let len = file.metadata().map_err(io)?.len();
        let mut head = [0u8; 3];
        let n = read_up_to(&mut file, &mut head).map_err(io)?;
        let bom = self.wants_bom(&head[..n]);
        let total = len + if bom { BOM.len() as u64 } else { 0 };
        if total > self.config().upload_threshold {
            drop(file);
            return self.upload_in_parts(path, &filename, total, bom);
        }
        let mut bytes = Vec::with_capacity(len as usize);
        bytes.extend_from_slice(&head[..n]);
        file.read_to_end(&mut bytes).map_err(io)?;
        self.create_file(&filename, &bytes)
    }

    /// `POST /files` (multipart, purpose `fine-tune`) with these bytes (plus a BOM for
    /// Azure when missing).
    pub fn create_file(&self, filename: &str, bytes: &[u8]) -> Result<FileObject, Error> {
        let bom: &[u8] = if self.wants_bom(bytes) { BOM } else { b"" };
        let mut form = Form::with_capacity(bytes.len() + bom.len());
        form.text("purpose", PURPOSE);
        form.file("file", filename, "application/octet-stream", &[bom, bytes]);
        let (content_type, body) = form.finish();
        let what = || format!("Uploading `{filename}`");
        let answer = self.transport.send(
            Method::Post,
            &self.url("/files", &[]),
            &Body::Multipart(content_type, &body),
            &what,
        )?;
        decode(&answer, &what)
    }

    fn wants_bom(&self, head: &[u8]) -> bool {
        self.provider() == Provider::Azure && !head.starts_with(BOM)
    }

    /// The Uploads API: create, add parts, complete. Cancels the upload if a part fails.
    fn upload_in_parts(
        &self,
        path: &Path,
        filename: &str,
        total: u64,
        bom: bool,
    ) -> Result<FileObject, Error> {
        let io = |source| Error::Io {
            path: path.to_owned(),
            source,
        };
        let what = || format!("Uploading `{filename}` in parts");
        let upload: Upload = self.post_json(
            "/uploads",
            &json!({"purpose": PURPOSE, "filename": filename, "bytes": total, "mime_type": "text/jsonl"}),
            &what,
        )?;
        let id = encode_segment(&upload.id);
        let mut file = File::open(path).map_err(io)?;
        let part_size = self.config().part_size.max(1);
        let mut part_ids = Vec::new();
        let mut first = true;
        let result = loop {
            let mut buf = Vec::with_capacity(part_size);
            if first && bom {
                buf.extend_from_slice(BOM);
            }
            first = false;
            let want = part_size.saturating_sub(buf.len()) as u64;
            if let Err(e) = (&mut file).take(want).read_to_end(&mut buf) {
                break Err(io(e));
            }
            if buf.is_empty() {
                break Ok(());
            }
            let full = buf.len() == part_size;
            let mut form = Form::with_capacity(buf.len());
            form.file("data", filename, "application/octet-stream", &[&buf]);
            let (content_type, body) = form.finish();
            let part_what = || format!("Uploading part {} of `{filename}`", part_ids.len() + 1);
            let answer = self.transport.send(
                Method::Post,
                &self.url(&format!("/uploads/{id}/parts"), &[]),
                &Body::Multipart(content_type, &body),
                &part_what,
            );
            match answer.and_then(|a| decode::<Value>(&a, &part_what)) {
                Ok(part) => match part.get("id").and_then(Value::as_str) {
                    Some(part_id) => part_ids.push(part_id.to_owned()),
                    None => {
                        break Err(Error::Decode {
                            what: part_what(),
                            source: serde::de::Error::missing_field("id"),
                        });
                    }
                },
                Err(e) => break Err(e),
            }
            if !full {
                break Ok(());
            }
        };
        if let Err(e) = result {
            // Best effort: an abandoned upload expires by itself after an hour anyway.
            let _ = self.transport.send(
                Method::Post,
                &self.url(&format!("/uploads/{id}/cancel"), &[]),
                &Body::Empty,
                &what,
            );
            return Err(e);
        }
        let done: Upload = self.post_json(
            &format!("/uploads/{id}/complete"),
            &json!({ "part_ids": part_ids }),
            &what,
        )?;
        done.file.ok_or_else(|| Error::Decode {
            what: what(),
            source: serde::de::Error::missing_field("file"),
        })
    }

    // Fine-tuning jobs

    /// Creates the job with the provider's own body ([`JobRequest::body`]). Run
    /// [`JobRequest::problems`] first: the service's refusals come back as
    /// [`Error::Api`].
    pub fn create_job(&self, request: &JobRequest) -> Result<Job, Error> {
        match self.provider() {
            Provider::Together => self.together_create(request),
            Provider::Fireworks => self.fireworks_create(request),
            p => self.post_json("/fine_tuning/jobs", &request.body(p), &|| {
                "Creating the fine-tuning job".to_owned()
            }),
        }
    }

    /// One page of jobs, newest first. `after` is the last job id of the previous page
    /// (for Fireworks, the previous page's `next_page_token`).
    pub fn list_jobs(&self, after: Option<&str>, limit: Option<u32>) -> Result<Page<Job>, Error> {
        match self.provider() {
            Provider::Together => return self.together_list(limit),
            Provider::Fireworks => return self.fireworks_list(after, limit),
            Provider::OpenAi | Provider::Azure => {}
        }
        let limit = limit.map(|n| n.to_string());
        let mut query = Vec::new();
        if let Some(a) = after {
            query.push(("after", a));
        }
        if let Some(l) = &limit {
            query.push(("limit", l.as_str()));
        }
        self.get("/fine_tuning/jobs", &query, &|| {
            "Listing fine-tuning jobs".to_owned()
        })
    }

    /// The job, its status in afinar's words whatever the provider (a failed Together
    /// job's error comes from its events).
    pub fn retrieve_job(&self, id: &str) -> Result<Job, Error> {
        match self.provider() {
            Provider::Together => self.together_retrieve(id),
            Provider::Fireworks => self.fireworks_retrieve(id),
            _ => self.get(&job_path(id, ""), &[], &|| format!("Reading job `{id}`")),
        }
    }

    pub fn cancel_job(&self, id: &str) -> Result<Job, Error> {
        match self.provider() {
            Provider::Together => self.together_cancel(id),
            Provider::Fireworks => Err(self.unsupported(
                "has no way to cancel a supervised fine-tuning job through its API; delete                  it in the Fireworks console or with `firectl delete sftj ID`",
            )),
            _ => self.post_empty(&job_path(id, "/cancel"), &|| {
                format!("Cancelling job `{id}`")
            }),
        }
    }

    pub fn pause_job(&self, id: &str) -> Result<Job, Error> {
        self.openai_only("pause")?;
        self.post_empty(&job_path(id, "/pause"), &|| format!("Pausing job `{id}`"))
    }

    pub fn resume_job(&self, id: &str) -> Result<Job, Error> {
        self.openai_only("resume")?;
        self.post_empty(&job_path(id, "/resume"), &|| format!("Resuming job `{id}`"))
    }

    fn unsupported(&self, message: &str) -> Error {
        Error::Unsupported {
            provider: self.provider().name(),
            message: message.to_owned(),
        }
    }

    fn openai_only(&self, what: &str) -> Result<(), Error> {
        if self.provider().is_openai_compatible() {
            Ok(())
        } else {
            Err(self.unsupported(&format!(
                "cannot {what} a fine-tuning job; only OpenAI and Azure OpenAI can"
            )))
        }
    }

    /// One page of a job's events, newest first (`after` is the last id of the previous
    /// page).
    pub fn list_events(
        &self,
        id: &str,
        after: Option<&str>,
        limit: Option<u32>,
    ) -> Result<Page<Event>, Error> {
        let limit = limit.map(|n| n.to_string());
        let mut query = Vec::new();
        if let Some(a) = after {
            query.push(("after", a));
        }
        if let Some(l) = &limit {
            query.push(("limit", l.as_str()));
        }
        self.get(&job_path(id, "/events"), &query, &|| {
            format!("Reading the events of job `{id}`")
        })
    }

    /// The events newer than `last_seen` (all of them when `None`), oldest first.
    ///
    /// The service lists events newest first and pages backwards with `after`, so this
    /// reads pages until it meets `last_seen` or the list ends.
    pub fn events_since(&self, id: &str, last_seen: Option<&str>) -> Result<Vec<Event>, Error> {
        match self.provider() {
            Provider::Together => return self.together_events_since(id, last_seen),
            Provider::Fireworks => return self.fireworks_events_since(id, last_seen),
            Provider::OpenAi | Provider::Azure => {}
        }
        let mut fresh = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let page = self.list_events(id, after.as_deref(), Some(PAGE))?;
            let mut met = false;
            for event in page.data.iter() {
                if Some(event.id.as_str()) == last_seen {
                    met = true;
                    break;
                }
                fresh.push(event.clone());
            }
            let next = page.data.last().map(|e| e.id.clone());
            if met || !page.has_more || next.is_none() || next == after {
                break;
            }
            after = next;
        }
        fresh.reverse();
        Ok(fresh)
    }

    /// Every checkpoint of a job (usually at most three), newest first.
    pub fn checkpoints(&self, id: &str) -> Result<Vec<Checkpoint>, Error> {
        self.openai_only("list the checkpoints of")?;
        let mut all = Vec::new();
        let mut after: Option<String> = None;
        let limit = PAGE.to_string();
        for _ in 0..MAX_PAGES {
            let mut query = vec![("limit", limit.as_str())];
            if let Some(a) = &after {
                query.push(("after", a.as_str()));
            }
            let page: Page<Checkpoint> =
                self.get(&job_path(id, "/checkpoints"), &query, &|| {
                    format!("Reading the checkpoints of job `{id}`")
                })?;
            let next = page.data.last().map(|c| c.id.clone());
            let more = page.has_more;
            all.extend(page.data);
            if !more || next.is_none() || next == after {
                break;
            }
            after = next;
        }
        Ok(all)
    }

    // Plumbing

    fn url(&self, path: &str, query: &[(&str, &str)]) -> String {
        self.transport.config.url(path, query)
    }

    pub(crate) fn get<T: DeserializeOwned>(
        &self,
        path: &str,
        query: &[(&str, &str)],
        what: &dyn Fn() -> String,
    ) -> Result<T, Error> {
        let answer =
            self.transport
                .send(Method::Get, &self.url(path, query), &Body::Empty, what)?;
        decode(&answer, what)
    }

    pub(crate) fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: &Value,
        what: &dyn Fn() -> String,
    ) -> Result<T, Error> {
        let bytes = serde_json::to_vec(body).map_err(|source| Error::Decode {
            what: what(),
            source,
        })?;
        let answer =
            self.transport
                .send(Method::Post, &self.url(path, &[]), &Body::Json(bytes), what)?;
        decode(&answer, what)
    }

    pub(crate) fn post_empty<T: DeserializeOwned>(
        &self,
        path: &str,
        what: &dyn Fn() -> String,
    ) -> Result<T, Error> {
        let answer = self
            .transport
            .send(Method::Post, &self.url(path, &[]), &Body::Empty, what)?;
        decode(&answer, what)
    }
}

fn job_path(id: &str, tail: &str) -> String {
    format!("/fine_tuning/jobs/{}{tail}", encode_segment(id))
}

/// The file's name as sent to the service.
pub(crate) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "training.jsonl".to_owned())
}

pub(crate) fn decode<T: DeserializeOwned>(
    bytes: &[u8],
    what: &dyn Fn() -> String,
) -> Result<T, Error> {
    // A BOM or an empty 2xx body should not turn into a confusing JSON error.
    let bytes = bytes.strip_prefix(BOM).unwrap_or(bytes);
    let bytes: &[u8] = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}"
    } else {
        bytes
    };
    serde_json::from_slice(bytes).map_err(|source| Error::Decode {
        what: what(),
        source,
    })
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}
