//! Readers: one source file in, examples and rejects out.

mod blocks;
pub mod csv;
pub mod docx;
pub mod encoding;
pub mod html;
pub mod jsonl;
pub mod markdown;
#[cfg(feature = "parquet")]
pub mod parquet;
mod sources;
pub mod spreadsheet;
mod table;

pub use sources::{
    Source, SourceRequest, Streamed, expand, holds_json_array, read_paths, read_side_file,
    read_source, read_sources, sha256_hex, stream_source,
};

use std::fmt;
use std::path::Path;

use afinar_core::limits::MAX_SOURCE_BYTES;
use afinar_core::{CompletionOptions, Example, Preference, RoleAliases};

use crate::{FormatError, Reject};

/// What kind of source a file is, from its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputKind {
    /// JSON Lines, or one JSON array of examples.
    Jsonl,
    /// Delimited text with a header row.
    Csv,
    /// A workbook: XLSX, XLSM, XLSB, XLS or ODS.
    Spreadsheet,
    /// A Markdown article with questions and answers.
    Markdown,
    /// An Apache Parquet table, columns mapped as for CSV.
    Parquet,
    /// A Word document (`.docx`, `.docm`) with questions and answers.
    Docx,
    /// A saved web page (`.html`, `.htm`) with questions and answers.
    Html,
}

impl InputKind {
    pub fn from_path(path: &Path) -> Result<Self, FormatError> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("jsonl" | "ndjson" | "json") => Ok(Self::Jsonl),
            Some("csv" | "tsv" | "txt") => Ok(Self::Csv),
            Some("xlsx" | "xlsm" | "xlsb" | "xls" | "ods") => Ok(Self::Spreadsheet),
            Some("md" | "markdown") => Ok(Self::Markdown),
            Some("parquet") => Ok(Self::Parquet),
            Some("docx" | "docm") => Ok(Self::Docx),
            Some("html" | "htm" | "xhtml") => Ok(Self::Html),
            Some("doc") => Err(FormatError::OldWord {
                path: path.to_owned(),
            }),
            _ => Err(FormatError::UnsupportedInput {
                path: path.to_owned(),
            }),
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
    /// The field delimiter for delimited text; sniffed (TAB for `.tsv`) when `None`.
    pub delimiter: Option<u8>,
    /// The text encoding label (`utf-8`, `windows-1252`, `latin1`…); detected when `None`.
    pub encoding: Option<String>,
    /// The spreadsheet sheet; the first with a question/answer header when `None`.
    pub sheet: Option<String>,
    /// How role names in JSON map to roles.
    pub aliases: RoleAliases,
    /// Apply [`afinar_core::normalize`] to every text.
    pub normalize: bool,
    /// The framing of prompt/completion input (separators are stripped on reading).
    pub completion: CompletionOptions,
    /// Keep the legacy separator and stop markers found in prompt/completion input
    /// (by default they are removed, and the summary says so).
    pub keep_markers: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        Self {
            question: None,
            answer: None,
            delimiter: None,
            encoding: None,
            sheet: None,
            aliases: RoleAliases::default(),
            normalize: true,
            completion: CompletionOptions::default(),
            keep_markers: false,
        }
    }
}

