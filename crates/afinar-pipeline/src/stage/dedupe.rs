//! Exact and near duplicates (stateful: it needs every record). Dropped copies are counted
//! as duplicates, each with the twin that was kept; conflicting answers are reported.

use afinar_core::{Completion, Example};
use afinar_curate::{DedupeOptions, DedupeReport, KeptLinks};
use serde::{Deserialize, Serialize};

use super::Record;
use crate::PipelineError;
use crate::manifest::StageCount;

/// A pipeline's `[dedupe]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DedupeSpec {
    #[serde(default = "crate::spec::yes")]
    pub enabled: bool,
    /// The near-duplicate similarity threshold; the curate stage's default when absent.
    #[serde(default)]
    pub near: Option<f64>,
    #[serde(default)]
    pub exact_only: bool,
    /// Fail the run (exit 1) when conflicting answers are found.
    #[serde(default)]
    pub fail_on_conflict: bool,
}

impl Default for DedupeSpec {
    fn default() -> Self {
        Self {
            enabled: true,
            near: None,
            exact_only: false,
            fail_on_conflict: false,
        }
    }
}

impl DedupeSpec {
    /// The near threshold dedupe and split use (`None`: exact duplicates only).
    pub fn near(&self) -> Option<f64> {
        if self.exact_only {
            None
        } else {
            Some(self.near.unwrap_or(afinar_curate::DEFAULT_NEAR_THRESHOLD))
        }
    }

    pub fn build(&self) -> Dedupe {
        Dedupe {
            enabled: self.enabled,
            near: self.near(),
        }
    }
}

/// The runtime stage of [`DedupeSpec`].
#[derive(Debug, Clone)]
pub struct Dedupe {
    enabled: bool,
    near: Option<f64>,
}

/// What dedupe kept, in input order, and what it decided.
#[derive(Debug)]
pub struct Deduped {
    pub records: Vec<Record>,
    /// `None` when dedupe is disabled.
    pub report: Option<DedupeReport>,
    /// What split needs to keep duplicates together without comparing again.
    pub links: Option<KeptLinks>,
    pub count: StageCount,
}

impl Dedupe {
    /// Deduplicates the records' examples, telling `progress` how far it got.
    pub fn run(
        &self,
        records: Vec<Record>,
        progress: &dyn afinar_core::progress::Progress,
    ) -> Result<Deduped, PipelineError> {
        let mut count = StageCount::new("dedupe");
        count.input = records.len() as u64;
        if !self.enabled {
            count.output = count.input;
            return Ok(Deduped {
                records,
                report: None,
                links: None,
                count,
            });
        }
        // Dedupe reads the examples; the completion lines made from them ride along.
        let mut examples: Vec<Example> = Vec::with_capacity(records.len());
        let mut lines: Vec<Option<Completion>> = Vec::with_capacity(records.len());
        let mut others = Vec::new();
        for record in records {
            match record {
                Record::Example(ex) => {
                    examples.push(ex);
                    lines.push(None);
                }
                Record::Completion(ex, pc) => {
                    examples.push(ex);
                    lines.push(Some(pc));
                }
                other @ Record::Preference(_) => others.push(other),
            }
        }
        let (out, links) = afinar_curate::dedupe_with_links_reporting(
            examples,
            &DedupeOptions { near: self.near },
            progress,
        )
        .map_err(|source| PipelineError::Curate {
            stage: "dedupe",
            source,
        })?;
        let mut lines: Vec<Option<Option<Completion>>> = lines.into_iter().map(Some).collect();
        let mut kept: Vec<Record> = out
            .kept
            .into_iter()
            .zip(&out.kept_indices)
            .map(|(ex, &i)| match lines[i].take().flatten() {
                Some(pc) => Record::Completion(ex, pc),
                None => Record::Example(ex),
            })
            .collect();
        kept.extend(others);
        count.output = kept.len() as u64;
        count.duplicates = out.report.dropped as u64;
        count.removed = count.duplicates;
        Ok(Deduped {
            records: kept,
            report: Some(out.report),
            links: Some(links),
            count,
        })
    }
}

#[cfg(test)]
mod tests {
    use afinar_core::CompletionOptions;

    use super::*;
    use crate::stage::tests::example;

    #[test]
    fn drops_copies_and_keeps_each_kept_lines_own_completion() {
        let a = example("Qual o prazo do DAS?", "Dia 20.", 2);
        let b = example("Qual o prazo do DAS?", "Dia 20.", 3);
        let c = example("O que é o MEI?", "Microempreendedor individual.", 4);
        let records: Vec<Record> = [a, b, c]
            .into_iter()
            .map(|ex| {
                let pc = Completion::from_example(&ex, &CompletionOptions::default()).unwrap();
                Record::Completion(ex, pc)
            })
            .collect();
        let out = DedupeSpec::default()
            .build()
            .run(records, &afinar_core::progress::Silent)
            .unwrap();
        assert_eq!(out.records.len(), 2);
        assert!(out.count.closes());
        assert_eq!(out.count.duplicates, 1);
        let Record::Completion(ex, pc) = &out.records[1] else {
            panic!()
        };
        assert_eq!(ex.origin.to_string(), "faq.csv:4");
        assert_eq!(pc.prompt, "O que é o MEI?");
        let group = &out.report.unwrap().groups[0];
        assert_eq!(group.kept.to_string(), "faq.csv:2");
    }

    #[test]
    fn disabled_passes_everything() {
        let spec = DedupeSpec {
            enabled: false,
            ..DedupeSpec::default()
        };
        let records = vec![
            Record::Example(example("a?", "b", 2)),
            Record::Example(example("a?", "b", 3)),
        ];
        let out = spec
            .build()
            .run(records, &afinar_core::progress::Silent)
            .unwrap();
        assert_eq!(out.records.len(), 2);
        assert!(out.report.is_none() && out.count.closes());
    }
}
