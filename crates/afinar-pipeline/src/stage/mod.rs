//! The stages examples go through, as a library: `afinar convert` runs the stateless ones,
//! `afinar run` chains them with the stateful ones, and both count every record the same
//! way.
//!
//! Each stage has a serde spec (what a pipeline file and the command-line flags resolve
//! into), a `build()` that checks it and gives the runtime stage, and the runtime stage
//! itself, which works on [`Record`]s and never touches the file system:
//! - stateless [`Transform`]s look at one record at a time and keep it, reject it (with
//!   a coded [`Reject`]) or filter it out: [`filter::Filter`], [`system::System`],
//!   [`redact::Redact`], [`shape::Shape`]. A [`Chain`] runs them in order and counts
//!   what each one let through, so the counts close by construction;
//! - stateful stages need the whole set: [`dedupe::Dedupe`] and [`split::Split`].
//!
//! ```
//! use afinar_core::{Example, Origin};
//! use afinar_pipeline::stage::{Chain, Record, system::SystemSpec};
//!
//! let system = SystemSpec { text: Some("Seja breve.".into()), drop: false }.build();
//! let mut chain = Chain::new(vec![Box::new(system)]);
//! let ex = Example::single_turn(None, "O que é o DAS?", "Uma guia.", Origin::line("faq.csv", 2));
//! let out = chain.run(vec![Record::Example(ex)]);
//! assert_eq!(out.records.len(), 1);
//! assert_eq!(chain.counts()[0].output, 1);
//! ```

pub mod dedupe;
pub mod filter;
pub mod redact;
pub mod shape;
pub mod split;
pub mod system;
pub mod target;

use afinar_core::{Completion, Example, Origin, Preference};
use afinar_formats::Reject;
use afinar_formats::write::jsonl::{ChatLine, DpoLine};
use rayon::prelude::*;
use serde::Serialize;

use crate::manifest::StageCount;

/// One item flowing through the stages.
// Records move by value, several times a run: a preference (rare in FAQ data) is boxed,
// so that every record is not its 280 bytes. The other variants stay inline: boxing
// them would cost an allocation per record.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// A chat example (the canonical form).
    Example(Example),
    /// A DPO preference example.
    Preference(Box<Preference>),
    /// An example shaped for prompt/completion output: the line to write, converted once,
    /// and the example it came from (which dedupe and split read).
    Completion(Example, Completion),
}

impl Record {
    pub fn origin(&self) -> &Origin {
        match self {
            Record::Example(e) | Record::Completion(e, _) => &e.origin,
            Record::Preference(p) => &p.origin,
        }
    }

    /// The chat example behind the record, if it has one.
    pub fn example(&self) -> Option<&Example> {
        match self {
            Record::Example(e) | Record::Completion(e, _) => Some(e),
            Record::Preference(_) => None,
        }
    }

    /// The record as it would be written, for a reject's `raw`.
    pub fn raw(&self) -> String {
        let json = match self {
            Record::Example(e) | Record::Completion(e, _) => serde_json::to_string(&ChatLine(e)),
            Record::Preference(p) => serde_json::to_string(&DpoLine(p)),
        };
        // Serialising owned strings and maps cannot fail.
        json.unwrap_or_default()
    }

    /// The output line: chat, prompt/completion or DPO, by variant.
    pub fn line(&self) -> Line<'_> {
        match self {
            Record::Example(e) => Line::Chat(ChatLine(e)),
            Record::Completion(_, c) => Line::Completion(c),
            Record::Preference(p) => Line::Dpo(DpoLine(p)),
        }
    }
}

