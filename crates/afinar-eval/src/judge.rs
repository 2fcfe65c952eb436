//! The LLM judge: a fixed rubric (the prompts in `crates/afinar-eval/prompts/`), the
//! messages sent to the judge model and the reading of its verdicts.
//!
//! - Alone, each answer is graded 1–5 against the reference; the `judge` metric is
//!   (grade − 1) / 4, so it lies in 0..1 like the others.
//! - With a baseline, the judge also compares the two answers side by side. Which one is
//!   shown first alternates with the example's position, so a judge that favours the
//!   first (or second) answer does not favour one model.

use serde_json::{Value, json};

/// The single-answer rubric.
pub const SINGLE: &str = include_str!("../prompts/judge-single.txt");
/// The pairwise rubric.
pub const PAIRWISE: &str = include_str!("../prompts/judge-pairwise.txt");

/// Fills `{name}` placeholders in one pass, so braces inside the values stay as written.
fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 1024);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let tail = &rest[open..];
        let hit = values.iter().find(|(name, _)| {
            tail.strip_prefix('{')
                .and_then(|t| t.strip_prefix(name))
                .is_some_and(|t| t.starts_with('}'))
        });
        match hit {
            Some((name, value)) => {
                out.push_str(value);
                rest = &tail[name.len() + 2..];
            }
            None => {
                out.push('{');
                rest = &tail[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// The chat messages asking for a 1–5 grade.
pub fn single_messages(question: &str, reference: &str, answer: &str) -> Value {
    let prompt = fill(
        SINGLE,
        &[
            ("question", question),
            ("reference", reference),
            ("answer", answer),
        ],
    );
    json!([{"role": "user", "content": prompt}])
}

/// Whether example `index` shows the model's answer as A (else the baseline's).
pub fn model_first(index: usize) -> bool {
    index.is_multiple_of(2)
}

/// The chat messages asking which of two answers is better; `model_first` puts the
/// model's answer as A.
pub fn pairwise_messages(
    question: &str,
    reference: &str,
    model: &str,
    baseline: &str,
    model_first: bool,
) -> Value {
    let (a, b) = if model_first {
        (model, baseline)
    } else {
        (baseline, model)
    };
    let prompt = fill(
        PAIRWISE,
        &[
            ("question", question),
            ("reference", reference),
            ("answer_a", a),
            ("answer_b", b),
        ],
    );
    json!([{"role": "user", "content": prompt}])
}

/// The first JSON object in `text` (judges wrap it in prose or code fences).
fn json_object(text: &str) -> Option<Value> {
    let start = text.find('{')?;
    let end = text.rfind('}')?;
    serde_json::from_str(text.get(start..=end)?).ok()
}

/// The `judge` metric from a single-answer verdict: (grade − 1) / 4; `None` when the
/// verdict has no grade 1–5.
pub fn read_grade(verdict: &str) -> Option<f64> {
    let v = json_object(verdict)?;
    let grade = match &v["score"] {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    (1.0..=5.0).contains(&grade).then(|| (grade - 1.0) / 4.0)
}

/// A pairwise verdict for the model: 1 it won, 0.5 a tie, 0 the baseline won; `None`
/// when unreadable.
pub fn read_preference(verdict: &str, model_first: bool) -> Option<f64> {
    let v = json_object(verdict)?;
    let winner = v["winner"].as_str()?.trim().to_ascii_lowercase();
    match (winner.as_str(), model_first) {
        ("a", true) | ("b", false) => Some(1.0),
        ("b", true) | ("a", false) => Some(0.0),
        ("tie", _) => Some(0.5),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prompts_carry_the_texts_verbatim() {
        let m = single_messages("Qual o limite?", "R$ 81 mil {answer}", "81 mil {x}");
        let p = m[0]["content"].as_str().unwrap();
        assert!(p.contains("Qual o limite?"));
        // A placeholder-looking text inside a value is not filled again.
        assert!(p.contains("R$ 81 mil {answer}"));
        assert!(p.contains("81 mil {x}"));
        assert!(p.contains(r#"{"score": N"#), "the reply format stays");
        let m = pairwise_messages("q", "r", "MODEL", "BASE", false);
        let p = m[0]["content"].as_str().unwrap();
        assert!(p.find("BASE").unwrap() < p.find("MODEL").unwrap());
    }

    #[test]
    fn verdicts_are_read_from_json_in_prose() {
        assert_eq!(read_grade(r#"{"score": 5, "reason": "ok"}"#), Some(1.0));
        assert_eq!(read_grade("```json\n{\"score\": \"3\"}\n```"), Some(0.5));
        assert_eq!(read_grade(r#"{"score": 9}"#), None);
        assert_eq!(read_grade("five"), None);
        assert_eq!(read_preference(r#"{"winner": "A"}"#, true), Some(1.0));
        assert_eq!(read_preference(r#"{"winner": "A"}"#, false), Some(0.0));
        assert_eq!(read_preference(r#"{"winner": "tie"}"#, false), Some(0.5));
        assert_eq!(read_preference(r#"{"winner": "C"}"#, true), None);
    }
}
