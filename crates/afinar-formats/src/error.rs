use std::io;
use std::path::PathBuf;

use thiserror::Error;

/// A problem with a whole file. Row-level problems are [`crate::Reject`]s instead.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum FormatError {
    #[error("Failed to read `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("Failed to write `{}`", path.display())]
    Write {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("Source `{pattern}` is not a valid glob")]
    Glob {
        pattern: String,
        #[source]
        source: glob::PatternError,
    },
    #[error("Delimiter `{value}` is not one ASCII character; use `,` `;` `|` or `tab`")]
    Delimiter { value: String },
    #[error("Source `{pattern}` matches no files; check the path")]
    NoMatch { pattern: String },
    #[error(
        "`{}` has an unsupported extension; afinar reads .csv, .tsv, .txt, .xlsx, .xlsm, .xlsb, .xls, .ods, .md, .docx, .html, .htm, .jsonl, .ndjson, .json and .parquet",
        path.display()
    )]
    UnsupportedInput { path: PathBuf },
    #[error("`{file}` has no column that looks like {what}; found {found}; pass {flag} COLUMN")]
    NoColumn {
        file: String,
        what: &'static str,
        flag: &'static str,
        found: String,
    },
    #[error(
        "`{file}` has several columns that look like {what} ({candidates}); pass {flag} COLUMN"
    )]
    AmbiguousColumn {
        file: String,
        what: &'static str,
        flag: &'static str,
        candidates: String,
    },
    #[error("`{file}` has no column `{wanted}`; found {found}")]
    UnknownColumn {
        file: String,
        wanted: String,
        found: String,
    },
    #[error(
        "`{file}` uses column `{column}` for both the question and the answer; pass --question and --answer"
    )]
    SameColumn { file: String, column: String },
    #[error("`{file}` is empty: it has no header row")]
    NoHeader { file: String },
    #[error("`{file}` is not valid UTF-8 at line {line}")]
    NotUtf8 { file: String, line: u64 },
    #[error("`{file}` line {line}, column {column}: invalid JSON: {message}")]
    InvalidJsonDocument {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error(
        "`{file}`: unknown encoding `{label}`; use a label such as utf-8, utf-16le, windows-1252 or latin1"
    )]
    UnknownEncoding { file: String, label: String },
    #[error("`{file}` is not a readable spreadsheet: {message}")]
    Spreadsheet { file: String, message: String },
    #[error(
        "`{}` is an old Word 97-2003 document; open it in Word and save it as .docx (Word Document)",
        path.display()
    )]
    OldWord { path: PathBuf },
    #[error("`{file}` is not a readable Word document: {problem}")]
    Document { file: String, problem: String },
    #[error("`{file}` has no sheet `{wanted}`; found {found}")]
    UnknownSheet {
        file: String,
        wanted: String,
        found: String,
    },
    #[error(
        "No sheet of `{file}` has a question/answer header (a row of column labels, question and answer in different cells, with rows under it); looked at {found}; pass --sheet NAME, or --question and --answer"
    )]
    NoQaSheet { file: String, found: String },
    #[error(
        "`{file}` was built without Parquet support; rebuild afinar with the `parquet` feature"
    )]
    ParquetDisabled { file: String },
    #[error("`{file}`: {message}")]
    Parquet { file: String, message: String },
    #[error(
        "`{}` is {}, over the {} afinar reads into memory; split it, or for JSONL use `afinar check`, which streams",
        path.display(),
        afinar_core::limits::human_bytes(*size),
        afinar_core::limits::human_bytes(*limit)
    )]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    #[error(
        "`{file}` unpacks to {}, over the {} afinar accepts for a spreadsheet; is it really a workbook?",
        afinar_core::limits::human_bytes(*size),
        afinar_core::limits::human_bytes(*limit)
    )]
    Unzipped { file: String, size: u64, limit: u64 },
    #[error(
        "`{file}` holds one JSON object ({keys}), not JSON Lines or a list of examples; {hint}"
    )]
    JsonObjectDocument {
        file: String,
        keys: String,
        hint: String,
    },
    #[error("`{file}` line {line}: invalid CSV")]
    Csv {
        file: String,
        line: u64,
        #[source]
        source: csv::Error,
    },
}
