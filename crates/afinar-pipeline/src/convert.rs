//! `afinar convert` as a one-stage pipeline: sources read through `afinar_formats`, the
//! convert flow ([`crate::flow`]), then one JSONL (or Parquet) output and its rejects,
//! put in place together by [`afinar_formats::atomic::commit`].
//!
//! A convert that fails (nothing valid, or a reject under `strict`) creates or replaces
//! no output: a good file from an earlier run survives. The rejects file is still written,
//! so the user can see why.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

use afinar_core::progress::{Progress, Silent};
use afinar_formats::read::read_paths;
use afinar_formats::write::jsonl::{self, JsonlOptions};
use afinar_formats::{FormatError, Reject, SourceInfo, atomic};
use rayon::prelude::*;

use crate::PipelineError;
use crate::flow::{ConvertSpec, Converted, Converter, Input};
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
    /// The rejects go to `rejects`, else beside the output (`out/train.jsonl` →
    /// `out/train.rejects.jsonl`); with standard output, nowhere unless asked.
    pub fn new(output: PathBuf, rejects: Option<PathBuf>, bom: bool, strict: bool) -> Self {
        let rejects = rejects.or_else(|| {
            (output.as_os_str() != "-").then(|| {
                let stem = output
                    .file_stem()
                    .map_or_else(|| "out".into(), |s| s.to_string_lossy().into_owned());
                output.with_file_name(format!("{stem}.rejects.jsonl"))
            })
        });
        Self {
            output,
            rejects,
            bom,
            strict,
        }
    }

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

impl InputSummary<'_> {
    /// What the source's rows are called, singular and plural.
    pub fn unit(&self) -> (&'static str, &'static str) {
        match self.format {
            f if f.starts_with("json") => ("line", "lines"),
            "markdown" => ("question", "questions"),
            _ => ("row", "rows"),
        }
    }
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

/// Writes one record's output line, without its newline: the output's line dialect.
/// Called from several threads at once, on records in any order; the lines are written in
/// input order.
pub type WriteLine = dyn Fn(&Record, &mut Vec<u8>) -> std::io::Result<()> + Sync;

/// The default line dialect: chat, prompt/completion or DPO JSON by record
/// ([`Record::line`]).
pub fn json_line(record: &Record, out: &mut Vec<u8>) -> std::io::Result<()> {
    serde_json::to_writer(out, &record.line()).map_err(std::io::Error::from)
}

/// Reads `inputs`, converts them as `spec` says and writes `outputs`.
pub fn convert(
    spec: &ConvertSpec,
    inputs: &[PathBuf],
    outputs: &ConvertOutputs,
    resources: &dyn Resources,
) -> Result<ConvertReport, PipelineError> {
    convert_with(spec, inputs, outputs, resources, &Silent, &json_line)
}

