//! The runner: chains the stages and accounts for every row.
//!
//! read → filter → system → shape → dedupe → split → write → count → manifest + report.
//! Everything is written into a staging directory beside the output directory and moved
//! into place only when the whole run succeeded, so a failed run keeps the previous
//! outputs.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use afinar_check::{CheckOptions, Registry};
use afinar_core::{Completion, CompletionOptions, Example, Origin, RoleAliases};
use afinar_curate::{DedupeOptions, SplitOptions};
use afinar_formats::write::jsonl::{ChatLine, JsonlOptions, write_lines};
use afinar_formats::{ReadOptions, Reject, columns, read};
use serde::Serialize;

use crate::PipelineError;
use crate::export;
use crate::manifest::{
    Accounting, DuplicateEntry, Estimate, FileDigest, InputEntry, Manifest, OutputEntry,
    StageCount, sha256_hex,
};
use crate::report::{self, ReportData};
use crate::spec::{Format, PipelineSpec, Validation};

/// How a run is told where things are.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The pipeline file, as the user named it.
    pub spec_path: PathBuf,
    /// Overrides the spec's `out_dir`.
    pub out_dir: Option<PathBuf>,
}

/// What a run produced, for the binary's summary.
#[derive(Debug, Clone)]
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
}

/// Progress of the stages, for a progress bar or a log.
pub trait Progress {
    fn stage(&mut self, name: &str);
}

impl<F: FnMut(&str)> Progress for F {
    fn stage(&mut self, name: &str) {
        self(name)
    }
}

