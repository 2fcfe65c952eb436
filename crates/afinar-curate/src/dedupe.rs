//! Exact and near duplicates, and conflicting answers.

use std::collections::HashMap;

use afinar_core::{Example, Origin};
use rayon::prelude::*;
use serde::Serialize;

use crate::prepared::{Prepared, check_threshold};
use crate::{CurateError, DEFAULT_NEAR_THRESHOLD, minhash, text};

/// Identical answers in a bucket at most this big are compared pairwise on top of the LSH
/// candidates, so a reworded question with the same answer is always compared. Larger
/// buckets ("Sim.") are left to LSH to keep the work linear.
const SAME_ANSWER_BUCKET: usize = 64;

/// How duplicates are found.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DedupeOptions {
    /// The near-duplicate threshold, or `None` for exact duplicates only.
    pub near: Option<f64>,
}

impl Default for DedupeOptions {
    fn default() -> Self {
        Self {
            near: Some(DEFAULT_NEAR_THRESHOLD),
        }
    }
}

/// The examples that survive, in input order, and what happened to the others.
#[derive(Debug)]
pub struct DedupeOutput {
    pub kept: Vec<Example>,
    pub report: DedupeReport,
}

/// Everything dedupe decided, for the report file and the summary.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DedupeReport {
    pub examples: usize,
    pub kept: usize,
    pub dropped: usize,
    /// The near threshold used, or `null` with `--exact-only`.
    pub near_threshold: Option<f64>,
    /// One per kept example that absorbed others, in input order.
    pub groups: Vec<Group>,
    /// Kept examples that answer the same question differently, in input order.
    pub conflicts: Vec<Conflict>,
}