/// [`convert`], streamed: each source is read in batches and each batch written as soon
/// as it is converted (its lines made in parallel by `line`, written in input order), so
/// memory holds one source's text, one batch and the rejects, whatever the input size.
/// The output goes to a temp file beside it, put in place with the rejects only when the
/// conversion succeeded; standard output gets the lines once the conversion is done.
/// The bytes are the same whatever the number of threads.
pub fn convert_with(
    spec: &ConvertSpec,
    inputs: &[PathBuf],
    outputs: &ConvertOutputs,
    resources: &dyn Resources,
    progress: &dyn Progress,
    line: &WriteLine,
) -> Result<ConvertReport, PipelineError> {
    if outputs.parquet() && spec.shape.format != Format::Chat {
        return Err(PipelineError::ParquetShape);
    }
    let options = spec.read_options()?;
    let converter = spec.build(resources)?;
    if outputs.parquet() {
        return convert_parquet(converter, inputs, &options, outputs);
    }
    // A target's own dialect (Vertex, Bedrock, TRL…) replaces the line writer; the
    // target stage has already rejected what the dialect cannot express.
    let target = spec.target.as_ref().map(|t| t.resolve()).transpose()?;
    let bom = outputs.bom || crate::stage::target::wants_bom(target);
    let dialect_line = |record: &Record, out: &mut Vec<u8>| -> std::io::Result<()> {
        match target {
            Some(t) => {
                let l = crate::stage::target::line(t, record)
                    .map_err(|u| std::io::Error::other(u.reason))?;
                serde_json::to_writer(out, &l).map_err(std::io::Error::from)
            }
            None => line(record, out),
        }
    };
    let write = PipelineError::Write;
    let mut valid = 0;
    // The stream's own error, kept aside while the writer reports a plain I/O failure.
    let mut failed: Option<PipelineError> = None;
    let mut converted: Option<Converted> = None;
    let fill = |w: &mut dyn Write| -> std::io::Result<()> {
        if bom {
            w.write_all(b"\xEF\xBB\xBF")?;
        }
        let result = converter.stream(inputs, &options, progress, |records| {
            valid += records.len();
            write_lines(w, &records, &dialect_line).map_err(|source| {
                PipelineError::Write(FormatError::Write {
                    path: outputs.output.clone(),
                    source,
                })
            })
        });
        match result {
            Ok(c) => {
                converted = Some(c);
                Ok(())
            }
            Err(e) => {
                failed = Some(e);
                Err(std::io::Error::other("the conversion stopped"))
            }
        }
    };
    let prepared = if outputs.to_stdout() {
        spool(fill).map(Output::Spooled)
    } else {
        atomic::prepare(&outputs.output, fill).map(|p| Output::Pending(Some(p)))
    };
    if let Some(e) = failed {
        return Err(e);
    }
    let mut output = prepared.map_err(write)?;
    let Some(converted) = converted else {
        return Err(write(FormatError::Write {
            path: outputs.output.clone(),
            source: std::io::Error::other("the conversion did not finish"),
        }));
    };
    let not_written = not_written(valid, &converted, outputs);
    let mut pending = Vec::new();
    match &mut output {
        Output::Pending(p) if not_written.is_none() => pending.extend(p.take()),
        Output::Spooled(file) if not_written.is_none() => {
            copy_to_stdout(file).map_err(|source| {
                write(FormatError::Write {
                    path: outputs.output.clone(),
                    source,
                })
            })?;
        }
        // Not written: the temp file goes when dropped.
        _ => {}
    }
    finish(converted, valid, not_written, outputs, pending)
}

/// A streamed output: a temp file beside the target, or a spool for standard output.
enum Output {
    Pending(Option<atomic::Pending>),
    Spooled(std::fs::File),
}

