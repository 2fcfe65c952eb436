//! The runner: the convert flow of every source, then the stateful stages, then the sinks.
//!
//! read → filter → system → redact → shape ([`crate::flow`]) → dedupe → split → check →
//! write. Every stage is counted the same way ([`StageCount`]), and the accounting is the
//! sum of those counts, so it closes by construction. Outputs are prepared beside their
//! targets and put in place by one [`afinar_formats::atomic::commit`] when the whole run
//! succeeded, so a failed run keeps the previous outputs.

use std::collections::BTreeMap;
use std::path::PathBuf;

use afinar_check::{CheckOptions, Registry};
use afinar_core::{Example, Origin};
use afinar_formats::Reject;
use afinar_formats::read::{SourceRequest, expand, read_source, sha256_hex};
use afinar_formats::write::jsonl::{JsonlOptions, write_lines};
use serde::Serialize;

use crate::PipelineError;
use crate::export;
use crate::flow::Input;
use crate::manifest::{
    Accounting, DuplicateEntry, Estimate, FileDigest, InputEntry, Manifest, OutputEntry, StageCount,
};
use crate::report::{self, ReportData};
use crate::spec::{Format, PipelineSpec};
use crate::stage::Record;
use crate::stage::redact::Environment;

/// How a run is told where things are.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The pipeline file, as the user named it.
    pub spec_path: PathBuf,
    /// Overrides the spec's `out_dir`.
    pub out_dir: Option<PathBuf>,
}

/// What a run produced, for the binary's summary.
#[derive(Debug)]
pub struct RunOutput {
    pub out_dir: PathBuf,
    pub manifest: Manifest,
    pub files: Vec<PathBuf>,
    /// Conflicting answers found.
    pub conflicts: usize,
    /// Problems `afinar check` found in the training file (over-limit examples…).
    pub check_errors: Vec<String>,
    /// The run should exit 1 (check errors, or conflicts with `fail_on_conflict`).
    pub failed: bool,
    /// The records and reports the run held to its end.
    pub held: Held,
}

/// What a run held in memory to its end: its records, rejects and reports. Dropping it
/// frees them one allocation at a time, half a second on one core for 200,000 rows,
/// so a caller with more to do hands it to another thread ([`Held::drop_in_background`]).
pub struct Held {
    _data: Box<dyn Send>,
}

impl Held {
    /// Frees the memory on a thread of its own ([`afinar_core::drop_in_background`]).
    pub fn drop_in_background(self) {
        afinar_core::drop_in_background(self);
    }
}

impl std::fmt::Debug for Held {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Held")
    }
}

/// Progress of the stages, for a progress bar or a log.
pub trait Progress {
    fn stage(&mut self, name: &str);
    /// Where a stage reports the rows or bytes it has done (the read stage, its bytes).
    fn counter(&self) -> &dyn afinar_core::progress::Progress {
        &afinar_core::progress::Silent
    }
}

impl<F: FnMut(&str)> Progress for F {
    fn stage(&mut self, name: &str) {
        self(name)
    }
}

/// [`afinar_formats::read::read_sources`], telling `counter` the bytes of each file read.
fn read_counted(
    requests: &[SourceRequest],
    counter: &dyn afinar_core::progress::Progress,
) -> Result<Vec<afinar_formats::read::Source>, afinar_formats::FormatError> {
    use rayon::prelude::*;
    let size = |r: &SourceRequest| std::fs::metadata(&r.path).map_or(0, |m| m.len());
    let total = requests.iter().map(size).sum();
    counter.begin("read", Some(total), afinar_core::progress::Unit::Bytes);
    let read: Vec<_> = requests
        .par_iter()
        .map(|r| {
            let source = read_source(&r.path, &r.options);
            counter.advance(size(r));
            source
        })
        .collect();
    counter.end();
    read.into_iter().collect()
}

/// The tokenizer an open-weight model counts with; `None` for OpenAI's encodings.
fn chat_tokenizer(
    spec: &PipelineSpec,
    model: &afinar_check::ModelInfo,
) -> Result<Option<afinar_tokens::chat::ChatTokenizer>, PipelineError> {
    use afinar_check::TokenizerKind;
    use afinar_tokens::chat::{ChatTokenizer, hub};
    let err = |source| PipelineError::Tokenizer {
        model: spec.model.name.clone(),
        source,
    };
    if let Some(path) = &spec.model.tokenizer {
        return ChatTokenizer::load(std::path::Path::new(path))
            .map(Some)
            .map_err(err);
    }
    match model.tokenizer {
        None => Ok(None),
        Some(TokenizerKind::Harmony) => Ok(Some(ChatTokenizer::harmony())),
        Some(TokenizerKind::ChatTemplate) => {
            let repo = model.hf_repo.as_deref().unwrap_or(&model.name);
            let dir = hub::find(repo).map_err(err)?;
            ChatTokenizer::load(&dir).map(Some).map_err(err)
        }
    }
}

