//! afinar's readers and writers.
//!
//! A reader turns one source file into [`afinar_core::Example`]s plus [`Reject`]s: a row
//! that cannot become an example is never an abort and never silently dropped, it is a
//! reject with its origin (`faq.csv:14`), a reason and the raw text. Only a problem with
//! the whole file (unreadable, no question column) is a [`FormatError`].
//!
//! ```no_run
//! use afinar_formats::{read, ReadOptions};
//!
//! let out = read::read_path("fixtures/simples-nacional.csv".as_ref(), &ReadOptions::default())?;
//! println!("{} examples, {} rejects", out.examples.len(), out.rejects.len());
//! # Ok::<(), afinar_formats::FormatError>(())
//! ```
//!
//! Sources ([`read::read_path`] picks the reader by extension):
//! - delimited text ([`read::csv`]): encoding detected ([`read::encoding`]: BOM, UTF-8,
//!   else Windows-1252 for Brazilian files), delimiter sniffed, header row searched;
//! - workbooks ([`read::spreadsheet`]): XLSX, XLSM, XLSB, XLS, ODS, first sheet with a
//!   question/answer header;
//! - Markdown articles ([`read::markdown`]): `?` headings, `P:`/`R:` labels, bold-question
//!   list items;
//! - Word documents ([`read::docx`]): `?` headings known by their style's name, `P:`/`R:`
//!   paragraphs, Pergunta/Resposta tables, numbered bold questions;
//! - web pages ([`read::html`]): FAQPage JSON-LD, `<details>` accordions, `?` headings,
//!   `<dl>`, question/answer tables, page chrome left out;
//! - JSON Lines or a JSON array ([`read::jsonl`]): OpenAI chat, prompt/completion, alpaca,
//!   ShareGPT, and OpenAI DPO (read as [`afinar_core::Preference`]s);
//! - Parquet (feature `parquet`), columns mapped as for CSV.
//!
//! Writers write atomically: a temp file beside the target, renamed into place, so a
//! failed run never leaves half a file and keeps the previous one.

pub mod atomic;
pub mod columns;
pub mod contain;
mod error;
pub mod read;
mod reject;
pub mod write;

pub use error::FormatError;
pub use read::{InputKind, ReadOptions, ReadOutput, SourceInfo};
pub use reject::Reject;
