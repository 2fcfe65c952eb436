//! Readers: one source file in, examples and rejects out.

pub mod csv;
pub mod jsonl;

use std::fmt;
use std::path::Path;

use afinar_core::{Example, RoleAliases};

use crate::{FormatError, Reject};

/// What kind of source a file is, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputKind {
    /// JSON Lines, or one JSON array of examples.
    Jsonl,
    /// Delimited text with a header row.
    Csv,
}

impl InputKind {
    pub fn from_path(path: &Path) -> Result<Self, FormatError> {
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("jsonl" | "ndjson" | "json") => Ok(Self::Jsonl),
            Some("csv" | "tsv" | "txt") => Ok(Self::Csv),
            _ => Err(FormatError::UnsupportedInput { path: path.to_owned() }),
        }
    }
}

/// How sources are read.
#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// The question column (name, or 1-based number); detected when `None`.
    pub question: Option<String>,
    /// The answer column; detected when `None`.
    pub answer: Option<String>,
    /// The field delimiter for delimited text; `,` (or TAB for `.tsv`) when `None`.
    pub delimiter: Option<u8>,
    /// How role names in JSON map to roles.
    pub aliases: RoleAliases,
    /// Apply [`afinar_core::normalize`] to every text.
    pub normalize: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            question: None,
            answer: None,
            delimiter: None,
            aliases: RoleAliases::default(),
            normalize: true,
        }
    }
}

/// What was learnt about a source while reading it, for the summary and the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceInfo {
    /// `csv`, `jsonl`, `json`.
    pub format: String,
    pub encoding: String,
    pub delimiter: Option<u8>,
    /// The 1-based line of the header row.
    pub header_line: Option<u64>,
    /// Lines of non-blank rows above the header (titles), skipped.
    pub skipped_above_header: Vec<u64>,
    pub question_column: Option<String>,
    pub answer_column: Option<String>,
    /// Rows or lines that held data (blank ones are not counted).
    pub rows: u64,
    /// Blank rows or lines, skipped.
    pub blank: u64,
    /// Whether the file started with a byte order mark.
    pub bom: bool,
}

/// Everything read from one source.
#[derive(Debug, Clone, Default)]
pub struct ReadOutput {
    pub examples: Vec<Example>,
    pub rejects: Vec<Reject>,
    pub info: SourceInfo,
}

/// Reads a file, choosing the reader by its extension.
pub fn read_path(path: &Path, opts: &ReadOptions) -> Result<ReadOutput, FormatError> {
    let kind = InputKind::from_path(path)?;
    let bytes =
        std::fs::read(path).map_err(|source| FormatError::Read { path: path.to_owned(), source })?;
    let name = path.display().to_string();
    match kind {
        InputKind::Jsonl => Ok(jsonl::read_bytes(&bytes, &name, opts)?),
        InputKind::Csv => {
            let is_tsv = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
            let mut opts = opts.clone();
            if is_tsv && opts.delimiter.is_none() {
                opts.delimiter = Some(b'\t');
            }
            csv::read_bytes(&bytes, &name, &opts)
        }
    }
}

/// Strips a UTF-8 byte order mark.
pub(crate) fn strip_bom(bytes: &[u8]) -> (&[u8], bool) {
    match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (rest, true),
        None => (bytes, false),
    }
}

/// Applies normalisation when asked.
pub(crate) fn text(s: &str, opts: &ReadOptions) -> String {
    if opts.normalize { afinar_core::normalize::normalize(s) } else { s.to_owned() }
}

/// Delimiter for display: `,` `;` `TAB` `|`.
pub fn delimiter_name(d: u8) -> String {
    match d {
        b'\t' => "TAB".to_owned(),
        d => (d as char).to_string(),
    }
}

impl fmt::Display for InputKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            InputKind::Jsonl => "jsonl",
            InputKind::Csv => "csv",
        })
    }
}
