//! Every metric of one answer.

use serde::Serialize;

use crate::facts::{self, FactCheck};
use crate::{chrf, text};

/// The metrics, in the order they are reported. `judge` is there only when a judge model
/// graded the answers.
pub const METRICS: &[&str] = &["exact", "f1", "chrf", "facts", "judge"];

/// One answer's scores, each in 0..1. `facts` is `None` when the reference states no
/// checkable fact, `judge` when no judge was asked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scores {
    pub exact: f64,
    pub f1: f64,
    pub chrf: f64,
    pub facts: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub judge: Option<f64>,
}

impl Scores {
    /// A metric by name; `None` for an unknown name or a metric without a value here.
    pub fn get(&self, metric: &str) -> Option<f64> {
        match metric {
            "exact" => Some(self.exact),
            "f1" => Some(self.f1),
            "chrf" => Some(self.chrf),
            "facts" => self.facts,
            "judge" => self.judge,
            _ => None,
        }
    }
}

/// Scores `answer` against `reference` (no judge).
pub fn score(answer: &str, reference: &str) -> Scores {
    grade(answer, reference).0
}

/// [`score`] and the fact-by-fact detail behind `facts`.
pub fn grade(answer: &str, reference: &str) -> (Scores, FactCheck) {
    let check = facts::check(answer, reference);
    let scores = Scores {
        exact: text::exact(answer, reference),
        f1: text::f1(answer, reference),
        chrf: chrf::chrf(answer, reference),
        facts: check.score,
        judge: None,
    };
    (scores, check)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_identical_answer_scores_one_everywhere() {
        let r = "O limite é R$ 81 mil por ano (LC 123/2006, art. 18-A).";
        let s = score(r, r);
        assert_eq!((s.exact, s.f1, s.chrf, s.facts), (1.0, 1.0, 1.0, Some(1.0)));
        assert_eq!(s.get("facts"), Some(1.0));
        assert_eq!(s.get("judge"), None);
        assert_eq!(s.get("bleu"), None);
    }
}
