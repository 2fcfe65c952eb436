//! Exact token counts of chat examples for open-weight models: what the trainer sees.
//!
//! A [`ChatTokenizer`] counts one conversation the way the model's own tooling turns it
//! into tokens:
//!
//! * **A Hugging Face model** (`tokenizer.json` plus the chat template of
//!   `tokenizer_config.json` or `chat_template.jinja`): the template is rendered with
//!   minijinja set up like transformers' jinja2 environment ([`template`]), then the text
//!   is tokenized without adding special tokens, exactly as
//!   `len(tokenizer.apply_chat_template(messages, tokenize=True))` (no generation prompt).
//!   Byte-level BPE models (Qwen2/2.5/3, Llama 3) take a fast path (`bytebpe`) that gives
//!   the `tokenizers` crate's ids and offsets about 40 times faster; every other
//!   tokenizer.json (Gemma's SentencePiece BPE, other split patterns) and any text NFC
//!   would change go through the `tokenizers` crate itself.
//! * **gpt-oss** (the harmony format on o200k): the conversation rendered for training as
//!   OpenAI's `openai-harmony` does ([`harmony`]), counted with this crate's o200k tables.
//!
//! Both give [`ChatCounts`]: the whole rendering and the assistant part (the tokens of
//! each assistant message's content plus the special token that closes the turn).
//!
//! ```no_run
//! use afinar_tokens::chat::ChatTokenizer;
//! use serde_json::json;
//!
//! let tok = ChatTokenizer::load("models/Qwen3-8B".as_ref()).unwrap();
//! let msgs = json!([{"role": "user", "content": "Olá"}, {"role": "assistant", "content": "Oi!"}]);
//! let counts = tok.count(msgs.as_array().unwrap(), None).unwrap();
//! assert!(counts.tokens > counts.assistant);
//! ```

use std::path::{Path, PathBuf};

use serde_json::Value;

mod bytebpe;
pub mod harmony;
mod hf;
pub mod hub;
mod template;

pub use hf::HfChat;

/// Tokens of one rendered example and of its assistant turns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChatCounts {
    pub tokens: u64,
    pub assistant: u64,
}

/// A problem with one example (the line goes on to the report; the run continues).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    /// The template called `raise_exception` (e.g. roles that do not alternate).
    #[error("The chat template rejects this example: {0}")]
    Raised(String),
    /// A template feature afinar cannot render.
    #[error("The chat template uses a feature afinar cannot render ({feature}{}); count with the trainer's own tooling or report the template", line_note(*.line))]
    Unsupported {
        feature: String,
        line: Option<usize>,
    },
    /// Any other rendering failure (an undefined value used, a bad operation…).
    #[error("The chat template failed on this example: {detail}{}", line_note(*.line))]
    Failed { detail: String, line: Option<usize> },
    /// The example has something the format cannot hold (harmony: a tool message…).
    #[error("{0}")]
    Shape(String),
    #[error("The tokenizer failed on this example: {0}")]
    Tokenizer(String),
}

fn line_note(line: Option<usize>) -> String {
    line.map(|l| format!(", template line {l}"))
        .unwrap_or_default()
}

/// A tokenizer or template that cannot be loaded (fatal: nothing can be counted).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    #[error("Cannot read `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("`{}` is not valid JSON", path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("`{}` is not a tokenizer.json that the tokenizers library can load: {detail}", path.display())]
    Tokenizer { path: PathBuf, detail: String },
    #[error("`{}` has no tokenizer.json; pass a model directory holding tokenizer.json and tokenizer_config.json, or the tokenizer.json file", path.display())]
    NoTokenizer { path: PathBuf },
    #[error("`{}` has no chat template (a `chat_template` in tokenizer_config.json, or chat_template.jinja); the trainer wraps every example in it, so afinar needs it to count", path.display())]
    NoTemplate { path: PathBuf },
    #[error("The chat template in `{}` cannot be used: {source}", path.display())]
    Template {
        path: PathBuf,
        #[source]
        source: RenderError,
    },
    #[error(
        "No tokenizer files for `{repo}` in {}; download them once with `hf download {repo} tokenizer.json tokenizer_config.json` (or `huggingface-cli download`), or pass --tokenizer DIR",
        searched_list(searched)
    )]
    NotFound {
        repo: String,
        searched: Vec<PathBuf>,
    },
}

fn searched_list(paths: &[PathBuf]) -> String {
    let v: Vec<String> = paths.iter().map(|p| format!("`{}`", p.display())).collect();
    if v.is_empty() {
        "no place (set HF_HOME or AFINAR_TOKENIZERS)".into()
    } else {
        v.join(", ")
    }
}

/// Counts chat examples for one model.
#[derive(Debug)]
#[non_exhaustive]
pub enum ChatTokenizer {
    /// tokenizer.json + chat template.
    Template(Box<HfChat>),
    /// gpt-oss: harmony on o200k_harmony.
    Harmony,
}

impl ChatTokenizer {
    /// A model directory (tokenizer.json, tokenizer_config.json and/or chat_template.jinja)
    /// or a tokenizer.json file with its config beside it.
    pub fn load(path: &Path) -> Result<ChatTokenizer, LoadError> {
        Ok(ChatTokenizer::Template(Box::new(HfChat::from_path(path)?)))
    }

    /// The harmony renderer of gpt-oss.
    pub fn harmony() -> ChatTokenizer {
        ChatTokenizer::Harmony
    }

    /// What counts the tokens, for reports: `tokenizer.json + chat template` or
    /// `o200k_harmony`.
    pub fn describe(&self) -> String {
        match self {
            ChatTokenizer::Template(_) => "tokenizer.json + chat template".into(),
            ChatTokenizer::Harmony => "o200k_harmony".into(),
        }
    }

    /// Counts one conversation (`messages` of a training line, and its `tools` if any).
    pub fn count(
        &self,
        messages: &[Value],
        tools: Option<&Value>,
    ) -> Result<ChatCounts, RenderError> {
        match self {
            ChatTokenizer::Template(t) => t.count(messages, tools),
            ChatTokenizer::Harmony => harmony::count(messages, tools),
        }
    }
}
