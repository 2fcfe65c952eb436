//! The convert flow both `afinar convert` and `afinar run` go through: sources read by
//! `afinar_formats`, then the stateless stages (filter per source, system message,
//! redaction, output shape), every record and reject counted.
//!
//! `convert` resolves its flags into a [`ConvertSpec`]; a pipeline resolves each
//! `[[sources]]` and its top-level settings into the same one, so the same settings give
//! the same bytes through either.

use std::path::PathBuf;

use afinar_core::progress::Progress;
use afinar_core::{CompletionOptions, RoleAliases, SystemPolicy};
use afinar_formats::read::{Batch, ReadOutput, Source, Streamed, stream_source};
use afinar_formats::{FormatError, ReadOptions, Reject, SourceInfo};

use crate::PipelineError;
use crate::manifest::StageCount;
use crate::stage::filter::Filter;
use crate::stage::redact::{RedactSpec, Redacted, Resources};
use crate::stage::shape::ShapeSpec;
use crate::stage::system::SystemSpec;
use crate::stage::target::TargetSpec;
use crate::stage::{Chain, Outcome, Record, Transform, sort_rejects};

/// How sources are read: the reader options a user can set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadSpec {
    pub question: Option<String>,
    pub answer: Option<String>,
    pub delimiter: Option<u8>,
    pub encoding: Option<String>,
    pub sheet: Option<String>,
    /// `alias=role` pairs added to the default aliases (`human`, `gpt`…).
    pub role_aliases: Vec<String>,
    pub normalize: bool,
    /// Keep legacy completion markers (`\n\n###\n\n`, ` END`) instead of removing them.
    pub keep_markers: bool,
}

impl Default for ReadSpec {
    fn default() -> Self {
        Self {
            question: None,
            answer: None,
            delimiter: None,
            encoding: None,
            sheet: None,
            role_aliases: Vec::new(),
            normalize: true,
            keep_markers: false,
        }
    }
}

impl ReadSpec {
    /// The reader options; `completion` is the framing stripped from prompt/completion input.
    pub fn options(&self, completion: &CompletionOptions) -> Result<ReadOptions, PipelineError> {
        let mut aliases = RoleAliases::default();
        for spec in &self.role_aliases {
            aliases
                .insert_spec(spec)
                .map_err(PipelineError::RoleAlias)?;
        }
        Ok(ReadOptions {
            question: self.question.clone(),
            answer: self.answer.clone(),
            delimiter: self.delimiter,
            encoding: self.encoding.clone(),
            sheet: self.sheet.clone(),
            aliases,
            normalize: self.normalize,
            completion: completion.clone(),
            keep_markers: self.keep_markers,
        })
    }
}

/// Everything a conversion is told.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConvertSpec {
    pub read: ReadSpec,
    pub system: SystemSpec,
    pub redact: Option<RedactSpec>,
    pub shape: ShapeSpec,
    /// Where the data goes (`--target`); `None`: OpenAI, without the target stage.
    pub target: Option<TargetSpec>,
}

impl ConvertSpec {
    /// Sets the system policy: it frames completion output, and `drop` also removes system
    /// messages from chat output (both front ends mean the same by it).
    pub fn system_policy(&mut self, policy: SystemPolicy) {
        self.shape.completion.system = policy;
        self.system.drop = policy == SystemPolicy::Drop;
    }

    pub fn read_options(&self) -> Result<ReadOptions, PipelineError> {
        self.read.options(&self.shape.completion)
    }

    /// The runtime stages: system → redact → shape (→ target).
    pub fn build(&self, resources: &dyn Resources) -> Result<Converter, PipelineError> {
        let mut stages: Vec<Box<dyn Transform>> = vec![Box::new(self.system.build())];
        if let Some(redact) = &self.redact {
            stages.push(Box::new(redact.build(resources)?));
        }
        stages.push(Box::new(self.shape.build()));
        if let Some(target) = &self.target {
            stages.push(Box::new(target.build()?));
        }
        Ok(Converter {
            chain: Chain::new(stages),
        })
    }
}

