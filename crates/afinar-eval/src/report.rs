//! The results of a run: the summary (means, intervals, comparisons) and `report.html`,
//! one self-contained file (inline CSS, no script, no network) rendered from a minijinja
//! template, so text from the data is escaped, never pasted into markup.

use minijinja::Environment;
use serde::Serialize;

use crate::facts::FactCheck;
use crate::score::{METRICS, Scores};
use crate::stats::{self, Comparison, Interval};

const TEMPLATE: &str = include_str!("../templates/report.html.j2");

/// A report that could not be rendered (a bug in the template).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    #[error("Could not render the eval report")]
    Render(#[source] minijinja::Error),
}

/// One model's answer to one example.
#[derive(Debug, Clone)]
pub struct Answer {
    pub model: String,
    pub text: String,
    pub scores: Scores,
    pub facts: FactCheck,
}

/// One example: the question, the reference and each model's answer, in the order of
/// [`Run::models`].
#[derive(Debug, Clone)]
pub struct Example {
    pub origin: String,
    pub question: String,
    pub reference: String,
    pub answers: Vec<Answer>,
    /// The judge's pairwise verdict for the first model: 1 won, 0.5 tie, 0 lost.
    pub preference: Option<f64>,
}

/// Everything about one run.
#[derive(Debug, Clone)]
pub struct Run {
    pub file: String,
    /// The model first, then the baseline when there is one.
    pub models: Vec<String>,
    pub judge: Option<String>,
    pub examples: Vec<Example>,
}

/// The metrics that have a value somewhere (`judge` only with a judge).
pub fn metrics(run: &Run) -> Vec<&'static str> {
    METRICS
        .iter()
        .copied()
        .filter(|m| {
            run.examples
                .iter()
                .any(|e| e.answers.iter().any(|a| a.scores.get(m).is_some()))
        })
        .collect()
}

/// One model's means.
#[derive(Debug, Clone, Serialize)]
pub struct ModelSummary {
    pub model: String,
    /// Examples answered.
    pub n: usize,
    /// `(metric, interval)`; `None` when no example has the metric (`facts` when no
    /// reference states a fact).
    pub scores: Vec<(String, Option<Interval>)>,
}

/// The means of every model and the comparison of the first with the second.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub models: Vec<ModelSummary>,
    /// `(metric, comparison)` of the model against the baseline.
    pub comparison: Vec<(String, Comparison)>,
    /// The judge's pairwise verdicts, when asked: wins, ties and losses of the model.
    pub preference: Option<Comparison>,
}

impl Summary {
    pub fn mean(&self, model: &str, metric: &str) -> Option<Interval> {
        let m = self.models.iter().find(|m| m.model == model)?;
        m.scores.iter().find(|(name, _)| name == metric)?.1
    }
}

fn column(run: &Run, model: usize, metric: &str) -> Vec<Option<f64>> {
    run.examples
        .iter()
        .map(|e| e.answers.get(model).and_then(|a| a.scores.get(metric)))
        .collect()
}

pub fn summarize(run: &Run) -> Summary {
    let metrics = metrics(run);
    let models = run
        .models
        .iter()
        .enumerate()
        .map(|(i, model)| ModelSummary {
            model: model.clone(),
            n: run.examples.iter().filter(|e| e.answers.len() > i).count(),
            scores: metrics
                .iter()
                .map(|m| {
                    let values: Vec<f64> = column(run, i, m).into_iter().flatten().collect();
                    (m.to_string(), stats::interval(&values))
                })
                .collect(),
        })
        .collect();
    let comparison = if run.models.len() > 1 {
        metrics
            .iter()
            .map(|m| {
                (
                    m.to_string(),
                    stats::compare(&column(run, 0, m), &column(run, 1, m)),
                )
            })
            .collect()
    } else {
        Vec::new()
    };
    let prefs: Vec<Option<f64>> = run.examples.iter().map(|e| e.preference).collect();
    let preference = prefs.iter().any(Option::is_some).then(|| {
        let half: Vec<Option<f64>> = prefs.iter().map(|p| p.map(|_| 0.5)).collect();
        stats::compare(&prefs, &half)
    });
    Summary {
        models,
        comparison,
        preference,
    }
}

// What the template sees.

#[derive(Debug, Serialize)]
struct Page {
    file: String,
    afinar_version: String,
    models: Vec<String>,
    judge: Option<String>,
    method: &'static str,
    examples_total: usize,
    means: Vec<MeanRow>,
    comparison: Vec<CompareRow>,
    preference: Option<CompareRow>,
    examples: Vec<ExampleView>,
}

