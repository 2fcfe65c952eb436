//! `report.html`: one self-contained file (inline CSS and SVG, no network), rendered from
//! a minijinja template, so text from the data is escaped, never pasted into markup.

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

/// A token histogram laid out for SVG: bars, axis labels and the model limit marker.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Histogram {
    pub width: u32,
    pub height: u32,
    pub bars: Vec<Bar>,
    /// x of the limit line, when the limit falls inside the plotted range.
    pub limit_x: Option<f64>,
    pub limit_label: String,
    pub max_label: String,
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

const BINS: usize = 20;
const W: u32 = 640;
const H: u32 = 180;

impl Histogram {
    /// Bins token counts into equal-width bars from 0 to the larger of the longest example
    /// and the limit, so the limit line is always on the chart.
    pub fn new(tokens: &[u64], limit: u64) -> Self {
        let top = tokens.iter().copied().max().unwrap_or(0).max(limit).max(1);
        let mut counts = [0u64; BINS];
        for &t in tokens {
            let bin = ((t as u128 * BINS as u128) / (top as u128 + 1)) as usize;
            counts[bin.min(BINS - 1)] += 1;
        }
        let peak = counts.iter().copied().max().unwrap_or(0).max(1);
        let bar_w = f64::from(W) / BINS as f64;
        let bin_span = (top + 1).div_ceil(BINS as u64);
        let bars = counts
            .iter()
            .enumerate()
            .map(|(i, &count)| {
                let h = (count as f64 / peak as f64) * f64::from(H - 20);
                let lo = i as u64 * bin_span;
                Bar {
                    x: i as f64 * bar_w + 1.0,
                    y: f64::from(H) - h,
                    w: bar_w - 2.0,
                    h,
                    label: format!("{lo}–{} tokens: {count}", lo + bin_span - 1),
                    count,
                }
            })
            .collect();
        Self {
            width: W,
            height: H,
            bars,
            limit_x: Some(limit as f64 / top as f64 * f64::from(W)).filter(|_| limit > 0),
            limit_label: format!("limit {limit}"),
            max_label: format!("{top}"),
        }
    }
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
        let h = Histogram::new(&[10, 20, 20, 4000, 70000], 65536);
        assert_eq!(h.bars.iter().map(|b| b.count).sum::<u64>(), 5);
        let x = h.limit_x.unwrap();
        assert!(x > 550.0 && x < 640.0, "{x}");
        let empty = Histogram::new(&[], 100);
        assert_eq!(empty.bars.iter().map(|b| b.count).sum::<u64>(), 0);
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