/// One output line, serialised in its own shape.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Line<'a> {
    Chat(ChatLine<'a>),
    Completion(&'a Completion),
    Dpo(DpoLine<'a>),
}

/// What a stateless stage did with one record.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Keep(Record),
    /// Cannot be used; the reject says why and keeps the raw text.
    Reject(Reject),
    /// Left out on purpose (a source filter), counted but not a reject.
    FilterOut,
}

/// A stateless stage: what it does to a record depends on that record alone.
pub trait Transform: Send + Sync {
    /// The stage's name in counts and the manifest.
    fn name(&self) -> &'static str;
    fn apply(&self, record: Record) -> Outcome;
    /// A reject made upstream of this stage passes it on its way to the rejects file: a
    /// stage that changes what may be written (redaction) applies itself to the raw text.
    fn pass_reject(&self, _reject: &mut Reject) {}
    /// What a redacting stage replaced so far.
    fn redacted(&self) -> Option<redact::Redacted> {
        None
    }
}

/// Stateless stages run in order over records; each one's counts add up over runs.
pub struct Chain {
    stages: Vec<Box<dyn Transform>>,
    counts: Vec<StageCount>,
}

impl std::fmt::Debug for Chain {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.stages.iter().map(|s| s.name()).collect();
        f.debug_struct("Chain").field("stages", &names).finish()
    }
}

/// What one [`Chain::run`] let through, rejected (in input order) and filtered out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Chained {
    pub records: Vec<Record>,
    pub rejects: Vec<Reject>,
    pub filtered: u64,
}

impl Chain {
    pub fn new(stages: Vec<Box<dyn Transform>>) -> Self {
        let counts = stages.iter().map(|s| StageCount::new(s.name())).collect();
        Self { stages, counts }
    }

    /// Runs every record through every stage (a record stops at the stage that rejects or
    /// filters it; its reject passes the stages after it).
    pub fn run(&mut self, records: Vec<Record>) -> Chained {
        let mut out = Chained {
            records: Vec::with_capacity(records.len()),
            ..Chained::default()
        };
        // A record's way depends on it alone: records go through on every core, and are
        // counted and kept in input order after.
        let stages = &self.stages;
        let ways: Vec<(usize, Outcome)> = records
            .into_par_iter()
            .map(|mut record| {
                for (k, stage) in stages.iter().enumerate() {
                    match stage.apply(record) {
                        Outcome::Keep(kept) => record = kept,
                        Outcome::Reject(mut reject) => {
                            for later in &stages[k + 1..] {
                                later.pass_reject(&mut reject);
                            }
                            return (k, Outcome::Reject(reject));
                        }
                        Outcome::FilterOut => return (k, Outcome::FilterOut),
                    }
                }
                (stages.len(), Outcome::Keep(record))
            })
            .collect();
        // `k`: the stages that kept the record before what became of it.
        for (k, outcome) in ways {
            for count in &mut self.counts[..k] {
                count.input += 1;
                count.output += 1;
            }
            match outcome {
                Outcome::Keep(record) => out.records.push(record),
                Outcome::Reject(reject) => {
                    self.counts[k].input += 1;
                    self.counts[k].rejected += 1;
                    out.rejects.push(reject);
                }
                Outcome::FilterOut => {
                    self.counts[k].input += 1;
                    self.counts[k].filtered += 1;
                    out.filtered += 1;
                }
            }
        }
        out
    }

    /// A reject made before the chain (by a reader) passes every stage.
    pub fn pass_reject(&self, reject: &mut Reject) {
        for stage in &self.stages {
            stage.pass_reject(reject);
        }
    }

    /// Per-stage counts so far, in chain order.
    pub fn counts(&self) -> Vec<StageCount> {
        self.counts
            .iter()
            .cloned()
            .map(|mut c| {
                c.removed = c.rejected + c.filtered + c.duplicates;
                c
            })
            .collect()
    }

    /// What the chain's redacting stage replaced, if it has one.
    pub fn redacted(&self) -> Option<redact::Redacted> {
        self.stages.iter().find_map(|s| s.redacted())
    }
}