#[derive(Debug, Serialize)]
struct MeanRow {
    metric: String,
    cells: Vec<String>,
    ids: Vec<String>,
}

#[derive(Debug, Serialize)]
struct CompareRow {
    metric: String,
    wins: usize,
    ties: usize,
    losses: usize,
    delta: String,
}

#[derive(Debug, Serialize)]
struct ExampleView {
    rank: usize,
    origin: String,
    question: String,
    reference: Vec<Segment>,
    answers: Vec<AnswerView>,
}

#[derive(Debug, Serialize)]
struct Segment {
    text: String,
    missing: bool,
}

#[derive(Debug, Serialize)]
struct AnswerView {
    model: String,
    text: String,
    scores: Vec<(String, String)>,
    missing: Vec<String>,
}

fn pct(x: f64) -> String {
    format!("{:.1}", x * 100.0)
}

fn cell(i: &Option<Interval>) -> String {
    match i {
        Some(i) => format!(
            "{} [{}, {}] n={}",
            pct(i.mean),
            pct(i.ci_low),
            pct(i.ci_high),
            i.n
        ),
        None => "–".to_owned(),
    }
}

fn compare_row(metric: &str, c: &Comparison) -> CompareRow {
    CompareRow {
        metric: metric.to_owned(),
        wins: c.wins,
        ties: c.ties,
        losses: c.losses,
        delta: match c.delta {
            Some(d) => format!(
                "{:+.1} [{:+.1}, {:+.1}]",
                d.mean * 100.0,
                d.ci_low * 100.0,
                d.ci_high * 100.0
            ),
            None => "–".to_owned(),
        },
    }
}

/// The reference cut into plain text and the facts the model's answer misses.
fn segments(reference: &str, facts: &FactCheck) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut at = 0;
    for (fact, &ok) in facts.reference.iter().zip(&facts.stated) {
        if ok || fact.start < at {
            continue;
        }
        if fact.start > at {
            out.push(Segment {
                text: reference[at..fact.start].to_owned(),
                missing: false,
            });
        }
        out.push(Segment {
            text: reference[fact.start..fact.end].to_owned(),
            missing: true,
        });
        at = fact.end;
    }
    if at < reference.len() {
        out.push(Segment {
            text: reference[at..].to_owned(),
            missing: false,
        });
    }
    out
}

/// Worst first by the model's answer: facts (or F1 where the reference has no facts),
/// then F1, then chrF; ties keep the file's order.
fn worst_first(run: &Run) -> Vec<usize> {
    let key = |e: &Example| {
        e.answers.first().map_or((0.0, 0.0, 0.0), |a| {
            let s = &a.scores;
            (s.facts.unwrap_or(s.f1), s.f1, s.chrf)
        })
    };
    let mut order: Vec<usize> = (0..run.examples.len()).collect();
    order.sort_by(|&a, &b| {
        let (ka, kb) = (key(&run.examples[a]), key(&run.examples[b]));
        ka.0.total_cmp(&kb.0)
            .then(ka.1.total_cmp(&kb.1))
            .then(ka.2.total_cmp(&kb.2))
            .then(a.cmp(&b))
    });
    order
}

