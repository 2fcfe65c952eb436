//! The seeded, stratified train/validation split (stateful). Duplicates dedupe linked stay
//! on one side.

use std::str::FromStr;

use afinar_curate::{CurateError, KeptLinks, SplitOptions};
use serde::{Deserialize, Serialize};

use super::Record;
use crate::PipelineError;
use crate::manifest::StageCount;

/// The validation share: a fraction (`0.1`, `"10%"`) or a count (`20`), as `afinar split
/// --validation` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(try_from = "RawValidation", into = "RawValidation")]
pub enum Validation {
    Count(u64),
    Fraction(f64),
}

/// How a validation share is written in TOML.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(untagged)]
enum RawValidation {
    Count(u64),
    Fraction(f64),
    Text(String),
}

impl TryFrom<RawValidation> for Validation {
    type Error = afinar_curate::BadValidation;

    fn try_from(raw: RawValidation) -> Result<Self, Self::Error> {
        Ok(match raw {
            RawValidation::Count(n) => Validation::Count(n),
            RawValidation::Fraction(f) => Validation::Fraction(f),
            RawValidation::Text(s) => match afinar_curate::Validation::from_str(&s)? {
                afinar_curate::Validation::Count(n) => Validation::Count(n as u64),
                afinar_curate::Validation::Fraction(f) => Validation::Fraction(f),
            },
        })
    }
}

impl From<Validation> for RawValidation {
    fn from(v: Validation) -> Self {
        match v {
            Validation::Count(n) => RawValidation::Count(n),
            Validation::Fraction(f) => RawValidation::Fraction(f),
        }
    }
}

/// A pipeline's `[split]`.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SplitSpec {
    /// `false` puts every example in train and leaves validation empty.
    #[serde(default = "crate::spec::yes")]
    pub enabled: bool,
    #[serde(default = "default_validation")]
    pub validation: Validation,
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// A meta field (a source column such as `Tema`) to stratify by.
    #[serde(default)]
    pub stratify: Option<String>,
}

impl Default for SplitSpec {
    fn default() -> Self {
        Self {
            enabled: true,
            validation: default_validation(),
            seed: default_seed(),
            stratify: None,
        }
    }
}

fn default_validation() -> Validation {
    Validation::Fraction(0.1)
}

fn default_seed() -> u64 {
    42
}

impl SplitSpec {
    /// `near`: the threshold at which duplicates stay together (dedupe's).
    pub fn build(&self, near: Option<f64>) -> Split {
        Split {
            enabled: self.enabled,
            options: SplitOptions {
                validation: match self.validation {
                    Validation::Count(n) => afinar_curate::Validation::Count(n as usize),
                    Validation::Fraction(f) => afinar_curate::Validation::Fraction(f),
                },
                seed: self.seed,
                stratify: self.stratify.clone(),
                near,
            },
        }
    }
}

/// The runtime stage of [`SplitSpec`].
#[derive(Debug, Clone)]
pub struct Split {
    enabled: bool,
    options: SplitOptions,
}

/// Train and validation, each in input order.
#[derive(Debug)]
pub struct SplitSets {
    pub train: Vec<Record>,
    pub validation: Vec<Record>,
    pub split: afinar_curate::Split,
    /// Too few examples for the validation share asked: everything went to train, and the
    /// run must fail (a data problem, reported with the rest).
    pub too_few: Option<CurateError>,
    pub count: StageCount,
}

impl Split {
    /// Splits the records, with dedupe's links when it ran; `progress` hears of the
    /// search for near duplicates when there are no links.
    pub fn run(
        &self,
        records: Vec<Record>,
        links: Option<&KeptLinks>,
        progress: &dyn afinar_core::progress::Progress,
    ) -> Result<SplitSets, PipelineError> {
        let mut count = StageCount::new("split");
        count.input = records.len() as u64;
        count.output = count.input;
        let everything_in_train = |records: &[Record]| afinar_curate::Split {
            train: (0..records.len()).collect(),
            validation: Vec::new(),
            strata: Vec::new(),
            joined_groups: 0,
        };
        // Split reads examples; a record without one (a preference) stays in train.
        let example_pos: Vec<usize> = (0..records.len())
            .filter(|&i| records[i].example().is_some())
            .collect();
        let (split, too_few) = if self.enabled {
            // Borrowed, not copied: a copy of every example was the split stage's cost.
            let examples: Vec<&afinar_core::Example> =
                records.iter().filter_map(Record::example).collect();
            let result = match links {
                Some(links) => afinar_curate::split_with_links(&examples, links, &self.options),
                None => afinar_curate::split_reporting(&examples, &self.options, progress),
            };
            match result {
                Ok(split) => (split, None),
                Err(e @ (CurateError::TooFew { .. } | CurateError::Count { .. })) => {
                    (everything_in_train(&records), Some(e))
                }
                Err(source) => {
                    return Err(PipelineError::Curate {
                        stage: "split",
                        source,
                    });
                }
            }
        } else {
            (everything_in_train(&records), None)
        };
        let mut side = vec![false; records.len()];
        if too_few.is_none() && self.enabled {
            for &i in &split.validation {
                side[example_pos[i]] = true;
            }
        }
        let (mut train, mut validation) = (Vec::new(), Vec::new());
        for (record, is_validation) in records.into_iter().zip(side) {
            if is_validation {
                validation.push(record);
            } else {
                train.push(record);
            }
        }
        Ok(SplitSets {
            train,
            validation,
            split,
            too_few,
            count,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stage::tests::example;

    fn records(n: u64) -> Vec<Record> {
        (0..n)
            .map(|i| {
                Record::Example(example(
                    &format!("Pergunta número {i}?"),
                    &format!("Resposta {i}."),
                    i + 2,
                ))
            })
            .collect()
    }

    #[test]
    fn a_percentage_works_like_split_validation() {
        #[derive(Deserialize)]
        struct T {
            validation: Validation,
        }
        let t: T = toml::from_str("validation = \"10%\"").unwrap();
        assert_eq!(t.validation, Validation::Fraction(0.1));
        let t: T = toml::from_str("validation = 20").unwrap();
        assert_eq!(t.validation, Validation::Count(20));
        let err = toml::from_str::<T>("validation = \"muito\"")
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("neither a fraction"), "{err}");
    }

    #[test]
    fn splits_in_input_order_and_falls_back_when_too_few() {
        let spec = SplitSpec {
            validation: Validation::Count(3),
            ..SplitSpec::default()
        };
        let sets = spec
            .build(None)
            .run(records(10), None, &afinar_core::progress::Silent)
            .unwrap();
        assert_eq!((sets.train.len(), sets.validation.len()), (7, 3));
        let lines: Vec<u64> = sets
            .train
            .iter()
            .filter_map(|r| r.origin().line_number())
            .collect();
        assert!(lines.windows(2).all(|w| w[0] < w[1]));
        assert!(sets.count.closes());

        let sets = spec
            .build(None)
            .run(records(2), None, &afinar_core::progress::Silent)
            .unwrap();
        assert_eq!(sets.train.len(), 2);
        assert!(matches!(sets.too_few, Some(CurateError::Count { .. })));

        let off = SplitSpec {
            enabled: false,
            ..SplitSpec::default()
        };
        let sets = off
            .build(None)
            .run(records(5), None, &afinar_core::progress::Silent)
            .unwrap();
        assert_eq!((sets.train.len(), sets.validation.len()), (5, 0));
    }
}
