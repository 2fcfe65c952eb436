//! afinar's data model and the pure transformations on it.
//!
//! Every source (CSV row, spreadsheet row, Markdown Q&A, JSONL line) becomes an
//! [`Example`]: a chat conversation (the canonical form), the [`Origin`] it came from,
//! and the source's extra columns as `meta`. Prompt/completion is a *view* of a chat
//! example ([`Completion`]), so converting there and back is lossless for single-turn data.
//! DPO data is a [`Preference`].
//!
//! This crate reads no files, prints nothing and never touches the network.
//!
//! ```
//! use afinar_core::{Completion, CompletionOptions, Example, Origin, SystemPolicy};
//!
//! let ex = Example::single_turn(
//!     Some("Você é um assistente especializado no Simples Nacional."),
//!     "Qual o limite do MEI?",
//!     "R$ 81 mil por ano.",
//!     Origin::line("faq.jsonl", 3),
//! );
//! let opts = CompletionOptions { system: SystemPolicy::Drop, ..Default::default() };
//! let pc = Completion::from_example(&ex, &opts).unwrap();
//! assert_eq!(pc.prompt, "Qual o limite do MEI?");
//! let back = pc.to_example(None, &opts, ex.origin.clone());
//! assert_eq!(back.messages[1].content, "R$ 81 mil por ano.");
//! ```

mod convert;
pub mod count;
pub mod dialect;
mod error;
mod example;
mod json;
pub mod limits;
pub mod markers;
pub mod normalize;
mod origin;
pub mod progress;
mod role;

pub use convert::{Completion, CompletionOptions, SystemPolicy, set_system_unfolded};
pub use dialect::Dialect;
pub use error::ConvertError;
pub use example::{Example, Message, Meta, Preference};
pub use json::{JsonErrorAt, json_error_at};
pub use origin::{Locator, Origin};
pub use role::{Role, RoleAliasError, RoleAliases};

/// Frees `value` on a thread of its own, for a caller with more to do or about to exit:
/// freeing 200,000 examples one allocation at a time took half a second on one core after
/// the work was done. A process that exits meanwhile does not wait for that thread.
pub fn drop_in_background<T: Send + 'static>(value: T) {
    std::thread::spawn(move || drop(value));
}
