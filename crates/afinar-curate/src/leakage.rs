//! Validation examples that also appear, exactly or nearly, in training.

use std::collections::HashMap;

use afinar_core::Example;
use serde::Serialize;

use crate::CurateError;
use crate::prepared::{Prepared, check_threshold};

/// One leaked validation example and its closest training example.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Leak {
    /// Index into the validation examples.
    pub validation: usize,
    /// Index into the training examples.
    pub train: usize,
    /// Jaccard similarity of question and answer, rounded to 3 places (1 for exact).
    pub similarity: f64,
    pub kind: LeakKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum LeakKind {
    Exact,
    Near,
}

/// Every validation example with an exact copy in training, or (when `near` is given) a
/// training example at or above that similarity; in validation order, each with its
/// closest training example (the earliest among equals).
pub fn leakage(
    train: &[Example],
    validation: &[Example],
    near: Option<f64>,
) -> Result<Vec<Leak>, CurateError> {
    let threshold = near.map(check_threshold).transpose()?;
    // References, not copies: the examples can be large.
    let all: Vec<&Example> = train.iter().chain(validation).collect();
    let prep = Prepared::new(&all, threshold, &afinar_core::progress::Silent);
    let nt = train.len();

    let mut first_train: HashMap<[u8; 16], usize> = HashMap::with_capacity(nt);
    for (i, fp) in prep.items[..nt].iter().enumerate() {
        first_train.entry(fp.key).or_insert(i);
    }
    let mut best: Vec<Option<(usize, f64, LeakKind)>> = (0..validation.len())
        .map(|v| {
            first_train
                .get(&prep.key(nt + v))
                .map(|&t| (t, 1.0, LeakKind::Exact))
        })
        .collect();

    if let Some(t) = threshold {
        let nt32 = nt as u32;
        let pairs = prep
            .candidates(
                t,
                |_| Some(0),
                |i, j| i < nt32 && j >= nt32,
                false,
                &afinar_core::progress::Silent,
            )
            .pairs;
        let hits: Vec<(usize, usize, f64)> = prep
            .similar_pairs(&all, &pairs, t)
            .into_iter()
            .map(|(i, j, s)| (j as usize - nt, i as usize, s))
            .collect();
        for (v, tr, s) in hits {
            let better = match best[v] {
                None => true,
                Some((_, _, LeakKind::Exact)) => false,
                Some((old, olds, _)) => s > olds || (s == olds && tr < old),
            };
            if better {
                best[v] = Some((tr, s, LeakKind::Near));
            }
        }
    }
    Ok(best
        .into_iter()
        .enumerate()
        .filter_map(|(v, b)| {
            b.map(|(train, s, kind)| Leak {
                validation: v,
                train,
                similarity: (s * 1000.0).round() / 1000.0,
                kind,
            })
        })
        .collect())
}