/// Sorts rejects into input order: by the source's position in `sources` (file names as
/// origins print them), then by line or row, whatever stage rejected them.
pub fn sort_rejects(rejects: &mut [Reject], sources: &[String]) {
    rejects.sort_by_key(|r| {
        let source = sources.iter().position(|s| *s == r.origin.file);
        (source, r.origin.line_number())
    });
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn example(q: &str, a: &str, line: u64) -> Example {
        Example::single_turn(None, q, a, Origin::line("faq.csv", line))
    }

    /// Rejects every record whose question mentions `x`, filters out `skip`.
    struct Picky;

    impl Transform for Picky {
        fn name(&self) -> &'static str {
            "picky"
        }
        fn apply(&self, record: Record) -> Outcome {
            let q = record.example().and_then(Example::question).unwrap_or("");
            if q.contains('x') {
                Outcome::Reject(
                    Reject::new(record.origin().clone(), "has an x", record.raw())
                        .with_code("has_x"),
                )
            } else if q.contains("skip") {
                Outcome::FilterOut
            } else {
                Outcome::Keep(record)
            }
        }
    }

    /// [`Picky`], then a system message `S`.
    fn picky_then_system() -> Chain {
        let system = system::SystemSpec {
            text: Some("S".into()),
            drop: false,
        }
        .build();
        Chain::new(vec![Box::new(Picky), Box::new(system)])
    }

    #[test]
    fn a_chain_counts_every_record_once_per_stage_it_reaches() {
        let mut chain = picky_then_system();
        let records = vec![
            Record::Example(example("a?", "b", 1)),
            Record::Example(example("x?", "b", 2)),
            Record::Example(example("skip?", "b", 3)),
            Record::Example(example("c?", "d", 4)),
        ];
        let out = chain.run(records);
        assert_eq!(out.records.len(), 2);
        assert_eq!(out.rejects.len(), 1);
        assert_eq!(out.rejects[0].code, "has_x");
        assert_eq!(out.filtered, 1);
        let counts = chain.counts();
        let picky = &counts[0];
        assert_eq!(
            (picky.input, picky.output, picky.rejected, picky.filtered),
            (4, 2, 1, 1)
        );
        assert_eq!((counts[1].input, counts[1].output), (2, 2));
        assert!(counts.iter().all(StageCount::closes));
        // Counts add up over runs (one per source).
        chain.run(vec![Record::Example(example("e?", "f", 5))]);
        assert_eq!(chain.counts()[0].input, 5);
        assert_eq!(out.records[0].example().unwrap().messages[0].content, "S");
    }

    #[test]
    fn a_chain_on_every_core_keeps_input_order_and_counts() {
        // Enough records for the pool to split them: what is kept, rejected and
        // filtered out comes out in input order, counted once each.
        let mut chain = picky_then_system();
        let question = |i: u64| match i % 7 {
            0 => format!("x{i}?"),
            3 => format!("skip {i}?"),
            _ => format!("q{i}?"),
        };
        let records = (0..20_000)
            .map(|i| Record::Example(example(&question(i), "b", i + 2)))
            .collect();
        let out = chain.run(records);
        let kept: Vec<u64> = out
            .records
            .iter()
            .map(|r| r.origin().line_number().unwrap_or(0))
            .collect();
        let expected: Vec<u64> = (0..20_000)
            .filter(|i| !matches!(i % 7, 0 | 3))
            .map(|i| i + 2)
            .collect();
        assert_eq!(kept, expected);
        let rejected: Vec<u64> = out
            .rejects
            .iter()
            .map(|r| r.origin.line_number().unwrap_or(0))
            .collect();
        let expected: Vec<u64> = (0..20_000).filter(|i| i % 7 == 0).map(|i| i + 2).collect();
        assert_eq!(rejected, expected);
        assert_eq!(
            out.filtered as usize,
            (0..20_000).filter(|i| i % 7 == 3).count()
        );
        let counts = chain.counts();
        assert_eq!(counts[0].input, 20_000);
        assert_eq!(counts[1].input as usize, kept.len());
        assert!(counts.iter().all(StageCount::closes));
        assert!(
            out.records
                .iter()
                .all(|r| r.example().unwrap().messages[0].content == "S")
        );
    }

    #[test]
    fn rejects_sort_by_source_then_line() {
        let r = |file: &str, line| Reject::new(Origin::line(file, line), "r", "");
        let mut rejects = vec![r("b.csv", 2), r("a.csv", 9), r("b.csv", 1), r("a.csv", 3)];
        sort_rejects(&mut rejects, &["a.csv".into(), "b.csv".into()]);
        let order: Vec<String> = rejects.iter().map(|r| r.origin.to_string()).collect();
        assert_eq!(order, ["a.csv:3", "a.csv:9", "b.csv:1", "b.csv:2"]);
    }
}
