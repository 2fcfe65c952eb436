//! `manifest.json`: what went in, what came out, and an accounting that closes.
//!
//! No timestamps and no absolute paths: the same inputs give a byte-identical manifest.

use std::collections::BTreeMap;

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The whole manifest, serialised with keys in this order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Manifest {
    pub afinar_version: String,
    pub pipeline: FileDigest,
    pub inputs: Vec<InputEntry>,
    pub stages: Vec<StageCount>,
    pub accounting: Accounting,
    /// How many rows each cause rejected, by its stable code (the rows themselves, with
    /// their reasons, are in `rejects.jsonl`).
    pub rejects_by_code: BTreeMap<String, u64>,
    /// Every row dropped as a duplicate, with the twin that was kept.
    pub duplicates: Vec<DuplicateEntry>,
    pub conflicts: u64,
    pub outputs: Vec<OutputEntry>,
    pub estimate: Estimate,
    /// Sensitive values replaced, per kind.
    pub redactions: BTreeMap<String, u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FileDigest {
    pub path: String,
    pub sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InputEntry {
    pub path: String,
    pub sha256: String,
    pub format: String,
    pub encoding: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    pub rows_read: u64,
}

/// Records into and out of one stage: `input = output + removed`, and what was removed
/// is rejected, filtered out, or dropped as a duplicate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StageCount {
    pub stage: String,
    pub input: u64,
    pub output: u64,
    pub removed: u64,
    pub rejected: u64,
    pub filtered: u64,
    pub duplicates: u64,
}

impl StageCount {
    /// A stage that has seen nothing yet.
    pub fn new(stage: &str) -> Self {
        Self {
            stage: stage.to_owned(),
            input: 0,
            output: 0,
            removed: 0,
            rejected: 0,
            filtered: 0,
            duplicates: 0,
        }
    }

    /// Whether every record that came in is accounted for.
    pub fn closes(&self) -> bool {
        self.input == self.output + self.removed
            && self.removed == self.rejected + self.filtered + self.duplicates
    }
}

/// rows read = filtered out + rejected + duplicates + train + validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
pub struct Accounting {
    pub rows_read: u64,
    pub filtered_out: u64,
    pub rejected: u64,
    pub duplicates: u64,
    pub train: u64,
    pub validation: u64,
    pub closes: bool,
}

impl Accounting {
    /// Fills `closes` from the counts.
    pub fn closed(mut self) -> Self {
        self.closes = self.rows_read
            == self.filtered_out + self.rejected + self.duplicates + self.train + self.validation;
        self
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DuplicateEntry {
    pub origin: String,
    pub kept: String,
    pub similarity: f64,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutputEntry {
    pub path: String,
    pub sha256: String,
    pub examples: u64,
    pub tokens: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Estimate {
    pub model: String,
    pub encoding: String,
    pub max_tokens_per_example: u64,
    pub epochs: u64,
    pub billed_tokens: u64,
    pub cost_usd: Option<f64>,
}

/// Hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accounting_closes_only_when_every_row_is_placed() {
        let a = Accounting {
            rows_read: 47,
            filtered_out: 1,
            rejected: 6,
            duplicates: 12,
            train: 22,
            validation: 6,
            closes: false,
        };
        assert!(a.closed().closes);
        assert!(!Accounting { validation: 5, ..a }.closed().closes);
    }

    #[test]
    fn sha256_matches_a_known_value() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
