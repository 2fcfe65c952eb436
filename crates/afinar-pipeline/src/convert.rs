//! `afinar convert` as a one-stage pipeline: sources read through `afinar_formats`, the
//! convert flow ([`crate::flow`]), then one JSONL (or Parquet) output and its rejects,
//! put in place together by [`afinar_formats::atomic::commit`].
//!
//! A convert that fails (nothing valid, or a reject under `strict`) creates or replaces
//! no output: a good file from an earlier run survives. The rejects file is still written,
//! so the user can see why.

use std::collections::BTreeMap;
use std::path::PathBuf;

use afinar_formats::read::read_paths;
use afinar_formats::write::jsonl::{self, JsonlOptions};
use afinar_formats::{Reject, SourceInfo, atomic};

use crate::PipelineError;
use crate::flow::{ConvertSpec, Converted, Input};
use crate::stage::redact::{Redacted, Resources};
use crate::stage::shape::Format;
use crate::stage::{Record, sort_rejects};

/// Where a conversion writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConvertOutputs {
    /// A JSONL file, `-` for standard output, or a `.parquet` table of pairs.
    pub output: PathBuf,
    /// The rejects file; none when the output is standard output and none was asked.
    pub rejects: Option<PathBuf>,
    /// Start the output with a UTF-8 byte order mark.
    pub bom: bool,
    /// Any reject fails the conversion.
    pub strict: bool,
}

impl ConvertOutputs {
    pub fn to_stdout(&self) -> bool {
        self.output.as_os_str() == "-"
    }

    fn parquet(&self) -> bool {
        self.output
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("parquet"))
    }
}

/// Why a conversion wrote no output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotWritten {
    /// Every row was rejected (or there were none).
    NothingValid,
    /// `strict`, and some row was rejected.
    Strict,
}

impl NotWritten {
    pub fn describe(self) -> &'static str {
        match self {
            NotWritten::NothingValid => "no valid examples",
            NotWritten::Strict => "rows were rejected and --strict is set",
        }
    }
}

/// What a conversion did.
#[derive(Debug, Clone)]
pub struct ConvertReport {
    /// The flow's account (its records are gone: they were written).
    pub converted: Converted,
    /// Valid examples: written, unless `not_written` says why not.
    pub valid: usize,
    pub not_written: Option<NotWritten>,
    /// Rejects per stable code.
    pub rejects_by_code: BTreeMap<&'static str, u64>,
}

/// The summary `afinar convert --format json` prints.
#[derive(Debug, serde::Serialize)]
pub struct Summary<'a> {
    pub inputs: Vec<InputSummary<'a>>,
    pub output: String,
    pub shape: Format,
    /// The target's name (`--target`), when one was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<&'a str>,
    pub read: u64,
    pub written: usize,
    pub rejected: usize,
    /// Rejects per stable code.
    pub rejects_by_code: &'a BTreeMap<&'static str, u64>,
    pub rejects_file: Option<String>,
    /// Why nothing was written (exit 1), when nothing was.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_written: Option<NotWritten>,
    /// Replacements per kind (`--redact`), what the manifest records.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub redacted: Option<Redacted>,
}

/// One source in a [`Summary`].
#[derive(Debug, serde::Serialize)]
pub struct InputSummary<'a> {
    pub path: &'a str,
    pub format: &'a str,
    pub encoding: &'a str,
    pub delimiter: Option<String>,
    pub sheet: Option<&'a str>,
    pub skipped_sheets: &'a [String],
    pub header_line: Option<u64>,
    pub question_column: Option<&'a str>,
    pub answer_column: Option<&'a str>,
    pub rows: u64,
    pub blank: u64,
    /// Examples the reader made.
    pub examples: u64,
    /// Rows the reader rejected.
    pub rejected: u64,
    /// What the reader chose and why (sheet, encoding, markers).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub notes: &'a [String],
    /// What the reader was unsure of.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub warnings: &'a [String],
    #[serde(skip)]
    pub info: &'a SourceInfo,
}