/// What was learnt about a source while reading it, for the summary and the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SourceInfo {
    /// `csv`, `tsv`, `jsonl`, `json`, `xlsx`, `ods`, `markdown`, `parquet`…
    pub format: String,
    /// Lowercase encoding name of a text file (`utf-8`, `windows-1252`…); empty for
    /// binary formats.
    pub encoding: String,
    pub delimiter: Option<u8>,
    /// The sheet read, for spreadsheets.
    pub sheet: Option<String>,
    /// Sheets passed over (no question/answer header, or not the one asked for).
    pub skipped_sheets: Vec<String>,
    /// The 1-based line (row, in a spreadsheet) of the header row.
    pub header_line: Option<u64>,
    /// Lines (rows) of non-blank rows above the header (titles), skipped.
    pub skipped_above_header: Vec<u64>,
    pub question_column: Option<String>,
    pub answer_column: Option<String>,
    /// Rows or lines that held data (blank ones are not counted).
    pub rows: u64,
    /// Blank rows or lines, skipped.
    pub blank: u64,
    /// Whether the file started with a byte order mark.
    pub bom: bool,
    /// Other sheets that also have a question/answer header, not read (`--sheet` picks one).
    pub other_sheets: Vec<String>,
    /// How choices were made when they were not obvious (the sheet, the encoding), for
    /// the summary.
    pub notes: Vec<String>,
    /// Doubts the user should check: an encoding guess that may be wrong, text that looks
    /// garbled. Nothing is dropped for them.
    pub warnings: Vec<String>,
}

/// Everything read from one source.
#[derive(Debug, Clone, Default)]
pub struct ReadOutput {
    pub examples: Vec<Example>,
    /// DPO preference examples (OpenAI DPO JSONL input).
    pub preferences: Vec<Preference>,
    pub rejects: Vec<Reject>,
    pub info: SourceInfo,
}

/// Rows a streaming reader hands on at once: enough to keep every core busy, few enough
/// that a batch is a few megabytes.
pub const BATCH_ROWS: usize = 2048;

/// Part of a source, in input order: what [`stream_source`] hands on at a time.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub examples: Vec<Example>,
    pub preferences: Vec<Preference>,
    pub rejects: Vec<Reject>,
}

/// Reads a file, choosing the reader by its extension.
pub fn read_path(path: &Path, opts: &ReadOptions) -> Result<ReadOutput, FormatError> {
    let kind = InputKind::from_path(path)?;
    let name = path.display().to_string();
    if kind == InputKind::Parquet {
        return read_parquet(path, &name, opts);
    }
    let bytes = read_capped(path)?;
    read_bytes(kind, &bytes, &name, opts)
}

/// The whole file, refused past [`MAX_SOURCE_BYTES`] before anything is read.
fn read_capped(path: &Path) -> Result<Vec<u8>, FormatError> {
    let io = |source| FormatError::Read {
        path: path.to_owned(),
        source,
    };
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > MAX_SOURCE_BYTES {
        return Err(FormatError::TooLarge {
            path: path.to_owned(),
            size,
            limit: MAX_SOURCE_BYTES,
        });
    }
    std::fs::read(path).map_err(io)
}

/// Reads a file's bytes as `kind`; `name` is how origins name the file.
pub fn read_bytes(
    kind: InputKind,
    bytes: &[u8],
    name: &str,
    opts: &ReadOptions,
) -> Result<ReadOutput, FormatError> {
    match kind {
        InputKind::Jsonl => {
            // JSON is UTF-8 by definition, but Windows tools save it as UTF-16 (PowerShell's
            // `>`) or in the ANSI code page; those, or a forced encoding, are transcoded first.
            let forced = opts
                .encoding
                .as_deref()
                .map(|l| encoding::resolve(l, name))
                .transpose()?;
            let utf16 = bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF");
            if forced.is_some() || utf16 {
                let decoded = encoding::decode(bytes, forced);
                let mut out = jsonl::read_bytes(decoded.text.as_bytes(), name, opts)?;
                out.info.encoding = decoded.encoding;
                out.info.bom = decoded.bom;
                out.info.notes.extend(decoded.note);
                out.info.warnings.extend(decoded.warning);
                Ok(out)
            } else {
                jsonl::read_bytes(bytes, name, opts)
            }
        }
        InputKind::Csv => {
            let is_tsv = Path::new(name)
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("tsv"));
            if is_tsv && opts.delimiter.is_none() {
                let opts = ReadOptions {
                    delimiter: Some(b'\t'),
                    ..opts.clone()
                };
                return csv::read_bytes(bytes, name, &opts);
            }
            csv::read_bytes(bytes, name, opts)
        }
        InputKind::Spreadsheet => spreadsheet::read_bytes(bytes, name, opts),
        InputKind::Markdown => {
            // Decoded here, so the encoding's note and warning reach the summary.
            let forced = opts
                .encoding
                .as_deref()
                .map(|l| encoding::resolve(l, name))
                .transpose()?;
            let decoded = encoding::decode(bytes, forced);
            let utf8 = ReadOptions {
                encoding: None,
                ..opts.clone()
            };
            let mut out = markdown::read_bytes(decoded.text.as_bytes(), name, &utf8)?;
            out.info.encoding = decoded.encoding;
            out.info.bom = decoded.bom;
            out.info.notes.extend(decoded.note);
            out.info.warnings.extend(decoded.warning);
            Ok(out)
        }
        InputKind::Parquet => read_parquet_bytes(bytes, name, opts),
        InputKind::Docx => docx::read_bytes(bytes, name, opts),
        InputKind::Html => html::read_bytes(bytes, name, opts),
    }
}

