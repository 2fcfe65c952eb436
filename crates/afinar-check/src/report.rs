//! The report of one checked file, and the estimates (epochs, billed tokens, cost).

use std::collections::BTreeMap;

use serde::Serialize;

use crate::{Finding, Format};

/// Constants of the service's default-epochs rule.
pub const TARGET_EPOCHS: u64 = 3;
pub const MIN_TARGET_EXAMPLES: u64 = 100;
pub const MAX_TARGET_EXAMPLES: u64 = 25_000;
pub const MIN_DEFAULT_EPOCHS: u64 = 1;
pub const MAX_DEFAULT_EPOCHS: u64 = 25;

/// The service's default number of epochs for `n` training examples: 3, raised so that
/// examples × epochs reaches 100, lowered so that it stays within 25,000, and kept within
/// 1..=25.
pub fn default_epochs(n: u64) -> u64 {
    if n == 0 {
        TARGET_EPOCHS
    } else if n * TARGET_EPOCHS < MIN_TARGET_EXAMPLES {
        MAX_DEFAULT_EPOCHS.min(MIN_TARGET_EXAMPLES / n)
    } else if n * TARGET_EPOCHS > MAX_TARGET_EXAMPLES {
        MIN_DEFAULT_EPOCHS.max(MAX_TARGET_EXAMPLES / n)
    } else {
        TARGET_EPOCHS
    }
}

/// The report of `afinar check` for one file; `--format json` prints it as is.
///
/// Fields (stable):
/// - `file`: the path as given.
/// - `model`: the model as given; `model_family`: the registry entry it matched;
///   `encoding`: `o200k_base` or `cl100k_base`.
/// - `format`: the format of the file's first example (`chat`, `completion`, `dpo`), or
///   null when there is none.
/// - `examples`: non-blank lines (each is one example, parsable or not);
///   `valid`: examples without any error; `blank_lines`: blank lines skipped.
/// - `errors`, `warnings`: `[{line, code, message}]`, at most `listed_max` of each: first
///   the file-wide causes (`format_not_supported`, `mixed_formats`, `images_not_supported`,
///   `developer_role_unsupported`), once each at their first line with the count and the
///   first lines in the message; then the per-line findings in input order; then the
///   file-level ones (`line` null). `errors_total` and `warnings_total` count them all;
///   `codes`: how many findings of each code.
/// - `tokens`: `{min, max, mean, p50, p95, total, counted}` over the examples that have
///   no error other than `over_token_limit` (`counted` of them; percentiles interpolated
///   like numpy); null when there are none.
/// - `limit`: maximum tokens per example (the model's, its `target`'s, or `--max-tokens`);
///   `over_limit`: examples above it (they would be truncated at the end).
/// - `epochs`: the service's default epochs for `tokens.counted` examples;
///   `billed_tokens`: the sum over those examples of min(limit, tokens), times `epochs`;
///   `price_per_million`: the model's training price in US dollars per 1M tokens;
///   `cost`: `billed_tokens` × price / 1M in US dollars, rounded to 4 decimals (null when the price is unknown).
/// - `worst`: the longest examples `[{line, tokens}]`, longest first (at most 10);
///   `histogram`: `[{from, to, count}]` token buckets, `from` inclusive, `to` exclusive.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub file: String,
    pub model: String,
    pub model_family: String,
    pub encoding: String,
    pub format: Option<Format>,
    pub examples: u64,
    pub valid: u64,
    pub blank_lines: u64,
    pub errors: Vec<Finding>,
    pub errors_total: u64,
    pub warnings: Vec<Finding>,
    pub warnings_total: u64,
    pub listed_max: usize,
    pub codes: BTreeMap<String, u64>,
    pub tokens: Option<TokenStats>,
    pub limit: u64,
    /// Where the model is trained when the limit is that place's (open-weight models):
    /// `Azure AI Foundry`, `LLaMA-Factory`…
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Whose rules and line dialect were checked (`--target`): `together`, `vertex`…
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checked_for: Option<String>,
    pub over_limit: u64,
    pub epochs: u64,
    pub billed_tokens: u64,
    pub price_per_million: Option<f64>,
    pub cost: Option<f64>,
    pub worst: Vec<Worst>,
    pub histogram: Vec<Bucket>,
}