/// The fixed outputs, in the order they are published.
const TRAIN: &str = "train.jsonl";
const VALIDATION: &str = "validation.jsonl";

/// Runs a pipeline.
pub fn run(
    spec: &PipelineSpec,
    spec_bytes: &[u8],
    opts: &RunOptions,
    progress: &mut dyn Progress,
) -> Result<RunOutput, PipelineError> {
    let spec_file = opts.spec_path.display().to_string();
    let registry = Registry::builtin();
    let model = registry
        .lookup(&spec.model.name)
        .ok_or_else(|| PipelineError::UnknownModel {
            name: spec.model.name.clone(),
        })?
        .clone();
    if spec.output.format == Format::Dpo {
        return Err(PipelineError::DpoPipeline);
    }

    // Read every source (globs expanded) in parallel, each with its own settings.
    progress.stage("read");
    let mut requests = Vec::new();
    let mut filters = Vec::new();
    for source in &spec.sources {
        let options = spec.convert_spec(source)?.read_options()?;
        for path in expand(&source.path).map_err(PipelineError::Source)? {
            requests.push(SourceRequest {
                path,
                options: options.clone(),
            });
            filters.push(source.filter_spec());
        }
    }
    let read = read_counted(&requests, progress.counter()).map_err(PipelineError::Source)?;

    // The stateless stages are the pipeline's, whatever the source.
    progress.stage("convert");
    let converter = spec.convert_spec(&spec.sources[0])?.build(&Environment)?;
    let inputs = read
        .into_iter()
        .zip(filters)
        .map(|(source, filter)| {
            let name = source.path.display().to_string();
            let filter = filter
                .map(|f| f.build(&name, &source.output.examples))
                .transpose()?;
            Ok(Input { source, filter })
        })
        .collect::<Result<Vec<_>, PipelineError>>()?;
    let mut converted = converter.run(inputs);
    let mut stages: Vec<StageCount> = converted.counts.clone();

    progress.stage("dedupe");
    let near = spec.dedupe.near();
    let deduped = spec
        .dedupe
        .build()
        .run(std::mem::take(&mut converted.records), progress.counter())?;
    stages.push(deduped.count.clone());
    let duplicates: Vec<DuplicateEntry> = deduped
        .report
        .iter()
        .flat_map(|r| &r.groups)
        .flat_map(|g| {
            g.dropped.iter().map(move |d| DuplicateEntry {
                origin: d.origin.to_string(),
                kept: g.kept.to_string(),
                similarity: round3(d.similarity),
                reason: serde_plain(&d.reason),
            })
        })
        .collect();
    let no_conflicts = Vec::new();
    let conflicts_found = deduped
        .report
        .as_ref()
        .map_or(&no_conflicts, |r| &r.conflicts);

    progress.stage("split");
    let sets =
        spec.split
            .build(near)
            .run(deduped.records, deduped.links.as_ref(), progress.counter())?;
    stages.push(sets.count.clone());

    // Every output in memory first: nothing is written unless everything succeeds.
    progress.stage("write");
    let out_dir = opts
        .out_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&spec.out_dir));
    let target = spec
        .output
        .target
        .as_ref()
        .map(|t| afinar_check::targets::lookup(t).map_err(PipelineError::Target))
        .transpose()?;
    let bom = spec.output.bom || spec.export.azure || crate::stage::target::wants_bom(target);
    let jsonl = |records: &[Record], bom: bool| -> Result<Vec<u8>, PipelineError> {
        // Room for every line at once (the text plus a margin for keys and escapes):
        // grown by doubling, the buffer was copied and page-faulted again at each step.
        let text: usize = records
            .iter()
            .map(|r| {
                r.example().map_or(256, |e| {
                    e.messages
                        .iter()
                        .map(|m| m.content.len() + 48)
                        .sum::<usize>()
                        + 32
                })
            })
            .sum();
        let mut buf = Vec::with_capacity(text + text / 8);
        afinar_formats::write::jsonl::write_lines_par(
            &mut buf,
            &crate::stage::target::lines(target, records)?,
            JsonlOptions { bom },
        )
        .map_err(PipelineError::Encode)?;
        Ok(buf)
    };
    let rejects = &converted.rejects;
    // The files at once: the smaller ones while the larger ones leave a core idle.
    let side_files = || -> Result<_, PipelineError> {
        let mut rejects_bytes = Vec::new();
        write_lines(&mut rejects_bytes, rejects, JsonlOptions::default())
            .map_err(PipelineError::Encode)?;
        let dup_bytes = serde_json::to_vec_pretty(&DuplicatesFile {
            near_threshold: near,
            duplicates: &duplicates,
            conflicts: deduped.report.as_ref().map(|r| &r.conflicts),
        })
        .map_err(PipelineError::Serialize)?;
        Ok((rejects_bytes, dup_bytes))
    };
    let (train_bytes, (validation_bytes, side)) = rayon::join(
        || jsonl(&sets.train, bom),
        || rayon::join(|| jsonl(&sets.validation, bom), side_files),
    );
    let (train_bytes, validation_bytes) = (train_bytes?, validation_bytes?);
    let (rejects_bytes, dup_bytes) = side?;
    let mut files: Vec<(String, Vec<u8>)> = vec![
        (TRAIN.into(), train_bytes),
        (VALIDATION.into(), validation_bytes),
        ("rejects.jsonl".into(), rejects_bytes),
        ("duplicates.json".into(), dup_bytes),
    ];

    // Count tokens and check the outputs as the service would.
    progress.stage("check");
    let mut check_opts = CheckOptions::new(model.clone());
    check_opts.model_name = spec.model.name.clone();
    check_opts.max_tokens = spec.model.max_tokens;
    check_opts.rules = target.map(|t| std::sync::Arc::new(t.clone()));
    if let Some(t) = target {
        check_opts.target = t.id.clone();
    }
    // Open-weight models count with their own tokenizer and chat template: gpt-oss in
    // harmony (bundled, no files), the others from `[model] tokenizer` or the local
    // Hugging Face cache. The limit is that of the training place the target names,
    // else the model's first.
    check_opts.chat_tokenizer = chat_tokenizer(spec, &model)?.map(std::sync::Arc::new);
    check_opts.place = target
        .and_then(|t| model.place(Some(&t.id)))
        .or_else(|| model.place(None))
        .cloned();
    // The check engine counts exactly as the service does; keep each example's count.
    let check = |name: &str, bytes: &[u8]| {
        let mut tokens = Vec::new();
        afinar_check::check_reader(
            name,
            std::io::Cursor::new(bytes),
            Some(bytes.len() as u64),
            &check_opts,
            &mut |t| {
                tokens.push(t.tokens.unwrap_or(0));
                Ok(())
            },
        )
        .map(|report| (report, tokens))
        .map_err(|source| PipelineError::Check {
            file: name.to_owned(),
            source,
        })
    };
    // The data files are written to their temp files while they are checked (the check
    // decides nothing about them; a failure later drops the temp files), on a thread
    // outside the pool: waiting for the disk there left the check one core.
    let prepare = |(name, bytes): &(String, Vec<u8>)| {
        afinar_formats::atomic::prepare(&out_dir.join(name), |w| w.write_all(bytes))
            .map_err(PipelineError::Write)
    };
    let (checked, (data_pending, digests)) = std::thread::scope(|scope| {
        let written = scope.spawn(|| {
            let pending = files.iter().map(prepare).collect::<Result<Vec<_>, _>>();
            (pending, [sha256_hex(&files[0].1), sha256_hex(&files[1].1)])
        });
        let checked =
            check(TRAIN, &files[0].1).and_then(|t| Ok((t, check(VALIDATION, &files[1].1)?)));
        let written = written
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (checked, written)
    });
    let ((train_report, train_tokens), (validation_report, validation_tokens)) = checked?;
    let mut pending = data_pending?;
    let [train_sha256, validation_sha256] = digests;
    let at = |file: &str, line: Option<u64>| {
        line.map_or_else(|| file.to_owned(), |l| format!("{file}:{l}"))
    };
    let mut check_errors: Vec<String> = sets
        .too_few
        .iter()
        .map(|e| format!("{e} (the pipeline's `split.validation`; see rejects.jsonl)"))
        .collect();
    check_errors.extend(
        train_report
            .errors
            .iter()
            .map(|f| format!("{}: {}", at(TRAIN, f.line), f.message)),
    );
    // A validation file has no minimum size (a file-level rule); its other errors count.
    check_errors.extend(
        validation_report
            .errors
            .iter()
            .filter(|f| f.line.is_some())
            .map(|f| format!("{}: {}", at(VALIDATION, f.line), f.message)),
    );

    // Exports for other trainers.
    let train: Vec<&Example> = sets.train.iter().filter_map(Record::example).collect();
    let validation: Vec<&Example> = sets.validation.iter().filter_map(Record::example).collect();
    if let Some(fmt) = spec.export.llama_factory {
        files.extend(
            export::llama_factory(fmt, &train, &validation).map_err(PipelineError::Serialize)?,
        );
    }
    if spec.export.parquet {
        parquet_export(&mut files, &mut check_errors, &train, &validation)?;
    }
    if spec.export.axolotl {
        files.push((
            "axolotl.yml".into(),
            export::axolotl_config(&out_dir).into_bytes(),
        ));
    }

    // Manifest and report.
    let rows_read = converted.rows_read();
    let accounting = Accounting {
        rows_read,
        filtered_out: stages.iter().map(|s| s.filtered).sum(),
        rejected: stages.iter().map(|s| s.rejected).sum(),
        duplicates: stages.iter().map(|s| s.duplicates).sum(),
        train: sets.train.len() as u64,
        validation: sets.validation.len() as u64,
        closes: false,
    }
    .closed();
    let mut rejects_by_code = BTreeMap::new();
    for r in rejects {
        *rejects_by_code.entry(r.code.to_owned()).or_insert(0) += 1;
    }
    let inputs: Vec<InputEntry> = converted
        .sources
        .iter()
        .map(|s| InputEntry {
            path: s.path.clone(),
            sha256: s.sha256.clone(),
            format: s.info.format.clone(),
            encoding: s.info.encoding.clone(),
            sheet: s.info.sheet.clone(),
            rows_read: s.info.rows,
        })
        .collect();
    // Outputs are named relative to the output directory, so the manifest does not
    // depend on where the run wrote.
    let manifest = Manifest {
        afinar_version: env!("CARGO_PKG_VERSION").to_owned(),
        pipeline: FileDigest {
            path: spec_file.clone(),
            sha256: sha256_hex(spec_bytes),
        },
        inputs,
        stages,
        accounting,
        rejects_by_code,
        duplicates: duplicates.clone(),
        conflicts: conflicts_found.len() as u64,
        outputs: vec![
            OutputEntry {
                path: TRAIN.into(),
                sha256: train_sha256,
                examples: sets.train.len() as u64,
                tokens: train_tokens.iter().sum(),
            },
            OutputEntry {
                path: VALIDATION.into(),
                sha256: validation_sha256,
                examples: sets.validation.len() as u64,
                tokens: validation_tokens.iter().sum(),
            },
        ],
        estimate: Estimate {
            model: spec.model.name.clone(),
            encoding: train_report.encoding.clone(),
            max_tokens_per_example: train_report.limit,
            epochs: train_report.epochs,
            billed_tokens: train_report.billed_tokens,
            cost_usd: train_report.cost.map(round2),
        },
        redactions: converted
            .redacted
            .map(|r| {
                afinar_redact::Kind::ALL
                    .into_iter()
                    .map(|k| (k.as_str().to_owned(), r.counts.get(k)))
                    .collect()
            })
            .unwrap_or_default(),
    };
    let manifest_bytes = serde_json::to_vec_pretty(&manifest).map_err(PipelineError::Serialize)?;
    let sources_rows = converted
        .sources
        .iter()
        .map(|s| report::SourceRow {
            path: s.path.clone(),
            format: s.info.format.clone(),
            encoding: s.info.encoding.clone(),
            sheet: s.info.sheet.clone().unwrap_or_default(),
            rows: s.info.rows,
            examples: s.kept,
            rejected: s.rejected,
        })
        .collect();
    let report_data = report_data(
        spec,
        &manifest,
        sources_rows,
        &sets.split,
        &train,
        &train_tokens,
        rejects,
        &duplicates,
        conflicts_found,
    );
    let html = report::render(&report_data)?;
    files.push(("manifest.json".into(), manifest_bytes));
    files.push(("report.html".into(), html.into_bytes()));

    // All new outputs or all old ones.
    let targets: Vec<PathBuf> = files.iter().map(|(name, _)| out_dir.join(name)).collect();
    for file in &files[pending.len()..] {
        pending.push(prepare(file)?);
    }
    afinar_formats::atomic::commit(pending).map_err(PipelineError::Write)?;

    let conflicts = conflicts_found.len();
    let failed = !check_errors.is_empty() || (spec.dedupe.fail_on_conflict && conflicts > 0);
    drop((train, validation));
    let held = Held {
        _data: Box::new((
            sets,
            converted,
            deduped.report,
            deduped.links,
            duplicates,
            files,
            train_tokens,
        )),
    };
    Ok(RunOutput {
        out_dir,
        manifest,
        files: targets,
        conflicts,
        check_errors,
        failed,
        held,
    })
}

