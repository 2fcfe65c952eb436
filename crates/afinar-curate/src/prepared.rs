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
}

impl Prepared {
    pub fn new(examples: &[Example]) -> Self {
        let hasher = minhash::Hasher::new();
        let rows: Vec<([u8; 16], String, String, Bands)> = examples
            .par_iter()
            .map(|ex| {
                let digest = Sha256::digest(text::example_key(ex).as_bytes());
                let mut key = [0u8; 16];
                key.copy_from_slice(&digest[..16]);
                let (q, a) = text::question_answer(ex);
                let bands = hasher.bands(&text::shingles(&q, &a));
                (key, q, a, bands)
            })
            .collect();
        let mut p = Self {
            key: Vec::with_capacity(rows.len()),
            question: Vec::with_capacity(rows.len()),
            answer: Vec::with_capacity(rows.len()),
            bands: Vec::with_capacity(rows.len()),
        };
        for (key, q, a, bands) in rows {
            p.key.push(key);
            p.question.push(q);
            p.answer.push(a);
            p.bands.push(bands);
        }
        p
    }

    pub fn len(&self) -> usize {
        self.key.len()
    }

    /// The shingle set of example `i`'s question and answer.
    pub fn shingles(&self, i: usize) -> Vec<u64> {
        text::shingles(&self.question[i], &self.answer[i])
    }

    /// Exact Jaccard similarity of two examples' question-and-answer shingles.
    pub fn similarity(&self, i: usize, j: usize) -> f64 {
        text::jaccard(&self.shingles(i), &self.shingles(j))
    }

    /// Exact Jaccard similarity of two examples' answers alone.
    pub fn answer_similarity(&self, i: usize, j: usize) -> f64 {
        text::jaccard(&text::shingles("", &self.answer[i]), &text::shingles("", &self.answer[j]))
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