impl Report {
    pub fn has_errors(&self) -> bool {
        self.errors_total > 0
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenStats {
    pub min: u64,
    pub max: u64,
    pub mean: f64,
    pub p50: f64,
    pub p95: f64,
    pub total: u64,
    pub counted: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Worst {
    pub line: u64,
    pub tokens: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Bucket {
    pub from: u64,
    pub to: u64,
    pub count: u64,
}

/// Exact distribution of token counts (count → how many examples), bounded by the number
/// of distinct counts rather than the number of examples.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Distribution {
    counts: BTreeMap<u64, u64>,
    n: u64,
    total: u64,
}

impl Distribution {
    pub(crate) fn add(&mut self, tokens: u64) {
        *self.counts.entry(tokens).or_default() += 1;
        self.n += 1;
        self.total += tokens;
    }

    pub(crate) fn n(&self) -> u64 {
        self.n
    }

    /// The value at 0-based rank `k` in sorted order.
    fn at(&self, k: u64) -> u64 {
        let mut seen = 0;
        for (&v, &c) in &self.counts {
            seen += c;
            if k < seen {
                return v;
            }
        }
        self.counts.keys().next_back().copied().unwrap_or(0)
    }

    /// numpy's default (linear) percentile.
    fn percentile(&self, q: f64) -> f64 {
        let pos = (self.n - 1) as f64 * q;
        let (lo, hi) = (pos.floor(), pos.ceil());
        let (a, b) = (self.at(lo as u64) as f64, self.at(hi as u64) as f64);
        a + (b - a) * (pos - lo)
    }

    pub(crate) fn stats(&self) -> Option<TokenStats> {
        if self.n == 0 {
            return None;
        }
        Some(TokenStats {
            min: self.counts.keys().next().copied().unwrap_or(0),
            max: self.counts.keys().next_back().copied().unwrap_or(0),
            mean: round3(self.total as f64 / self.n as f64),
            p50: round3(self.percentile(0.5)),
            p95: round3(self.percentile(0.95)),
            total: self.total,
            counted: self.n,
        })
    }

    /// Power-of-two buckets from the smallest to the largest count (`[0, 64)` first).
    pub(crate) fn histogram(&self) -> Vec<Bucket> {
        let bucket_of = |v: u64| {
            if v < 64 {
                0
            } else {
                64u64 << (63 - v.leading_zeros() - 6)
            }
        };
        let mut out: Vec<Bucket> = Vec::new();
        let (Some(&min), Some(&max)) = (self.counts.keys().next(), self.counts.keys().next_back())
        else {
            return out;
        };
        let mut from = bucket_of(min);
        while from <= max {
            let to = if from == 0 { 64 } else { from * 2 };
            let count = self.counts.range(from..to).map(|(_, c)| c).sum();
            out.push(Bucket { from, to, count });
            from = to;
        }
        out
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_epochs_follows_the_service_rule() {
        assert_eq!(default_epochs(0), 3);
        assert_eq!(default_epochs(1), 25); // 100 / 1 clamped to 25
        assert_eq!(default_epochs(3), 25); // 33 clamped to 25
        assert_eq!(default_epochs(4), 25); // 100 / 4
        assert_eq!(default_epochs(5), 20);
        assert_eq!(default_epochs(10), 10);
        assert_eq!(default_epochs(33), 3); // 99 < 100 → 100 / 33 = 3
        assert_eq!(default_epochs(34), 3); // 102 ≥ 100
        assert_eq!(default_epochs(8_333), 3); // 24,999
        assert_eq!(default_epochs(8_334), 2); // 25,002 > 25,000 → 25,000 / 8,334 = 2
        assert_eq!(default_epochs(12_500), 2);
        assert_eq!(default_epochs(12_501), 1);
        assert_eq!(default_epochs(1_000_000), 1); // never below 1
    }

    #[test]
    fn percentiles_interpolate_like_numpy() {
        let mut d = Distribution::default();
        for v in [10, 20, 30, 40] {
            d.add(v);
        }
        let s = d.stats().unwrap();
        assert_eq!((s.min, s.max, s.total, s.counted), (10, 40, 100, 4));
        assert_eq!(s.mean, 25.0);
        assert_eq!(s.p50, 25.0); // between 20 and 30
        assert_eq!(s.p95, 38.5); // 30 + 10 × 0.85
        let mut one = Distribution::default();
        one.add(7);
        assert_eq!(one.stats().unwrap().p95, 7.0);
        assert_eq!(Distribution::default().stats(), None);
    }

    #[test]
    fn histogram_buckets_are_powers_of_two() {
        let mut d = Distribution::default();
        for v in [5, 63, 64, 200, 1000] {
            d.add(v);
        }
        let h: Vec<(u64, u64, u64)> = d
            .histogram()
            .iter()
            .map(|b| (b.from, b.to, b.count))
            .collect();
        assert_eq!(
            h,
            vec![
                (0, 64, 2),
                (64, 128, 1),
                (128, 256, 1),
                (256, 512, 0),
                (512, 1024, 1)
            ]
        );
    }
}