/// Lines for standard output, held in an unnamed temp file until the conversion is known
/// to succeed (a failed one prints nothing).
fn spool(
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<std::fs::File, FormatError> {
    let wrap = |source| FormatError::Write {
        path: PathBuf::from("-"),
        source,
    };
    let mut file = tempfile::tempfile().map_err(wrap)?;
    {
        let mut w = std::io::BufWriter::new(&mut file);
        fill(&mut w).map_err(wrap)?;
        w.flush().map_err(wrap)?;
    }
    Ok(file)
}

fn copy_to_stdout(file: &mut std::fs::File) -> std::io::Result<()> {
    use std::io::Seek;
    file.seek(std::io::SeekFrom::Start(0))?;
    let stdout = std::io::stdout();
    let mut lock = stdout.lock();
    std::io::copy(file, &mut lock)?;
    lock.flush()
}

/// Writes records' lines in order, made in parallel.
fn write_lines(
    w: &mut dyn Write,
    records: &[Record],
    line: &(impl Fn(&Record, &mut Vec<u8>) -> std::io::Result<()> + Sync),
) -> std::io::Result<()> {
    // Chunks of records per thread task: one buffer each, joined in order.
    const CHUNK: usize = 64;
    let chunks: Vec<std::io::Result<Vec<u8>>> = records
        .par_chunks(CHUNK)
        .map(|chunk| {
            let mut buf = Vec::with_capacity(chunk.len() * 512);
            for record in chunk {
                line(record, &mut buf)?;
                buf.push(b'\n');
            }
            Ok(buf)
        })
        .collect();
    for chunk in chunks {
        w.write_all(&chunk?)?;
    }
    Ok(())
}

fn not_written(
    valid: usize,
    converted: &Converted,
    outputs: &ConvertOutputs,
) -> Option<NotWritten> {
    if valid == 0 {
        Some(NotWritten::NothingValid)
    } else if outputs.strict && !converted.rejects.is_empty() {
        Some(NotWritten::Strict)
    } else {
        None
    }
}

/// Writes the rejects, puts them in place with the prepared output, and reports.
fn finish(
    converted: Converted,
    valid: usize,
    not_written: Option<NotWritten>,
    outputs: &ConvertOutputs,
    mut pending: Vec<atomic::Pending>,
) -> Result<ConvertReport, PipelineError> {
    let write = PipelineError::Write;
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

/// A Parquet table is written whole: its single-turn pairs (the others are rejects, known
/// before writing).
fn convert_parquet(
    converter: Converter,
    inputs: &[PathBuf],
    options: &afinar_formats::ReadOptions,
    outputs: &ConvertOutputs,
) -> Result<ConvertReport, PipelineError> {
    let sources = read_paths(inputs, options).map_err(PipelineError::Source)?;
    let mut converted = converter.run(sources.into_iter().map(Input::from).collect());
    let examples = std::mem::take(&mut converted.records)
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
    let valid = rows.len();
    let not_written = not_written(valid, &converted, outputs);
    if not_written.is_none() {
        afinar_formats::write::write_parquet(&outputs.output, &rows)
            .map(drop)
            .map_err(PipelineError::Write)?;
    }
    finish(converted, valid, not_written, outputs, Vec::new())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::stage::redact::Environment;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fixtures")
            .join(name)
    }

    /// What `convert` wrote before it streamed: every source read whole, converted whole,
    /// then written at once.
    fn whole(spec: &ConvertSpec, inputs: &[PathBuf]) -> (Vec<u8>, Vec<u8>) {
        let sources = read_paths(inputs, &spec.read_options().unwrap()).unwrap();
        let converted = spec
            .build(&Environment)
            .unwrap()
            .run(sources.into_iter().map(Input::from).collect());
        let mut out = Vec::new();
        jsonl::write_lines(
            &mut out,
            converted.records.iter().map(Record::line),
            JsonlOptions::default(),
        )
        .unwrap();
        let mut rejects = Vec::new();
        jsonl::write_lines(&mut rejects, &converted.rejects, JsonlOptions::default()).unwrap();
        (out, rejects)
    }

    fn streamed(spec: &ConvertSpec, inputs: &[PathBuf], dir: &Path) -> (Vec<u8>, Vec<u8>) {
        let outputs = ConvertOutputs::new(dir.join("out.jsonl"), None, false, false);
        let report = convert(spec, inputs, &outputs, &Environment).unwrap();
        assert!(report.not_written.is_none());
        let read = |p: &Path| std::fs::read(p).unwrap();
        (
            read(&outputs.output),
            read(outputs.rejects.as_ref().unwrap()),
        )
    }

    /// A messy export longer than a batch: a title row, blank rows, rejects, multi-line
    /// quoted cells with `;` and quotes, accents.
    fn long_csv(rows: usize) -> String {
        let mut body =
            String::from("Perguntas frequentes (exportado);;\r\nTema;Pergunta;Resposta\r\n");
        for i in 0..rows {
            match i % 97 {
                13 => body.push_str(";;\r\n"),
                29 => body.push_str(&format!("DAS;Pergunta {i} sem resposta?;\r\n")),
                _ => body.push_str(&format!(
                    "MEI;\"Qual o limite {i}; e o prazo?\";\"R$ 4,8 milhões por ano.\r\nO \"\"DAS\"\" vence no dia {}.\"\r\n",
                    i % 28 + 1
                )),
            }
        }
        body
    }

    #[test]
    fn streaming_writes_the_bytes_the_whole_file_path_wrote() {
        let dir = tempfile::tempdir().unwrap();
        let long = dir.path().join("longo.csv");
        std::fs::write(&long, long_csv(5000)).unwrap();
        let cases = [
            "simples-nacional.csv",
            "simples-nacional.jsonl",
            "sources/faq-cp1252.csv",
            "sources/faq-latin1.tsv",
            "sources/faq-mac-roman-cr.csv",
            "sources/faq-utf16.csv",
            "sources/faq-huge-answer.csv",
            "sources/faq.ods",
            "limits/stray-cell.xlsx",
            "sources/artigo.md",
            "sources/llamafactory/openai_parts.jsonl",
            "curate/treino.jsonl",
            "sources/llamafactory/legacy_pc.jsonl",
            "sources/llamafactory/sharegpt_pt.json",
            "sources/html/faq-simples.html",
            "sources/docx/manual-duvidas.docx",
        ];
        let mut inputs: Vec<Vec<PathBuf>> = cases.iter().map(|c| vec![fixture(c)]).collect();
        inputs.push(vec![long.clone()]);
        // Several sources into one file, in the order given.
        inputs.push(vec![
            fixture("sources/faq-cp1252.csv"),
            long,
            fixture("sources/artigo.md"),
        ]);
        let mut completion = ConvertSpec::default();
        completion.shape.format = Format::Completion;
        completion.system.text = Some("Você é um assistente do escritório.".into());
        for spec in [ConvertSpec::default(), completion] {
            for input in &inputs {
                let out = tempfile::tempdir().unwrap();
                let expected = whole(&spec, input);
                assert!(!expected.0.is_empty(), "{input:?}");
                let got = streamed(&spec, input, out.path());
                assert!(got.0 == expected.0, "output of {input:?} differs");
                assert!(got.1 == expected.1, "rejects of {input:?} differ");
            }
        }
        let mut dpo = ConvertSpec::default();
        dpo.shape.format = Format::Dpo;
        let input = [fixture("sources/dpo.jsonl")];
        let out = tempfile::tempdir().unwrap();
        assert_eq!(streamed(&dpo, &input, out.path()), whole(&dpo, &input));
    }

    #[test]
    fn the_bytes_are_the_same_whatever_the_number_of_threads() {
        let dir = tempfile::tempdir().unwrap();
        let input = dir.path().join("longo.csv");
        std::fs::write(&input, long_csv(9000)).unwrap();
        let mut runs = Vec::new();
        for threads in [1, 2, 5] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            let out = dir.path().join(format!("out-{threads}"));
            runs.push(
                pool.install(|| {
                    streamed(&ConvertSpec::default(), std::slice::from_ref(&input), &out)
                }),
            );
        }
        assert!(runs[0].0.len() > 1_000_000, "more than a few batches");
        assert!(runs.iter().all(|r| *r == runs[0]));
    }

    #[test]
    fn a_source_failing_after_another_was_streamed_changes_no_output() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("bom.csv");
        std::fs::write(&good, long_csv(3000)).unwrap();
        let bad = dir.path().join("quebrado.xlsx");
        std::fs::write(&bad, b"PK\x03\x04 not a workbook").unwrap();
        let outputs = ConvertOutputs::new(dir.path().join("out.jsonl"), None, false, false);
        std::fs::write(&outputs.output, "antigo\n").unwrap();
        let rejects = outputs.rejects.clone().unwrap();
        std::fs::write(&rejects, "antigos\n").unwrap();
        let err = convert(
            &ConvertSpec::default(),
            &[good, bad],
            &outputs,
            &Environment,
        )
        .unwrap_err();
        assert!(err.to_string().contains("quebrado.xlsx"), "{err}");
        assert_eq!(
            std::fs::read_to_string(&outputs.output).unwrap(),
            "antigo\n"
        );
        assert_eq!(std::fs::read_to_string(&rejects).unwrap(), "antigos\n");
        let mut names: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        assert_eq!(
            names,
            ["bom.csv", "out.jsonl", "out.rejects.jsonl", "quebrado.xlsx"]
        );
    }

    #[test]
    fn the_rejects_go_beside_the_output_unless_told() {
        let o = ConvertOutputs::new("out/train.jsonl".into(), None, false, false);
        assert_eq!(o.rejects, Some(PathBuf::from("out/train.rejects.jsonl")));
        let o = ConvertOutputs::new("-".into(), None, false, false);
        assert_eq!(o.rejects, None);
        let o = ConvertOutputs::new("-".into(), Some("r.jsonl".into()), false, false);
        assert_eq!(o.rejects, Some(PathBuf::from("r.jsonl")));
    }
}
