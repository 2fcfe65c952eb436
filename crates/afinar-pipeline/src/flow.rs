//! The convert flow both `afinar convert` and `afinar run` go through: sources read by
//! `afinar_formats`, then the stateless stages (filter per source, system message,
//! redaction, output shape), every record and reject counted.
//!
//! `convert` resolves its flags into a [`ConvertSpec`]; a pipeline resolves each
//! `[[sources]]` and its top-level settings into the same one, so the same settings give
//! the same bytes through either.

use afinar_core::{CompletionOptions, Preference, RoleAliases, SystemPolicy};
use afinar_formats::read::Source;
use afinar_formats::{ReadOptions, Reject, SourceInfo};

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

impl Converter {
    /// Runs every source through the stages, in order.
    pub fn run(mut self, inputs: Vec<Input>) -> Converted {
        let mut read = StageCount::new("read");
        let mut filter = StageCount::new("filter");
        let has_filter = inputs.iter().any(|i| i.filter.is_some());
        let mut sources = Vec::with_capacity(inputs.len());
        let mut records = Vec::new();
        let mut rejects = Vec::new();
        let mut filtered = 0;
        for input in inputs {
            let Source {
                path,
                mut output,
                sha256,
            } = input.source;
            let mut source_rejects = std::mem::take(&mut output.rejects);
            let mut made: Vec<Record> = std::mem::take(&mut output.examples)
                .into_iter()
                .map(Record::Example)
                .collect();
            made.extend(
                std::mem::take(&mut output.preferences)
                    .into_iter()
                    .map(|p: Preference| Record::Preference(p)),
            );
            read.input += output.info.rows;
            read.output += made.len() as u64;
            read.rejected += source_rejects.len() as u64;
            let (read_count, read_rejected) = (made.len() as u64, source_rejects.len() as u64);
            for reject in &mut source_rejects {
                self.chain.pass_reject(reject);
            }
            if let Some(mut f) = input.filter {
                filter.input += made.len() as u64;
                let mut kept = Vec::with_capacity(made.len());
                for record in made {
                    match f.apply(record) {
                        Outcome::Keep(r) => kept.push(r),
                        Outcome::FilterOut => filter.filtered += 1,
                        Outcome::Reject(mut r) => {
                            filter.rejected += 1;
                            self.chain.pass_reject(&mut r);
                            source_rejects.push(r);
                        }
                    }
                }
                filter.output += kept.len() as u64;
                made = kept;
            }
            let chained = self.chain.run(made);
            filtered += chained.filtered;
            source_rejects.extend(chained.rejects);
            sources.push(SourceCount {
                path: path.display().to_string(),
                info: output.info,
                sha256,
                read: read_count,
                read_rejected,
                kept: chained.records.len() as u64,
                rejected: source_rejects.len() as u64,
            });
            records.extend(chained.records);
            rejects.extend(source_rejects);
        }
        filtered += filter.filtered;
        read.removed = read.input.saturating_sub(read.output);
        filter.removed = filter.rejected + filter.filtered;
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