/// Runs a pipeline.
pub fn run(
    spec: &PipelineSpec,
    spec_bytes: &[u8],
    opts: &RunOptions,
    progress: &mut dyn Progress,
) -> Result<RunOutput, PipelineError> {
    let spec_file = opts.spec_path.display().to_string();
    let invalid = |message: String| PipelineError::Invalid {
        file: spec_file.clone(),
        message,
    };
    let registry = Registry::builtin();
    let model = registry
        .lookup(&spec.model.name)
        .ok_or_else(|| {
            invalid(format!(
                "Unknown model `{}`; `afinar models` lists them",
                spec.model.name
            ))
        })?
        .clone();
    if spec.output.format == Format::Dpo {
        return Err(invalid("`output.format = \"dpo\"` is not supported by pipelines yet; use `afinar convert --to dpo`".into()));
    }
    let completion_opts = CompletionOptions {
        system: spec.output.system_policy,
        prompt_suffix: spec.output.prompt_suffix.clone(),
        completion_prefix: spec.output.completion_prefix.clone(),
        completion_suffix: spec.output.completion_suffix.clone(),
    };

    let redactor = spec
        .redact
        .as_ref()
        .map(redactor)
        .transpose()
        .map_err(&invalid)?;
    let mut redactions = afinar_redact::Counts::default();

    // Read.
    progress.stage("read");
    let mut inputs = Vec::new();
    let mut examples: Vec<Example> = Vec::new();
    let mut rejects: Vec<Reject> = Vec::new();
    let mut sources_rows = Vec::new();
    let mut filtered_out = 0u64;
    for source in &spec.sources {
        let paths = expand(&source.path).map_err(invalid)?;
        for path in paths {
            let read_opts = ReadOptions {
                question: source.question.clone(),
                answer: source.answer.clone(),
                delimiter: source
                    .delimiter
                    .as_deref()
                    .map(read::parse_delimiter)
                    .transpose()
                    .map_err(invalid)?,
                encoding: source.encoding.clone(),
                sheet: source.sheet.clone(),
                aliases: RoleAliases::default(),
                normalize: spec.normalize.enabled,
                completion: completion_opts.clone(),
                ..Default::default()
            };
            let bytes = fs::read(&path)
                .map_err(|e| invalid(format!("Failed to read source `{}`: {e}", path.display())))?;
            let name = path.display().to_string();
            let kind =
                afinar_formats::InputKind::from_path(&path).map_err(|e| invalid(e.to_string()))?;
            let mut out = read::read_bytes(kind, &bytes, &name, &read_opts)
                .map_err(|e| invalid(e.to_string()))?;
            for p in out.preferences.drain(..) {
                rejects.push(Reject::new(
                    p.origin,
                    "DPO example in a chat or completion pipeline; use `afinar convert --to dpo`",
                    String::new(),
                ));
            }
            // A filter on a column the source does not have would silently drop everything.
            for column in source.filter.keys() {
                let folded = columns::fold(column);
                let has = |e: &Example| e.meta.keys().any(|k| columns::fold(k) == folded);
                if !out.examples.is_empty() && !out.examples.iter().any(has) {
                    return Err(invalid(format!(
                        "Source `{name}` has no column `{column}` for its filter; check the name"
                    )));
                }
            }
            let (mut kept, mut dropped) = (Vec::new(), 0u64);
            for ex in out.examples.drain(..) {
                if passes(&ex, &source.filter) {
                    kept.push(ex);
                } else {
                    dropped += 1;
                }
            }
            if let Some(meta) = &source.meta {
                let wanted: Vec<String> = meta.iter().map(|m| columns::fold(m)).collect();
                for ex in &mut kept {
                    ex.meta.retain(|k, _| wanted.contains(&columns::fold(k)));
                }
            }
            filtered_out += dropped;
            sources_rows.push(report::SourceRow {
                path: name.clone(),
                format: out.info.format.clone(),
                encoding: out.info.encoding.clone(),
                sheet: out.info.sheet.clone().unwrap_or_default(),
                rows: out.info.rows,
                examples: kept.len() as u64,
                rejected: out.rejects.len() as u64,
            });
            inputs.push(InputEntry {
                path: name,
                sha256: sha256_hex(&bytes),
                format: out.info.format.clone(),
                encoding: out.info.encoding.clone(),
                sheet: out.info.sheet.clone(),
                rows_read: out.info.rows,
            });
            if let Some(r) = &redactor {
                for ex in &mut kept {
                    redactions += r.redact_example(ex);
                }
                // Rejected rows stay on this machine, but are masked all the same.
                for reject in &mut out.rejects {
                    r.redact_string(&mut reject.raw);
                }
            }
            rejects.append(&mut out.rejects);
            examples.append(&mut kept);
        }
    }
    let rows_read: u64 = inputs.iter().map(|i| i.rows_read).sum();
    let mut stages = vec![StageCount {
        stage: "read".into(),
        input: rows_read,
        output: examples.len() as u64 + filtered_out,
        removed: rejects.len() as u64,
    }];
    if filtered_out > 0 {
        stages.push(stage(
            "filter",
            examples.len() as u64 + filtered_out,
            examples.len() as u64,
        ));
    }

    // System message, and the output shape (examples that cannot take it are rejects).
    progress.stage("convert");
    let before = examples.len() as u64;
    let mut shaped = Vec::with_capacity(examples.len());
    for mut ex in examples {
        if let Some(system) = &spec.system {
            ex.set_system(system);
        }
        if spec.output.format == Format::Completion
            && let Err(e) = Completion::from_example(&ex, &completion_opts)
        {
            let raw = serde_json::to_string(&ChatLine(&ex)).unwrap_or_default();
            rejects.push(Reject::new(ex.origin.clone(), e.to_string(), raw));
            continue;
        }
        shaped.push(ex);
    }
    stages.push(stage("convert", before, shaped.len() as u64));

    // Dedupe.
    progress.stage("dedupe");
    let near = if spec.dedupe.exact_only {
        None
    } else {
        Some(
            spec.dedupe
                .near
                .unwrap_or(afinar_curate::DEFAULT_NEAR_THRESHOLD),
        )
    };
    let before = shaped.len() as u64;
    // Dedupe hands split the links it found, so split does not prepare every example again.
    let (kept, dedupe_report, links) = if spec.dedupe.enabled {
        let (out, links) = afinar_curate::dedupe_with_links(shaped, &DedupeOptions { near })
            .map_err(|e| invalid(e.to_string()))?;
        (out.kept, Some(out.report), Some(links))
    } else {
        (shaped, None, None)
    };
    stages.push(stage("dedupe", before, kept.len() as u64));
    let duplicates: Vec<DuplicateEntry> = dedupe_report
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
    let conflicts = dedupe_report.as_ref().map_or(0, |r| r.conflicts.len());

    // Split.
    progress.stage("split");
    let split_opts = SplitOptions {
        validation: match spec.split.validation {
            Validation::Count(n) => afinar_curate::Validation::Count(n as usize),
            Validation::Fraction(f) => afinar_curate::Validation::Fraction(f),
        },
        seed: spec.split.seed,
        stratify: spec.split.stratify.clone(),
        near,
    };
    // Too few examples to split is a data problem, not a reason to lose the run's
    // rejects and manifest: everything goes to train and the run fails (exit 1).
    let mut too_few = None;
    let split_result = match &links {
        Some(links) => afinar_curate::split_with_links(&kept, links, &split_opts),
        None => afinar_curate::split(&kept, &split_opts),
    };
    let split = match split_result {
        Ok(split) => split,
        Err(
            e @ (afinar_curate::CurateError::TooFew { .. }
            | afinar_curate::CurateError::Count { .. }),
        ) => {
            too_few = Some(format!(
                "{e} (the pipeline's `split.validation`; see rejects.jsonl)"
            ));
            afinar_curate::Split {
                train: (0..kept.len()).collect(),
                validation: Vec::new(),
                strata: Vec::new(),
                joined_groups: 0,
            }
        }
        Err(e) => return Err(invalid(e.to_string())),
    };
    let train: Vec<&Example> = split.train.iter().map(|&i| &kept[i]).collect();
    let validation: Vec<&Example> = split.validation.iter().map(|&i| &kept[i]).collect();
    stages.push(StageCount {
        stage: "split".into(),
        input: kept.len() as u64,
        output: (train.len() + validation.len()) as u64,
        removed: 0,
    });

    // Write everything into a staging directory.
    progress.stage("write");
    let out_dir = opts
        .out_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&spec.out_dir));
    let staging = Staging::new(&out_dir).map_err(&invalid)?;
    let bom = spec.output.bom || spec.export.azure;
    let lines = |set: &[&Example]| -> Result<Vec<u8>, PipelineError> {
        let mut buf = Vec::new();
        let io = |e: std::io::Error| PipelineError::Invalid {
            file: spec_file.clone(),
            message: e.to_string(),
        };
        match spec.output.format {
            Format::Completion => {
                let pcs = set
                    .iter()
                    .filter_map(|e| Completion::from_example(e, &completion_opts).ok());
                write_lines(&mut buf, pcs, JsonlOptions { bom }).map_err(io)?;
            }
            _ => write_lines(
                &mut buf,
                set.iter().map(|e| ChatLine(e)),
                JsonlOptions { bom },
            )
            .map_err(io)?,
        }
        Ok(buf)
    };
    let train_bytes = lines(&train)?;
    let validation_bytes = lines(&validation)?;
    let mut rejects_bytes = Vec::new();
    write_lines(&mut rejects_bytes, &rejects, JsonlOptions::default())
        .map_err(|e| invalid(e.to_string()))?;
    let dup_bytes = serde_json::to_vec_pretty(&DuplicatesFile {
        near_threshold: near,
        duplicates: &duplicates,
        conflicts: dedupe_report.as_ref().map(|r| &r.conflicts),
    })
    .map_err(|e| invalid(e.to_string()))?;
    staging.put("train.jsonl", &train_bytes).map_err(&invalid)?;
    staging
        .put("validation.jsonl", &validation_bytes)
        .map_err(&invalid)?;
    staging
        .put("rejects.jsonl", &rejects_bytes)
        .map_err(&invalid)?;
    staging
        .put("duplicates.json", &dup_bytes)
        .map_err(&invalid)?;

    // Count tokens and check the outputs as the service would.
    progress.stage("check");
    let mut check_opts = CheckOptions::new(model.clone());
    check_opts.model_name = spec.model.name.clone();
    check_opts.max_tokens = spec.model.max_tokens;
    // The check engine counts exactly as the service does; keep each example's count.
    let check = |name: &str| {
        let mut tokens = Vec::new();
        afinar_check::check_path(&staging.path(name), &check_opts, &mut |t| {
            tokens.push(t.tokens.unwrap_or(0));
            Ok(())
        })
        .map(|report| (report, tokens))
        .map_err(|e| invalid(e.to_string()))
    };
    let (train_report, train_tokens) = check("train.jsonl")?;
    let (validation_report, validation_tokens) = check("validation.jsonl")?;
    let at = |file: &str, line: Option<u64>| {
        line.map_or_else(|| file.to_owned(), |l| format!("{file}:{l}"))
    };
    let mut check_errors: Vec<String> = too_few.into_iter().collect();
    check_errors.extend(
        train_report
            .errors
            .iter()
            .map(|f| format!("{}: {}", at("train.jsonl", f.line), f.message)),
    );
    // A validation file has no minimum size (a file-level rule); its other errors count.
    check_errors.extend(
        validation_report
            .errors
            .iter()
            .filter(|f| f.line.is_some())
            .map(|f| format!("{}: {}", at("validation.jsonl", f.line), f.message)),
    );

    // Exports for other trainers.
    let mut extra_files = Vec::new();
    if let Some(fmt) = spec.export.llama_factory {
        for (name, bytes) in export::llama_factory(fmt, &train, &validation).map_err(&invalid)? {
            staging.put(&name, &bytes).map_err(&invalid)?;
            extra_files.push(name);
        }
    }
    if spec.export.axolotl {
        let name = "axolotl.yml".to_owned();
        staging
            .put(&name, export::axolotl_config(&out_dir).as_bytes())
            .map_err(&invalid)?;
        extra_files.push(name);
    }

    // Manifest and report.
    let accounting = Accounting {
        rows_read,
        filtered_out,
        rejected: rejects.len() as u64,
        duplicates: duplicates.len() as u64,
        train: train.len() as u64,
        validation: validation.len() as u64,
        closes: false,
    }
    .closed();
    let mut rejects_by_reason = BTreeMap::new();
    for r in &rejects {
        *rejects_by_reason.entry(r.reason.clone()).or_insert(0) += 1;
    }
    // Outputs are named relative to the output directory, so the manifest does not
    // depend on where the run wrote.
    let out_rel = |name: &str| name.to_owned();
    let manifest = Manifest {
        afinar_version: env!("CARGO_PKG_VERSION").to_owned(),
        pipeline: FileDigest {
            path: spec_file.clone(),
            sha256: sha256_hex(spec_bytes),
        },
        inputs,
        stages,
        accounting,
        rejects_by_reason,
        duplicates: duplicates.clone(),
        conflicts: conflicts as u64,
        outputs: vec![
            OutputEntry {
                path: out_rel("train.jsonl"),
                sha256: sha256_hex(&train_bytes),
                examples: train.len() as u64,
                tokens: train_tokens.iter().sum(),
            },
            OutputEntry {
                path: out_rel("validation.jsonl"),
                sha256: sha256_hex(&validation_bytes),
                examples: validation.len() as u64,
                tokens: validation_tokens.iter().sum(),
            },
        ],
        estimate: Estimate {
            model: spec.model.name.clone(),
            encoding: model.encoding.to_string(),
            max_tokens_per_example: train_report.limit,
            epochs: train_report.epochs,
            billed_tokens: train_report.billed_tokens,
            cost_usd: train_report.cost.map(round2),
        },
        redactions: afinar_redact::Kind::ALL
            .into_iter()
            .filter(|_| redactor.is_some())
            .map(|k| (k.as_str().to_owned(), redactions.get(k)))
            .collect(),
    };
    let manifest_bytes =
        serde_json::to_vec_pretty(&manifest).map_err(|e| invalid(e.to_string()))?;
    staging
        .put("manifest.json", &manifest_bytes)
        .map_err(&invalid)?;

    let report_data = report_data(
        spec,
        &manifest,
        sources_rows,
        &split,
        &train,
        &train_tokens,
        &rejects,
        &duplicates,
        dedupe_report
            .as_ref()
            .map(|r| r.conflicts.as_slice())
            .unwrap_or(&[]),
    );
    let html = report::render(&report_data)?;
    staging
        .put("report.html", html.as_bytes())
        .map_err(&invalid)?;

    let mut names: Vec<String> = [
        "train.jsonl",
        "validation.jsonl",
        "rejects.jsonl",
        "duplicates.json",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    names.extend(extra_files);
    names.push("manifest.json".into());
    names.push("report.html".into());
    let files = staging.publish(&names).map_err(&invalid)?;

    let failed = !check_errors.is_empty() || (spec.dedupe.fail_on_conflict && conflicts > 0);
    Ok(RunOutput {
        out_dir,
        manifest,
        files,
        conflicts,
        check_errors,
        failed,
    })
}