/// Renders `report.html`.
pub fn render(run: &Run, summary: &Summary, afinar_version: &str) -> Result<String, ReportError> {
    let metrics = metrics(run);
    let means = metrics
        .iter()
        .map(|m| MeanRow {
            metric: m.to_string(),
            cells: summary
                .models
                .iter()
                .map(|s| cell(&summary.mean(&s.model, m)))
                .collect(),
            ids: (0..summary.models.len())
                .map(|i| format!("mean-{m}-{i}"))
                .collect(),
        })
        .collect();
    let examples = worst_first(run)
        .into_iter()
        .enumerate()
        .map(|(rank, i)| {
            let e = &run.examples[i];
            let reference = match e.answers.first() {
                Some(a) => segments(&e.reference, &a.facts),
                None => vec![Segment {
                    text: e.reference.clone(),
                    missing: false,
                }],
            };
            ExampleView {
                rank: rank + 1,
                origin: e.origin.clone(),
                question: e.question.clone(),
                reference,
                answers: e
                    .answers
                    .iter()
                    .map(|a| AnswerView {
                        model: a.model.clone(),
                        text: a.text.clone(),
                        scores: metrics
                            .iter()
                            .map(|m| {
                                let v = a.scores.get(m).map_or("–".to_owned(), pct);
                                (m.to_string(), v)
                            })
                            .collect(),
                        missing: a.facts.missing().iter().map(|f| f.text.clone()).collect(),
                    })
                    .collect(),
            }
        })
        .collect();
    let page = Page {
        file: run.file.clone(),
        afinar_version: afinar_version.to_owned(),
        models: run.models.clone(),
        judge: run.judge.clone(),
        method: stats::METHOD,
        examples_total: run.examples.len(),
        means,
        comparison: summary
            .comparison
            .iter()
            .map(|(m, c)| compare_row(m, c))
            .collect(),
        preference: summary
            .preference
            .as_ref()
            .map(|c| compare_row("judge (pairwise)", c)),
        examples,
    };
    let mut env = Environment::new();
    // A `.html` name turns on auto-escaping.
    env.add_template("report.html", TEMPLATE)
        .map_err(ReportError::Render)?;
    env.get_template("report.html")
        .and_then(|t| t.render(&page))
        .map_err(ReportError::Render)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::grade;

    fn answer(model: &str, text: &str, reference: &str) -> Answer {
        let (scores, facts) = grade(text, reference);
        Answer {
            model: model.into(),
            text: text.into(),
            scores,
            facts,
        }
    }

    fn run() -> Run {
        let examples = [
            (
                "Qual o limite?",
                "O limite é R$ 4,8 milhões.",
                "R$ 4,8 milhões.",
                "R$ 3,6 milhões.",
            ),
            (
                "<b>Pode?</b>",
                "Sim, pode <script>alert(x)</script>.",
                "Sim, pode.",
                "Não.",
            ),
        ]
        .iter()
        .enumerate()
        .map(|(i, (q, r, a, b))| Example {
            origin: format!("validation.jsonl:{}", i + 1),
            question: q.to_string(),
            reference: r.to_string(),
            answers: vec![answer("ft:tuned", a, r), answer("base", b, r)],
            preference: None,
        })
        .collect();
        Run {
            file: "validation.jsonl".into(),
            models: vec!["ft:tuned".into(), "base".into()],
            judge: None,
            examples,
        }
    }

    #[test]
    fn summary_has_means_and_the_comparison() {
        let run = run();
        let s = summarize(&run);
        assert_eq!(s.models.len(), 2);
        assert_eq!(s.models[0].n, 2);
        // Only the first example has facts: the tuned model states the one, the base not.
        assert_eq!(
            s.mean("ft:tuned", "facts").map(|i| (i.n, i.mean)),
            Some((1, 1.0))
        );
        assert_eq!(s.mean("base", "facts").map(|i| i.mean), Some(0.0));
        let facts = &s.comparison.iter().find(|(m, _)| m == "facts").unwrap().1;
        assert_eq!((facts.wins, facts.ties, facts.losses), (1, 0, 0));
        assert!(s.mean("base", "judge").is_none());
        assert!(s.preference.is_none());
    }

    #[test]
    fn report_escapes_data_highlights_missing_facts_and_fetches_nothing() {
        let run = run();
        let html = render(&run, &summarize(&run), "0.1.0").unwrap();
        assert!(!html.contains("<script>alert"), "{html}");
        assert!(html.contains("&lt;script&gt;alert(x)&lt;&#x2f;script&gt;"));
        assert!(html.contains("&lt;b&gt;Pode?&lt;&#x2f;b&gt;"));
        // The base model misses the limit; the tuned one does not, so the reference is
        // highlighted only where the tuned model misses facts (nowhere here)…
        assert!(!html.contains("<mark class=\"missing\">R$"));
        // …and the base model's missing fact is listed.
        assert!(html.contains("R$ 4,8 milhões</li>"), "{html}");
        for external in ["http://", "https://", "src=\"//", "@import", "<script"] {
            assert!(!html.contains(external), "report has `{external}`");
        }
    }

    #[test]
    fn worst_answers_come_first_and_missing_facts_are_marked() {
        let mut run = run();
        run.models.reverse();
        for e in &mut run.examples {
            e.answers.reverse();
        }
        let html = render(&run, &summarize(&run), "0.1.0").unwrap();
        // The base model is first now: it missed the limit, which is marked…
        assert!(
            html.contains("<mark class=\"missing\">R$ 4,8 milhões</mark>"),
            "{html}"
        );
        // …and the worst answer comes first: `Não.` shares no word with its reference
        // (no facts there, F1 0); the wrong limit has facts 0 but some words right.
        let limit = html.find("Qual o limite?").unwrap();
        let pode = html.find("Pode?").unwrap();
        assert!(pode < limit);
    }
}