/// The built stages of a [`ConvertSpec`].
#[derive(Debug)]
pub struct Converter {
    chain: Chain,
}

/// One source and the filter of its own (a pipeline source's `filter`/`meta`).
#[derive(Debug)]
pub struct Input {
    pub source: Source,
    pub filter: Option<Filter>,
}

impl From<Source> for Input {
    fn from(source: Source) -> Self {
        Self {
            source,
            filter: None,
        }
    }
}

/// What became of one source.
#[derive(Debug, Clone)]
pub struct SourceCount {
    pub path: String,
    pub info: SourceInfo,
    pub sha256: String,
    /// Examples (and preferences) the reader made.
    pub read: u64,
    /// Rows the reader rejected.
    pub read_rejected: u64,
    /// Records left after every stage.
    pub kept: u64,
    /// Rejects from this source, from any stage.
    pub rejected: u64,
}

/// The records ready for the stateful stages or a sink, and an account of the rest.
#[derive(Debug, Clone)]
pub struct Converted {
    pub sources: Vec<SourceCount>,
    /// In input order.
    pub records: Vec<Record>,
    /// Every reject, in input order, its raw text redacted when redaction is on.
    pub rejects: Vec<Reject>,
    /// `read`, then `filter` (when a source has one), then each stage's.
    pub counts: Vec<StageCount>,
    pub filtered: u64,
    pub redacted: Option<Redacted>,
}

impl Converted {
    /// Rows (or lines) the readers saw.
    pub fn rows_read(&self) -> u64 {
        self.sources.iter().map(|s| s.info.rows).sum()
    }
}

/// Why a stream stopped: its source, or the sink.
#[derive(Debug)]
enum Stop {
    Source(FormatError),
    Sink(PipelineError),
}

impl From<FormatError> for Stop {
    fn from(e: FormatError) -> Self {
        Stop::Source(e)
    }
}

/// What a conversion counted so far, over every source.
#[derive(Debug)]
struct Tally {
    read: StageCount,
    filter: StageCount,
    has_filter: bool,
    sources: Vec<SourceCount>,
    rejects: Vec<Reject>,
    filtered: u64,
}

/// What one source's batches came to so far.
#[derive(Debug, Default)]
struct SourceTally {
    read: u64,
    read_rejected: u64,
    kept: u64,
    rejected: u64,
}

impl Tally {
    fn new(has_filter: bool) -> Self {
        Self {
            read: StageCount::new("read"),
            filter: StageCount::new("filter"),
            has_filter,
            sources: Vec::new(),
            rejects: Vec::new(),
            filtered: 0,
        }
    }
}

impl Converter {
    /// Runs every source through the stages, in order, keeping the records.
    pub fn run(mut self, inputs: Vec<Input>) -> Converted {
        let mut tally = Tally::new(inputs.iter().any(|i| i.filter.is_some()));
        let mut records = Vec::new();
        for input in inputs {
            let Source {
                path,
                output,
                sha256,
            } = input.source;
            let ReadOutput {
                examples,
                preferences,
                rejects,
                info,
            } = output;
            let mut source = SourceTally::default();
            let mut filter = input.filter;
            let batch = Batch {
                examples,
                preferences,
                rejects,
            };
            let made = self.batch(batch, filter.as_mut(), &mut tally, &mut source);
            // One source (the usual case) is taken as it is, not copied.
            if records.is_empty() {
                records = made;
            } else {
                records.extend(made);
            }
            self.end_source(path.display().to_string(), info, sha256, source, &mut tally);
        }
        self.finish(tally, records)
    }