#[cfg(feature = "parquet")]
fn read_parquet(path: &Path, name: &str, opts: &ReadOptions) -> Result<ReadOutput, FormatError> {
    let bytes = read_capped(path)?;
    parquet::read_bytes(&bytes, name, opts)
}

#[cfg(feature = "parquet")]
fn read_parquet_bytes(
    bytes: &[u8],
    name: &str,
    opts: &ReadOptions,
) -> Result<ReadOutput, FormatError> {
    parquet::read_bytes(bytes, name, opts)
}

#[cfg(not(feature = "parquet"))]
fn read_parquet(_: &Path, name: &str, _: &ReadOptions) -> Result<ReadOutput, FormatError> {
    Err(FormatError::ParquetDisabled {
        file: name.to_owned(),
    })
}

#[cfg(not(feature = "parquet"))]
fn read_parquet_bytes(_: &[u8], name: &str, _: &ReadOptions) -> Result<ReadOutput, FormatError> {
    Err(FormatError::ParquetDisabled {
        file: name.to_owned(),
    })
}

/// The line ends in `bytes[from..to]`: LF, CRLF and a lone CR each end a line (a CR
/// is lone when the byte after it, even past `to`, is not LF).
pub(crate) fn line_ends(bytes: &[u8], from: usize, to: usize) -> usize {
    let part = &bytes[from..to];
    let lf = memchr::memchr_iter(b'\n', part).count();
    let lone_cr = memchr::memchr_iter(b'\r', part)
        .filter(|&i| bytes.get(from + i + 1) != Some(&b'\n'))
        .count();
    lf + lone_cr
}

/// Strips a UTF-8 byte order mark.
pub(crate) fn strip_bom(bytes: &[u8]) -> (&[u8], bool) {
    match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (rest, true),
        None => (bytes, false),
    }
}

/// Applies normalisation when asked. An owned text that is already normal is handed
/// back as it is, not copied.
pub(crate) fn text(s: impl Into<String>, opts: &ReadOptions) -> String {
    let s = s.into();
    if opts.normalize {
        afinar_core::normalize::normalize_owned(s)
    } else {
        s
    }
}

/// A delimiter as a user types it: `,` `;` `|`, or `tab`.
pub fn parse_delimiter(s: &str) -> Result<u8, FormatError> {
    match s {
        "tab" | "TAB" | "\\t" | "\t" => Ok(b'\t'),
        s if s.len() == 1 && s.is_ascii() => Ok(s.as_bytes()[0]),
        _ => Err(FormatError::Delimiter {
            value: s.to_owned(),
        }),
    }
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
            InputKind::Spreadsheet => "spreadsheet",
            InputKind::Markdown => "markdown",
            InputKind::Parquet => "parquet",
            InputKind::Docx => "docx",
            InputKind::Html => "html",
        })
    }
}