/// A kept example and the copies dropped in its favour.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Group {
    pub kept: Origin,
    pub dropped: Vec<Dropped>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Dropped {
    pub origin: Origin,
    /// Jaccard similarity to the kept example (1 for exact copies), rounded to 3 places.
    pub similarity: f64,
    pub reason: Reason,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Reason {
    /// Every message equal after folding.
    Exact,
    /// Question and answer similar at or above the threshold, same figures.
    Near,
}

/// Examples kept side by side that answer the same (folded) question differently.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Conflict {
    /// The question as the first of them writes it.
    pub question: String,
    pub origins: Vec<Origin>,
    pub reason: ConflictReason,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ConflictReason {
    /// The answers state different numbers (a limit, a rate, a date).
    DifferentFigures,
    /// The answers say different things.
    DifferentAnswers,
}

/// Removes exact and near duplicates, keeping the first copy in input order, and finds
/// conflicting answers.
pub fn dedupe(examples: Vec<Example>, opts: &DedupeOptions) -> Result<DedupeOutput, CurateError> {
    let threshold = opts.near.map(check_threshold).transpose()?;
    let prep = Prepared::new(&examples);
    let n = prep.len();

    // rep[i]: the kept example that i is a copy of (itself when kept).
    let mut rep: Vec<usize> = (0..n).collect();
    let mut exact_first: HashMap<[u8; 16], usize> = HashMap::with_capacity(n);
    for (i, key) in prep.key.iter().enumerate() {
        let first = *exact_first.entry(*key).or_insert(i);
        rep[i] = first;
    }
    let mut similarity = vec![1.0f64; n];

    if let Some(t) = threshold {
        let unique: Vec<bool> = (0..n).map(|i| rep[i] == i).collect();
        let merges = near_merges(&prep, t, &unique);
        // Greedy in input order: an example joins the earliest kept example it matches,
        // so each dropped copy is itself at or above the threshold to the one kept.
        let mut k = 0;
        for j in 0..n {
            while k < merges.len() && merges[k].1 < j as u32 {
                k += 1;
            }
            let start = k;
            let mut end = k;
            while end < merges.len() && merges[end].1 == j as u32 {
                end += 1;
            }
            // merges is sorted by (j, i): the first kept i wins.
            if let Some(&(i, _, s)) = merges[start..end]
                .iter()
                .find(|m| rep[m.0 as usize] == m.0 as usize)
            {
                rep[j] = i as usize;
                similarity[j] = s;
            }
            k = end;
        }
        // Exact copies follow the example they copy, wherever it went.
        for i in 0..n {
            let first = rep[i];
            if first != i && prep.key[first] == prep.key[i] && rep[first] != first {
                rep[i] = rep[first];
                similarity[i] = similarity[first];
            }
        }
    }

    let mut members: Vec<Vec<usize>> = vec![Vec::new(); n];
    for i in 0..n {
        if rep[i] != i {
            members[rep[i]].push(i);
        }
    }
    let groups: Vec<Group> = members
        .iter()
        .enumerate()
        .filter(|(_, m)| !m.is_empty())
        .map(|(k, m)| Group {
            kept: examples[k].origin.clone(),
            dropped: m
                .iter()
                .map(|&i| Dropped {
                    origin: examples[i].origin.clone(),
                    similarity: round3(similarity[i]),
                    reason: if prep.key[i] == prep.key[k] {
                        Reason::Exact
                    } else {
                        Reason::Near
                    },
                })
                .collect(),
        })
        .collect();
    let conflicts = conflicts(&examples, &prep, &rep);

    let kept: Vec<Example> = examples
        .into_iter()
        .enumerate()
        .filter(|(i, _)| rep[*i] == *i)
        .map(|(_, e)| e)
        .collect();
    let report = DedupeReport {
        examples: n,
        kept: kept.len(),
        dropped: n - kept.len(),
        near_threshold: threshold,
        groups,
        conflicts,
    };
    Ok(DedupeOutput { kept, report })
}

/// Pairs `(i, j, similarity)`, `i < j`, both `unique`, that may be merged: question and
/// answer at or above `t`, answers alone at or above `t` (so one long question cannot
/// carry "Sim." and "Não." into one), and the same figures. Sorted by `(j, i)`.
fn near_merges(prep: &Prepared, t: f64, unique: &[bool]) -> Vec<(u32, u32, f64)> {
    let mut pairs = minhash::candidate_pairs(&prep.bands, |i| unique[i as usize], |_, _| true);
    // Identical answers: always compare (small buckets only).
    let mut by_answer: HashMap<&str, Vec<u32>> = HashMap::new();
    for (i, a) in prep.answer.iter().enumerate() {
        if unique[i] && !a.is_empty() {
            by_answer.entry(a.as_str()).or_default().push(i as u32);
        }
    }
    for bucket in by_answer
        .values()
        .filter(|b| b.len() > 1 && b.len() <= SAME_ANSWER_BUCKET)
    {
        for (x, &i) in bucket.iter().enumerate() {
            pairs.extend(bucket[x + 1..].iter().map(|&j| (i, j)));
        }
    }
    pairs.par_sort_unstable();
    pairs.dedup();
    let mut merges: Vec<(u32, u32, f64)> = pairs
        .par_iter()
        .filter_map(|&(i, j)| {
            let (iu, ju) = (i as usize, j as usize);
            let s = prep.similar(iu, ju, t)?;
            let ok = text::numbers(&prep.answer[iu]) == text::numbers(&prep.answer[ju])
                && prep.answer_similarity(iu, ju) >= t;
            ok.then_some((i, j, s))
        })
        .collect();
    merges.sort_unstable_by_key(|&(i, j, _)| (j, i));
    merges
}

fn conflicts(examples: &[Example], prep: &Prepared, rep: &[usize]) -> Vec<Conflict> {
    let mut by_question: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, &r) in rep.iter().enumerate() {
        if r == i && !prep.question[i].is_empty() {
            by_question
                .entry(prep.question[i].as_str())
                .or_default()
                .push(i);
        }
    }
    let mut found: Vec<(usize, Conflict)> = by_question
        .into_values()
        .filter(|m| m.len() > 1 && m.iter().any(|&i| prep.answer[i] != prep.answer[m[0]]))
        .map(|m| {
            // Figures differ when answers that both state figures state different ones.
            let figures: Vec<Vec<&str>> = m
                .iter()
                .map(|&i| text::numbers(&prep.answer[i]))
                .filter(|f| !f.is_empty())
                .collect();
            let reason = if figures.iter().any(|f| *f != figures[0]) {
                ConflictReason::DifferentFigures
            } else {
                ConflictReason::DifferentAnswers
            };
            let conflict = Conflict {
                question: examples[m[0]].question().unwrap_or_default().to_owned(),
                origins: m.iter().map(|&i| examples[i].origin.clone()).collect(),
                reason,
            };
            (m[0], conflict)
        })
        .collect();
    found.sort_by_key(|(first, _)| *first);
    found.into_iter().map(|(_, c)| c).collect()
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