/// `train.parquet` and `validation.parquet`, or neither with an error when an example
/// cannot be one row (a partial table would lose examples silently).
fn parquet_export(
    files: &mut Vec<(String, Vec<u8>)>,
    check_errors: &mut Vec<String>,
    train: &[&Example],
    validation: &[&Example],
) -> Result<(), PipelineError> {
    let multi: Vec<&Example> = train
        .iter()
        .chain(validation)
        .copied()
        .filter(|e| !afinar_formats::write::is_parquet_row(e))
        .collect();
    if let Some(first) = multi.first() {
        check_errors.push(format!(
            "`[export] parquet`: {} multi-turn {} cannot be one table row (first: `{}`), so \
             `train.parquet` and `validation.parquet` were not written; remove `parquet = true` \
             or keep single-turn examples",
            multi.len(),
            if multi.len() == 1 {
                "example"
            } else {
                "examples"
            },
            first.origin
        ));
        return Ok(());
    }
    for (name, rows) in [("train.parquet", train), ("validation.parquet", validation)] {
        let bytes =
            afinar_formats::write::parquet_bytes(name, rows).map_err(PipelineError::Write)?;
        files.push((name.to_owned(), bytes));
    }
    Ok(())
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// A serde unit variant as its plain name (`exact`, `near`).
fn serde_plain<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

#[derive(Serialize)]
struct DuplicatesFile<'a> {
    near_threshold: Option<f64>,
    duplicates: &'a [DuplicateEntry],
    conflicts: Option<&'a Vec<afinar_curate::Conflict>>,
}