fn redactor(spec: &crate::spec::RedactSpec) -> Result<afinar_redact::Redactor, String> {
    let mut scanner = afinar_redact::Scanner::new();
    if let Some(path) = &spec.names {
        let text = fs::read_to_string(path)
            .map_err(|e| format!("Failed to read the names file `{path}`: {e}"))?;
        let names = afinar_redact::NameList::parse(&text)
            .map_err(|e| format!("Names file `{path}`: {e}"))?;
        scanner = scanner.with_names(names);
    }
    let mode = match spec.mode {
        crate::spec::RedactMode::Placeholder => afinar_redact::Mode::Placeholder,
        crate::spec::RedactMode::Fake => {
            let secret = std::env::var("AFINAR_REDACT_KEY").ok().filter(|k| !k.is_empty()).ok_or_else(|| {
                "`redact.mode = \"fake\"` needs a secret key in `AFINAR_REDACT_KEY` (fakes made with a known key can be traced back); or use `mode = \"placeholder\"`".to_owned()
            })?;
            afinar_redact::Mode::Fake(afinar_redact::FakeKey::from_secret(secret.as_bytes()))
        }
    };
    Ok(afinar_redact::Redactor::new(scanner, mode))
}

fn stage(name: &str, input: u64, output: u64) -> StageCount {
    StageCount {
        stage: name.into(),
        input,
        output,
        removed: input.saturating_sub(output),
    }
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

/// A path, or a glob's matches in sorted order.
fn expand(pattern: &str) -> Result<Vec<PathBuf>, String> {
    if !pattern.contains(['*', '?', '[']) {
        return Ok(vec![PathBuf::from(pattern)]);
    }
    let paths =
        glob::glob(pattern).map_err(|e| format!("Source `{pattern}` is not a valid glob: {e}"))?;
    let mut found: Vec<PathBuf> = paths
        .filter_map(Result::ok)
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    if found.is_empty() {
        return Err(format!("Source `{pattern}` matches no files"));
    }
    Ok(found)
}

/// Whether an example's meta passes a source's filter (values compared folded).
fn passes(ex: &Example, filter: &BTreeMap<String, crate::spec::FilterValue>) -> bool {
    filter.iter().all(|(column, accepted)| {
        let folded = columns::fold(column);
        let value = ex
            .meta
            .iter()
            .find(|(k, _)| columns::fold(k) == folded)
            .map(|(_, v)| columns::fold(v));
        value.is_some_and(|v| accepted.values().iter().any(|a| columns::fold(a) == v))
    })
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

/// A directory inside the output directory where a run writes; published by renames.
/// It is registered with [`afinar_formats::atomic`], so an interrupt removes it, and named
/// after the process, so a later run removes one left by a process that died.
struct Staging {
    dir: afinar_formats::atomic::TempPath,
    out_dir: PathBuf,
}

impl Staging {
    const PREFIX: &str = ".afinar-run-";

    fn new(out_dir: &Path) -> Result<Self, String> {
        fs::create_dir_all(out_dir).map_err(|e| {
            format!(
                "Failed to create output directory `{}`: {e}",
                out_dir.display()
            )
        })?;
        // Staging directories of runs that were killed (SIGKILL, power loss); those of
        // live processes, or of other hosts' processes we cannot see, stay.
        afinar_formats::atomic::remove_stale(out_dir, Self::PREFIX);
        let dir =
            afinar_formats::atomic::TempPath::new_dir(out_dir, Self::PREFIX).map_err(|e| {
                format!(
                    "Failed to create a staging directory in `{}`: {e}",
                    out_dir.display()
                )
            })?;
        Ok(Self {
            dir,
            out_dir: out_dir.to_owned(),
        })
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn put(&self, name: &str, bytes: &[u8]) -> Result<(), String> {
        let path = self.path(name);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| format!("Failed to write `{name}`: {e}"))?;
        }
        fs::write(&path, bytes).map_err(|e| format!("Failed to write `{name}`: {e}"))
    }

    /// Moves every staged file into the output directory, as one critical section: an
    /// interrupt waits for it to finish. Parent directories are made first; if a rename
    /// then fails, the files already moved are put back, so the output directory holds
    /// all the old outputs or all the new ones.
    fn publish(self, names: &[String]) -> Result<Vec<PathBuf>, String> {
        afinar_formats::atomic::publishing(|| self.publish_all(names))
    }

    fn publish_all(&self, names: &[String]) -> Result<Vec<PathBuf>, String> {
        for name in names {
            if let Some(parent) = self.out_dir.join(name).parent() {
                fs::create_dir_all(parent)
                    .map_err(|e| format!("Failed to publish `{name}`: {e}"))?;
            }
        }
        // Previous outputs are kept in the staging directory until every new one is in.
        let previous = self.dir.path().join(".previous");
        let mut done: Vec<(PathBuf, Option<PathBuf>)> = Vec::with_capacity(names.len());
        for name in names {
            let target = self.out_dir.join(name);
            match self.replace(name, &target, &previous) {
                Ok(backup) => done.push((target, backup)),
                Err(e) => {
                    for (target, backup) in done.into_iter().rev() {
                        let _ = match backup {
                            Some(backup) => fs::rename(backup, &target),
                            None => fs::remove_file(&target),
                        };
                    }
                    return Err(format!(
                        "Failed to move `{name}` into `{}`: {e}; the previous outputs were kept",
                        self.out_dir.display()
                    ));
                }
            }
        }
        Ok(done.into_iter().map(|(target, _)| target).collect())
    }

    /// Renames the staged `name` onto `target`, first linking (or copying) a previous file
    /// at `target` under `previous`, so `target` is never missing; returns the backup.
    fn replace(
        &self,
        name: &str,
        target: &Path,
        previous: &Path,
    ) -> std::io::Result<Option<PathBuf>> {
        let backup = if fs::symlink_metadata(target).is_ok_and(|m| m.is_file()) {
            let backup = previous.join(name);
            if let Some(parent) = backup.parent() {
                fs::create_dir_all(parent)?;
            }
            if fs::hard_link(target, &backup).is_err() {
                fs::copy(target, &backup)?;
            }
            Some(backup)
        } else {
            None
        };
        fs::rename(self.path(name), target)?;
        Ok(backup)
    }
}
