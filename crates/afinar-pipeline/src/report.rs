//! `report.html`: one self-contained file (inline CSS and SVG, no network), rendered from
//! a minijinja template, so text from the data is escaped, never pasted into markup.

use afinar_core::count::thousands;
use minijinja::Environment;
use serde::Serialize;

use crate::PipelineError;
use crate::manifest::Accounting;

const TEMPLATE: &str = include_str!("../templates/report.html.j2");

/// Everything the report shows.
#[derive(Debug, Clone, Serialize, Default)]
pub struct ReportData {
    pub name: String,
    pub afinar_version: String,
    pub sources: Vec<SourceRow>,
    pub topics: Vec<TopicRow>,
    pub histogram: Histogram,
    pub longest: Vec<LongRow>,
    pub rejects: Vec<RejectRow>,
    pub duplicates: Vec<DuplicateRow>,
    pub conflicts: Vec<ConflictRow>,
    /// The manifest's accounting: the counts shown at the top.
    pub totals: Accounting,
    pub estimate: EstimateRow,
}

#[derive(Debug, Clone, Serialize)]
pub struct SourceRow {
    pub path: String,
    pub format: String,
    pub encoding: String,
    pub sheet: String,
    pub rows: u64,
    pub examples: u64,
    pub rejected: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct TopicRow {
    pub topic: String,
    pub train: u64,
    pub validation: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LongRow {
    pub origin: String,
    pub tokens: u64,
    pub question: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct RejectRow {
    pub origin: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DuplicateRow {
    pub origin: String,
    pub kept: String,
    pub similarity: String,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConflictRow {
    pub origins: String,
    pub question: String,
}

#[derive(Debug, Clone, Serialize, Default)]
pub struct EstimateRow {
    pub model: String,
    pub max_tokens: u64,
    pub total_tokens: u64,
    pub epochs: u64,
    pub billed_tokens: u64,
    pub cost: String,
}

/// A token histogram laid out for SVG: bars over the examples' own range, axis labels,
/// and the model limit (a line when it falls on the chart, else a marker and a note saying
/// how far below it the longest example is).
#[derive(Debug, Clone, Serialize, Default)]
pub struct Histogram {
    pub width: u32,
    pub height: u32,
    pub bars: Vec<Bar>,
    /// x of the limit line, when the limit falls inside the plotted range.
    pub limit_x: Option<f64>,
    pub limit_label: String,
    /// The first bar's lower edge and the last bar's upper edge, in tokens.
    pub min_label: String,
    pub max_label: String,
    /// One sentence under the chart: where the longest example stands against the limit.
    pub note: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Bar {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
    pub label: String,
    pub count: u64,
}

const BINS: u64 = 20;
const W: u32 = 640;
const H: u32 = 180;
/// The limit is drawn on the chart when it is at most this many times the longest
/// example; further out, it would squeeze the bars into a corner again.
const LIMIT_REACH: u64 = 2;

impl Histogram {
    /// Bins token counts into at most 21 equal bars of a round width (1, 2 or 5 × 10ⁿ),
    /// from the shortest example to the longest, so FAQ-sized examples spread over the
    /// chart instead of sitting in one bar at the left of a 0..limit axis. The range
    /// stretches to the limit when it is near (or passed); otherwise the note says how far
    /// below it the longest example is.
    pub fn new(tokens: &[u64], limit: u64) -> Self {
        let (Some(&min), Some(&max)) = (tokens.iter().min(), tokens.iter().max()) else {
            return Self {
                width: W,
                height: H,
                note: "No examples.".into(),
                limit_label: format!("limit {}", thousands(limit)),
                ..Self::default()
            };
        };
        let shows_limit = limit > 0 && limit <= max.saturating_mul(LIMIT_REACH);
        let top = if shows_limit { max.max(limit) } else { max };
        let step = round_step((top - min + 1).div_ceil(BINS));
        let lo = min / step * step;
        let n = (top - lo) / step + 1;
        let mut counts = vec![0u64; n as usize];
        for &t in tokens {
            counts[((t - lo) / step) as usize] += 1;
        }
        let hi = lo + n * step;
        let span = (hi - lo) as f64;
        let x_of = |t: u64| (t - lo) as f64 / span * f64::from(W);
        let peak = counts.iter().copied().max().unwrap_or(0).max(1);
        let bar_w = f64::from(W) / n as f64;
        let bars = counts
            .iter()
            .enumerate()
            .map(|(i, &count)| {
                let h = (count as f64 / peak as f64) * f64::from(H - 20);
                let from = lo + i as u64 * step;
                Bar {
                    x: round1(i as f64 * bar_w + 1.0),
                    y: round1(f64::from(H) - h),
                    w: round1((bar_w - 2.0).max(1.0)),
                    h: round1(h),
                    label: format!(
                        "{}–{} tokens: {count}",
                        thousands(from),
                        thousands(from + step - 1)
                    ),
                    count,
                }
            })
            .collect();
        let over = tokens.iter().filter(|&&t| t > limit).count();
        let note = if over > 0 {
            format!(
                "{over} {} over the {}-token limit (right of the dashed line): the trainer truncates them.",
                if over == 1 {
                    "example is"
                } else {
                    "examples are"
                },
                thousands(limit)
            )
        } else {
            let below = limit - max;
            format!(
                "The longest example has {} tokens, {} below the {}-token limit ({:.1}% of it).",
                thousands(max),
                thousands(below),
                thousands(limit),
                max as f64 / limit as f64 * 100.0
            )
        };
        Self {
            width: W,
            height: H,
            bars,
            limit_x: shows_limit.then(|| round1(x_of(limit))),
            limit_label: format!("limit {}", thousands(limit)),
            min_label: thousands(lo),
            max_label: thousands(hi),
            note,
        }
    }
}

/// The smallest of 1, 2, 5, 10, 20, 50… that is at least `raw`.
fn round_step(raw: u64) -> u64 {
    let mut base = 1u64;
    loop {
        for m in [1, 2, 5] {
            if base * m >= raw {
                return base * m;
            }
        }
        base *= 10;
    }
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// Renders the report to HTML.
pub fn render(data: &ReportData) -> Result<String, PipelineError> {
    let mut env = Environment::new();
    // `.html` names turn on auto-escaping.
    env.add_template("report.html", TEMPLATE)
        .map_err(PipelineError::Report)?;
    let template = env
        .get_template("report.html")
        .map_err(PipelineError::Report)?;
    template.render(data).map_err(PipelineError::Report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_puts_every_example_in_a_bar_and_marks_the_limit() {
        // An example over the limit: the range reaches past it and the line is drawn.
        let h = Histogram::new(&[10, 20, 20, 4000, 70000], 65536);
        assert_eq!(h.bars.iter().map(|b| b.count).sum::<u64>(), 5);
        let x = h.limit_x.unwrap();
        assert!(x > 550.0 && x < 640.0, "{x}");
        assert!(
            h.note
                .starts_with("1 example is over the 65,536-token limit"),
            "{}",
            h.note
        );
        let empty = Histogram::new(&[], 100);
        assert_eq!(empty.bars.iter().map(|b| b.count).sum::<u64>(), 0);
        assert_eq!(empty.note, "No examples.");
    }

    #[test]
    fn faq_examples_spread_over_their_own_range() {
        // FAQ-sized examples against a 65,536-token limit used to sit in one bar.
        let tokens: Vec<u64> = (0..200).map(|i| 60 + (i * 7) % 340).collect();
        let h = Histogram::new(&tokens, 65536);
        assert_eq!(h.bars.iter().map(|b| b.count).sum::<u64>(), 200);
        let filled = h.bars.iter().filter(|b| b.count > 0).count();
        assert!(
            filled >= 15,
            "{filled} of {} bars have examples",
            h.bars.len()
        );
        assert!(h.bars.len() <= 21);
        assert_eq!(h.limit_x, None); // far off the chart: said, not drawn
        assert_eq!((h.min_label.as_str(), h.max_label.as_str()), ("60", "400"));
        assert_eq!(
            h.note,
            "The longest example has 399 tokens, 65,137 below the 65,536-token limit (0.6% of it)."
        );
        // Round bar widths; the first bar starts at or below the shortest example.
        assert_eq!(h.bars[0].label, "60–79 tokens: 14");
        // A limit within twice the longest example is drawn.
        let near = Histogram::new(&tokens, 700);
        let x = near.limit_x.unwrap();
        assert!(x > 500.0 && x <= 640.0, "{x}");
        assert!(
            near.note.contains("below the 700-token limit"),
            "{}",
            near.note
        );
        // One example, or all the same length: one bar, no division by zero.
        let one = Histogram::new(&[42], 65536);
        assert_eq!(one.bars.len(), 1);
        assert_eq!(one.bars[0].count, 1);
    }

    #[test]
    fn round_steps_and_grouped_numbers() {
        assert_eq!(
            [1, 2, 3, 6, 11, 21, 99, 101].map(round_step),
            [1, 2, 5, 10, 20, 50, 100, 200]
        );
        assert_eq!(thousands(65536), "65,536");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000_000), "1,000,000");
    }

    #[test]
    fn data_is_escaped_and_nothing_is_fetched() {
        let data = ReportData {
            name: "faq".into(),
            rejects: vec![RejectRow {
                origin: "a.csv:3".into(),
                reason: "<script>alert(1)</script>".into(),
            }],
            histogram: Histogram::new(&[5, 6], 100),
            ..Default::default()
        };
        let html = render(&data).unwrap();
        assert!(
            html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;"),
            "{html}"
        );
        assert!(!html.contains("<script>alert"));
        for external in ["http://", "https://", "src=\"//", "@import"] {
            assert!(!html.contains(external), "report refers to `{external}`");
        }
    }
}
