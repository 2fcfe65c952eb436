//! A thin, blocking client for the fine-tuning endpoints of OpenAI-compatible services:
//! OpenAI and Azure OpenAI.
//!
//! The model:
//! - [`Config`] says where and how: the provider, base URL, key (an [`ApiKey`] that never
//!   prints), organisation and project headers, the [`RetryPolicy`]. [`Config::from_env`]
//!   reads the usual variables (`OPENAI_API_KEY`, `OPENAI_BASE_URL`, `OPENAI_ORG_ID`,
//!   `OPENAI_PROJECT_ID`; `AZURE_OPENAI_ENDPOINT`, `AZURE_OPENAI_API_KEY`,
//!   `AZURE_OPENAI_API_VERSION`).
//! - [`Client`] has one method per endpoint: files (multipart, purpose `fine-tune`), the
//!   Uploads API for files over 512 MB (64 MB parts), fine-tuning jobs (create, list,
//!   retrieve, cancel, pause, resume), their events (paginated) and checkpoints; and
//!   chat completions ([`Client::chat_completion`]), for scoring a model's answers.
//! - Azure OpenAI takes the key in `api-key`, the v1 path `{endpoint}/openai/v1/…` or,
//!   with an API version, the dated path `{endpoint}/openai/…?api-version=…`, and JSONL
//!   with a UTF-8 BOM, which [`Client::upload_file`] adds when missing.
//! - Every request is retried like the official SDKs do: 408, 409, 429, 5xx, timeouts and
//!   connection errors; `Retry-After`/`retry-after-ms` honoured up to 60 s, otherwise
//!   exponential backoff with jitter. Any 2xx is success. A final failure is an
//!   [`Error::Api`] with the service's message, code and param.
//! - Types tolerate change: unknown statuses parse ([`JobStatus::Other`]), every field the
//!   service may omit is an `Option`, unknown fields are kept.
//! - Plain http is refused except to loopback; the key never appears in errors or `Debug`.
//!
//! ```no_run
//! use afinar_openai::{Client, JobRequest, Method};
//!
//! let client = Client::from_env(None)?;
//! let file = client.upload_file("train.jsonl".as_ref())?;
//! let job = client.create_job(&JobRequest {
//!     model: "gpt-4.1-mini-2025-04-14".into(),
//!     training_file: file.id,
//!     suffix: Some("simples-nacional".into()),
//!     method: Method::Supervised,
//!     ..Default::default()
//! })?;
//! println!("{}", job.id);
//! # Ok::<(), afinar_openai::Error>(())
//! ```

mod chat;
mod client;
mod config;
mod error;
mod multipart;
mod request;
/// A mock OpenAI server on 127.0.0.1 for tests (feature `testing`; not in the binary).
#[cfg(feature = "testing")]
pub mod testing;
mod transport;
mod types;

pub use chat::ChatCompletion;
pub use client::{BOM, Client, PURPOSE};
pub use config::{
    ApiKey, Config, OPENAI_BASE_URL, PART_SIZE, Provider, RetryPolicy, UPLOAD_THRESHOLD, check_url,
};
pub use error::{ApiError, Error};
pub use request::{
    Hyperparameters, JobRequest, Method, SUFFIX_MAX, check_batch_size, check_beta, check_epochs,
    check_learning_rate_multiplier, check_seed, check_suffix,
};
pub use types::{
    Checkpoint, Event, FileObject, Job, JobError, JobStatus, Metrics, Page, Upload, utc,
};
