//! What dedupe, split and leakage compute once per example: exact key, folded question
//! and answer, LSH bands.

use afinar_core::Example;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::minhash::{self, Bands};
use crate::text;

/// Per-example comparison data, in input order.
#[derive(Debug)]
pub(crate) struct Prepared {
    /// A 128-bit digest of [`text::example_key`]: equal for exact duplicates.
    pub key: Vec<[u8; 16]>,
    pub question: Vec<String>,
    pub answer: Vec<String>,
    pub bands: Vec<Bands>,
    /// Question-and-answer shingle sets, truncated to 32 bits (half the memory; a
    /// collision between two of an example's few hundred shingles is vanishingly rare).
    pub shingles: Vec<Vec<u32>>,
}

impl Prepared {
    pub fn new(examples: &[Example]) -> Self {
        let hasher = minhash::Hasher::new();
        type Row = ([u8; 16], String, String, Bands, Vec<u32>);
        let rows: Vec<Row> = examples
            .par_iter()
            .map(|ex| {
                let (full, q, a) = text::folded(ex);
                let digest = Sha256::digest(full.as_bytes());
                let mut key = [0u8; 16];
                key.copy_from_slice(&digest[..16]);
                let mut set: Vec<u32> = text::shingle_hashes(&q, &a).map(|h| h as u32).collect();
                set.sort_unstable();
                set.dedup();
                set.shrink_to_fit();
                let bands = hasher.bands(&set);
                (key, q, a, bands, set)
            })
            .collect();
        let mut p = Self {
            key: Vec::with_capacity(rows.len()),
            question: Vec::with_capacity(rows.len()),
            answer: Vec::with_capacity(rows.len()),
            bands: Vec::with_capacity(rows.len()),
            shingles: Vec::with_capacity(rows.len()),
        };
        for (key, q, a, bands, set) in rows {
            p.key.push(key);
            p.question.push(q);
            p.answer.push(a);
            p.bands.push(bands);
            p.shingles.push(set);
        }
        p
    }

    pub fn len(&self) -> usize {
        self.key.len()
    }

    /// Exact Jaccard similarity of two examples' question-and-answer shingles, when it
    /// is at least `t`.
    pub fn similar(&self, i: usize, j: usize, t: f64) -> Option<f64> {
        text::jaccard_at_least(&self.shingles[i], &self.shingles[j], t)
    }

    /// Exact Jaccard similarity of two examples' answers alone.
    pub fn answer_similarity(&self, i: usize, j: usize) -> f64 {
        text::jaccard(
            &text::shingles("", &self.answer[i]),
            &text::shingles("", &self.answer[j]),
        )
    }
}

/// Checks a near-duplicate threshold.
pub(crate) fn check_threshold(t: f64) -> Result<f64, crate::CurateError> {
    if t.is_finite() && t > 0.0 && t <= 1.0 {
        Ok(t)
    } else {
        Err(crate::CurateError::Threshold { value: t })
    }
}
