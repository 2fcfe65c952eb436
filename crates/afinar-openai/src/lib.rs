//! A thin, blocking client for the fine-tuning services afinar launches on: OpenAI and
//! Azure OpenAI (the OpenAI API), Together AI and Fireworks AI (each its own API).
//!
//! One [`Client`] for all four: the provider in [`Config`] picks the paths, bodies and
//! headers, and everything else is shared: one transport, one retry policy, the key's
//! hygiene, [`Job`] and [`Event`] in the same words for every provider (Together's
//! `completed` and Fireworks' `JOB_STATE_COMPLETED` are both [`JobStatus::Succeeded`]),
//! and one follow loop ([`follow`]) that renders events, metrics and the loss curve the
//! same way.
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
mod fireworks;
pub mod follow;
mod multipart;
pub mod plan;
mod request;
/// A mock OpenAI server on 127.0.0.1 for tests (feature `testing`; not in the binary).
#[cfg(feature = "testing")]
pub mod testing;
mod together;
mod transport;
mod types;

pub use chat::ChatCompletion;
pub use client::{BOM, Client, PURPOSE};
pub use config::{
    ApiKey, Config, FIREWORKS_BASE_URL, FIREWORKS_DIRECT_MAX, OPENAI_BASE_URL, PART_SIZE, Provider,
    RetryPolicy, TOGETHER_BASE_URL, TOGETHER_SINGLE_MAX, UPLOAD_THRESHOLD, check_url,
};
pub use error::{ApiError, Error};
pub use request::{
    FIREWORKS_ID_MAX, Hyperparameters, JobRequest, Method, RequestError, SUFFIX_MAX,
    TOGETHER_SUFFIX_MAX, TrainingType, check_batch_size, check_beta, check_epochs,
    check_learning_rate, check_learning_rate_multiplier, check_lora_rank, check_seed, check_suffix,
    fireworks_model,
};
pub use types::{
    Checkpoint, Event, FileObject, Job, JobError, JobStatus, Metrics, Page, Upload, parse_time, utc,
};
