//! Means with confidence intervals, and paired comparisons against a baseline.
//!
//! The interval is a 95 % percentile bootstrap: 2,000 resamples of the examples with a
//! fixed seed, so the same scores always give the same interval (and the bytes of every
//! output stay reproducible). It makes no normality assumption, which matters for scores
//! piled up at 0 and 1 such as `exact` and `facts`.

use serde::Serialize;

/// Resamples per interval.
pub const RESAMPLES: usize = 2_000;
/// The bootstrap's seed.
pub const SEED: u64 = 0x00af_1a4e_7a1b_5eed;
/// How the intervals are made, for reports.
pub const METHOD: &str = "95% percentile bootstrap, 2000 resamples, fixed seed";
/// Scores closer than this are a tie.
pub const TIE: f64 = 1e-9;

/// A mean and its interval over `n` examples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    pub n: usize,
    pub mean: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

/// SplitMix64: tiny, and the same numbers on every platform and version.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        // n is at most a few hundred thousand examples: the modulo bias is negligible.
        (self.next() % n as u64) as usize
    }
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len() as f64
}

/// The mean of `values` with its bootstrap interval; `None` when there are none.
pub fn interval(values: &[f64]) -> Option<Interval> {
    if values.is_empty() {
        return None;
    }
    let m = mean(values);
    let n = values.len();
    let mut rng = Rng(SEED);
    let mut means: Vec<f64> = (0..RESAMPLES)
        .map(|_| (0..n).map(|_| values[rng.below(n)]).sum::<f64>() / n as f64)
        .collect();
    means.sort_by(f64::total_cmp);
    let lo = means[((RESAMPLES - 1) as f64 * 0.025).floor() as usize];
    let hi = means[((RESAMPLES - 1) as f64 * 0.975).ceil() as usize];
    Some(Interval {
        n,
        mean: m,
        // Rounding in the sums must not put the mean outside its own interval.
        ci_low: lo.min(m),
        ci_high: hi.max(m),
    })
}

/// How a model did against a baseline on one metric, over the examples both have a
/// score for.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Comparison {
    pub wins: usize,
    pub ties: usize,
    pub losses: usize,
    /// The mean of model − baseline, with its interval.
    pub delta: Option<Interval>,
}

/// Compares paired scores (`None` where an example has no score).
pub fn compare(model: &[Option<f64>], baseline: &[Option<f64>]) -> Comparison {
    let (mut wins, mut ties, mut losses) = (0, 0, 0);
    let mut deltas = Vec::new();
    for (m, b) in model.iter().zip(baseline) {
        let (Some(m), Some(b)) = (m, b) else { continue };
        let d = m - b;
        if d.abs() <= TIE {
            ties += 1;
        } else if d > 0.0 {
            wins += 1;
        } else {
            losses += 1;
        }
        deltas.push(d);
    }
    Comparison {
        wins,
        ties,
        losses,
        delta: interval(&deltas),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interval_brackets_the_mean_and_is_reproducible() {
        let values = [1.0, 0.0, 1.0, 1.0, 0.5, 0.0, 1.0, 1.0, 0.0, 1.0];
        let a = interval(&values).unwrap();
        assert_eq!(a.n, 10);
        assert!((a.mean - 0.65).abs() < 1e-12);
        assert!(a.ci_low < a.mean && a.mean < a.ci_high, "{a:?}");
        assert!(a.ci_low >= 0.0 && a.ci_high <= 1.0);
        // Same input, same interval, to the bit.
        assert_eq!(interval(&values), Some(a));
        // Constant scores have no spread.
        let c = interval(&[0.5; 7]).unwrap();
        assert_eq!((c.ci_low, c.mean, c.ci_high), (0.5, 0.5, 0.5));
        assert_eq!(interval(&[]), None);
        // More examples, narrower interval.
        let many: Vec<f64> = values.iter().cycle().take(1000).copied().collect();
        let w = interval(&many).unwrap();
        assert!(w.ci_high - w.ci_low < (a.ci_high - a.ci_low) / 3.0, "{w:?}");
    }

    #[test]
    fn paired_comparison_counts_and_skips_missing() {
        let m = [Some(1.0), Some(0.5), Some(0.0), None, Some(0.7)];
        let b = [Some(0.0), Some(0.5), Some(1.0), Some(1.0), Some(0.2)];
        let c = compare(&m, &b);
        assert_eq!((c.wins, c.ties, c.losses), (2, 1, 1));
        let d = c.delta.unwrap();
        assert_eq!(d.n, 4);
        assert!((d.mean - (1.0 + 0.0 - 1.0 + 0.5) / 4.0).abs() < 1e-12);
    }
}