impl ConvertReport {
    pub fn summary<'a>(&'a self, shape: Format, outputs: &ConvertOutputs) -> Summary<'a> {
        let c = &self.converted;
        Summary {
            inputs: c
                .sources
                .iter()
                .map(|s| InputSummary {
                    path: &s.path,
                    format: &s.info.format,
                    encoding: &s.info.encoding,
                    delimiter: s.info.delimiter.map(afinar_formats::read::delimiter_name),
                    sheet: s.info.sheet.as_deref(),
                    skipped_sheets: &s.info.skipped_sheets,
                    header_line: s.info.header_line,
                    question_column: s.info.question_column.as_deref(),
                    answer_column: s.info.answer_column.as_deref(),
                    rows: s.info.rows,
                    blank: s.info.blank,
                    examples: s.read,
                    rejected: s.read_rejected,
                    notes: &s.info.notes,
                    warnings: &s.info.warnings,
                    info: &s.info,
                })
                .collect(),
            output: outputs.output.display().to_string(),
            shape,
            target: None,
            read: c.rows_read(),
            written: self.written(),
            rejected: c.rejects.len(),
            rejects_by_code: &self.rejects_by_code,
            rejects_file: outputs.rejects.as_ref().map(|p| p.display().to_string()),
            not_written: self.not_written,
            redacted: c.redacted,
        }
    }

    pub fn written(&self) -> usize {
        if self.not_written.is_some() {
            0
        } else {
            self.valid
        }
    }

    pub fn rejects(&self) -> &[Reject] {
        &self.converted.rejects
    }
}

/// Reads `inputs`, converts them as `spec` says and writes `outputs`.
pub fn convert(
    spec: &ConvertSpec,
    inputs: &[PathBuf],
    outputs: &ConvertOutputs,
    resources: &dyn Resources,
) -> Result<ConvertReport, PipelineError> {
    let options = spec.read_options()?;
    let converter = spec.build(resources)?;
    let sources = read_paths(inputs, &options).map_err(PipelineError::Source)?;
    let mut converted = converter.run(sources.into_iter().map(Input::from).collect());
    let records = std::mem::take(&mut converted.records);

    // A Parquet table holds single-turn pairs; the others are rejects, known before writing.
    let (records, parquet_rows) = if outputs.parquet() {
        let examples = records
            .into_iter()
            .filter_map(|r| match r {
                Record::Example(ex) => Some(ex),
                _ => None,
            })
            .collect();
        let (rows, multi_turn) = afinar_formats::write::parquet_rows(examples);
        converted.rejects.extend(multi_turn);
        let names: Vec<String> = converted.sources.iter().map(|s| s.path.clone()).collect();
        sort_rejects(&mut converted.rejects, &names);
        (Vec::new(), Some(rows))
    } else {
        (records, None)
    };
    let valid = parquet_rows.as_ref().map_or(records.len(), Vec::len);
    let not_written = if valid == 0 {
        Some(NotWritten::NothingValid)
    } else if outputs.strict && !converted.rejects.is_empty() {
        Some(NotWritten::Strict)
    } else {
        None
    };

    let write = PipelineError::Write;
    let mut pending = Vec::new();
    if not_written.is_none() {
        match &parquet_rows {
            Some(rows) => afinar_formats::write::write_parquet(&outputs.output, rows)
                .map(drop)
                .map_err(write)?,
            None => {
                let target = spec.target.as_ref().map(|t| t.resolve()).transpose()?;
                let bom = outputs.bom || crate::stage::target::wants_bom(target);
                pending.extend(
                    jsonl::prepare_file(
                        &outputs.output,
                        crate::stage::target::lines(target, &records)?,
                        JsonlOptions { bom },
                    )
                    .map_err(write)?,
                )
            }
        }
    }
    if let Some(path) = &outputs.rejects {
        pending.extend(
            jsonl::prepare_file(path, &converted.rejects, JsonlOptions::default())
                .map_err(write)?,
        );
    }
    // The output and its rejects go in place together, or neither does.
    atomic::commit(pending).map_err(write)?;

    let mut rejects_by_code = BTreeMap::new();
    for r in &converted.rejects {
        *rejects_by_code.entry(r.code).or_insert(0) += 1;
    }
    Ok(ConvertReport {
        converted,
        valid,
        not_written,
        rejects_by_code,
    })
}