#[allow(clippy::too_many_arguments)]
fn report_data(
    spec: &PipelineSpec,
    manifest: &Manifest,
    sources: Vec<report::SourceRow>,
    split: &afinar_curate::Split,
    train: &[&Example],
    train_tokens: &[u64],
    rejects: &[Reject],
    duplicates: &[DuplicateEntry],
    conflicts: &[afinar_curate::Conflict],
) -> ReportData {
    let mut longest: Vec<(u64, &Example)> = train_tokens
        .iter()
        .copied()
        .zip(train.iter().copied())
        .collect();
    longest.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.origin.cmp(&b.1.origin)));
    ReportData {
        name: spec.name.clone().unwrap_or_else(|| "pipeline".into()),
        afinar_version: manifest.afinar_version.clone(),
        sources,
        topics: split
            .strata
            .iter()
            .map(|s| report::TopicRow {
                topic: s.name.clone(),
                train: s.train as u64,
                validation: s.validation as u64,
            })
            .collect(),
        histogram: report::Histogram::new(train_tokens, manifest.estimate.max_tokens_per_example),
        longest: longest
            .iter()
            .take(10)
            .map(|(t, e)| report::LongRow {
                origin: e.origin.to_string(),
                tokens: *t,
                question: e.question().unwrap_or("").chars().take(160).collect(),
            })
            .collect(),
        rejects: rejects
            .iter()
            .map(|r| report::RejectRow {
                origin: r.origin.to_string(),
                reason: r.reason.clone(),
            })
            .collect(),
        duplicates: duplicates
            .iter()
            .map(|d| report::DuplicateRow {
                origin: d.origin.clone(),
                kept: d.kept.clone(),
                similarity: format!("{:.2}", d.similarity),
                reason: d.reason.clone(),
            })
            .collect(),
        conflicts: conflicts
            .iter()
            .map(|c| report::ConflictRow {
                origins: c
                    .origins
                    .iter()
                    .map(Origin::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
                question: c.question.clone(),
            })
            .collect(),
        totals: manifest.accounting,
        estimate: report::EstimateRow {
            model: manifest.estimate.model.clone(),
            max_tokens: manifest.estimate.max_tokens_per_example,
            total_tokens: manifest.outputs[0].tokens,
            epochs: manifest.estimate.epochs,
            billed_tokens: manifest.estimate.billed_tokens,
            cost: manifest
                .estimate
                .cost_usd
                .map_or_else(|| "unknown".into(), |c| format!("US$ {c:.2}")),
        },
    }
}
