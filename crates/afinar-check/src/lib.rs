//! `afinar check`: validation rules, exact token counts and cost estimates for
//! fine-tuning JSONL files, streamed in batches and checked in parallel.
//!
//! The model:
//! - A file is read in batches of lines ([`CheckOptions::batch_bytes`]); each batch is
//!   parsed, validated and counted in parallel with rayon, and the results are merged in
//!   input order into an [`Accumulator`](engine) that keeps only what the [`Report`]
//!   needs (counts, a token histogram, the worst examples, a capped list of findings and
//!   a set of 128-bit hashes for duplicate detection). Memory is bounded by the batch
//!   size, whatever the size of the file.
//! - Every problem is a [`Finding`] with a stable [`Code`], the line, and a message that
//!   says how to fix it. Rules run per example ([`rules`]); a new rule family (e.g. a
//!   sensitive-data scan) implements [`rules::LineRule`] and is passed in
//!   [`CheckOptions::extra_rules`].
//! - Token counts follow the fine-tuning service and the OpenAI cookbook ([`count`]):
//!   3 tokens per message, the tokens of every value of the message, 1 per name, 3 to
//!   prime the reply.
//! - The [`Registry`] of models gives the encoding, the per-example token limit, the
//!   formats a model takes and its training price.
//! - Open-weight models are counted with their own tokenizer and chat template
//!   ([`CheckOptions::chat_tokenizer`], from `afinar_tokens::chat`), against the limit of
//!   the place they are trained ([`CheckOptions::place`]).
//! - The [`lifecycle`] table says whether a model can still be fine-tuned at a target,
//!   by whom and until when (`lifecycle.json`, one reviewed file with the sources).
//!
//! - [`preflight`] is the check a file passes before any upload: the same report for
//!   the provider it goes to, plus the line shapes that provider takes.
//!
//! This crate prints nothing: the binary renders the [`Report`].
//!
//! ```
//! use afinar_check::{CheckOptions, Registry, check_reader};
//!
//! let model = Registry::builtin().lookup("gpt-4o-mini-2024-07-18").unwrap().clone();
//! let line = r#"{"messages":[{"role":"user","content":"Olá"},{"role":"assistant","content":"Oi!"}]}"#;
//! let data = format!("{line}\n").repeat(12);
//! let report = check_reader("t.jsonl", data.as_bytes(), None, &CheckOptions::new(model), &mut |_| Ok(()))
//!     .unwrap();
//! assert_eq!(report.examples, 12);
//! assert_eq!(report.tokens.as_ref().unwrap().min, 14);
//! ```

pub mod count;
pub mod dialect;
mod engine;
mod error;
mod finding;
pub mod image;
pub mod lifecycle;
pub mod pii;
pub mod preflight;
pub mod registry;
pub mod report;
pub mod rules;
pub mod schema;
pub mod special;
pub mod targets;

pub use engine::{CheckOptions, ExampleTokens, check_path, check_reader};
pub use error::CheckError;
pub use finding::{Code, Finding, Severity};
pub use registry::{ModelInfo, OverLimit, Registry, TokenizerKind, TrainPlace, TurnOrder};
pub use report::{Report, default_epochs};
pub use targets::{Dialect, Target};

use serde::{Deserialize, Serialize};

/// The shape of a training line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// `{"messages": [...]}`
    Chat,
    /// `{"prompt": ..., "completion": ...}` (legacy models)
    Completion,
    /// `{"input": {...}, "preferred_output": [...], "non_preferred_output": [...]}`
    Dpo,
    /// `{"text": ...}`: plain text, for the targets that train on it (Together, TRL);
    /// detected only when the target takes it.
    Text,
}

impl Format {
    pub const ALL: [Format; 3] = [Format::Chat, Format::Completion, Format::Dpo];

    pub fn name(self) -> &'static str {
        match self {
            Format::Chat => "chat",
            Format::Completion => "completion",
            Format::Dpo => "dpo",
            Format::Text => "text",
        }
    }

    /// How a person calls it in a message.
    pub fn describe(self) -> &'static str {
        match self {
            Format::Chat => "chat (`messages`)",
            Format::Completion => "prompt/completion",
            Format::Dpo => "DPO (`input`/`preferred_output`/`non_preferred_output`)",
            Format::Text => "text (`text`)",
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