    /// Streams every source through the stages: each source is read in batches
    /// ([`afinar_formats::read::stream_source`]) and each batch's records handed to
    /// `sink` in input order as soon as they are made, so nothing but the current batch
    /// and the rejects is held. The records of the result are empty: the sink had them.
    /// The sink's first error, or a source's, stops the conversion.
    pub fn stream(
        mut self,
        paths: &[PathBuf],
        options: &ReadOptions,
        progress: &dyn Progress,
        mut sink: impl FnMut(Vec<Record>) -> Result<(), PipelineError>,
    ) -> Result<Converted, PipelineError> {
        let mut tally = Tally::new(false);
        for path in paths {
            let mut source = SourceTally::default();
            let streamed = stream_source(path, options, progress, |batch| {
                let records = self.batch(batch, None, &mut tally, &mut source);
                sink(records).map_err(Stop::Sink)
            })
            .map_err(|stop| match stop {
                Stop::Source(e) => PipelineError::Source(e),
                Stop::Sink(e) => e,
            })?;
            let Streamed { path, info, sha256 } = streamed;
            self.end_source(path.display().to_string(), info, sha256, source, &mut tally);
        }
        Ok(self.finish(tally, Vec::new()))
    }

    /// One batch of a source through the filter (a pipeline source's) and the stages:
    /// the records kept; the rejects, their raw text passed through every stage, go to
    /// the tally.
    fn batch(
        &mut self,
        batch: Batch,
        filter: Option<&mut Filter>,
        tally: &mut Tally,
        source: &mut SourceTally,
    ) -> Vec<Record> {
        let Batch {
            examples,
            preferences,
            mut rejects,
        } = batch;
        let mut made: Vec<Record> = examples.into_iter().map(Record::Example).collect();
        made.extend(
            preferences
                .into_iter()
                .map(|p| Record::Preference(Box::new(p))),
        );
        tally.read.output += made.len() as u64;
        tally.read.rejected += rejects.len() as u64;
        source.read += made.len() as u64;
        source.read_rejected += rejects.len() as u64;
        for reject in &mut rejects {
            self.chain.pass_reject(reject);
        }
        if let Some(f) = filter {
            let count = &mut tally.filter;
            count.input += made.len() as u64;
            let mut kept = Vec::with_capacity(made.len());
            for record in made {
                match f.apply(record) {
                    Outcome::Keep(r) => kept.push(r),
                    Outcome::FilterOut => count.filtered += 1,
                    Outcome::Reject(mut r) => {
                        count.rejected += 1;
                        self.chain.pass_reject(&mut r);
                        rejects.push(r);
                    }
                }
            }
            count.output += kept.len() as u64;
            made = kept;
        }
        let chained = self.chain.run(made);
        tally.filtered += chained.filtered;
        rejects.extend(chained.rejects);
        source.kept += chained.records.len() as u64;
        source.rejected += rejects.len() as u64;
        tally.rejects.extend(rejects);
        chained.records
    }

    fn end_source(
        &mut self,
        path: String,
        info: SourceInfo,
        sha256: String,
        source: SourceTally,
        tally: &mut Tally,
    ) {
        tally.read.input += info.rows;
        tally.sources.push(SourceCount {
            path,
            info,
            sha256,
            read: source.read,
            read_rejected: source.read_rejected,
            kept: source.kept,
            rejected: source.rejected,
        });
    }

    fn finish(self, tally: Tally, records: Vec<Record>) -> Converted {
        let Tally {
            mut read,
            mut filter,
            has_filter,
            sources,
            mut rejects,
            filtered,
        } = tally;
        read.removed = read.input.saturating_sub(read.output);
        filter.removed = filter.rejected + filter.filtered;
        let filtered = filtered + filter.filtered;
        let names: Vec<String> = sources.iter().map(|s| s.path.clone()).collect();
        sort_rejects(&mut rejects, &names);
        let mut counts = vec![read];
        if has_filter {
            counts.push(filter);
        }
        counts.extend(self.chain.counts());
        Converted {
            sources,
            records,
            rejects,
            counts,
            filtered,
            redacted: self.chain.redacted(),
        }
    }
}
