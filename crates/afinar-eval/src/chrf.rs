//! chrF (Popović, 2015) exactly as sacrebleu computes a sentence score with its defaults:
//! character n-grams of orders 1 to 6, whitespace removed, β = 2 (recall weighs twice
//! precision), orders where either side has no n-gram left out of the average
//! ("effective order"), no lower-casing. The score is sacrebleu's divided by 100, so it
//! lies in 0..1 like the other metrics.

use std::collections::HashMap;

/// sacrebleu's `char_order`.
pub const CHAR_ORDER: usize = 6;
/// sacrebleu's `beta`.
pub const BETA: f64 = 2.0;

/// The n-gram counts of one order.
fn ngrams(chars: &[char], n: usize) -> HashMap<&[char], u32> {
    let mut counts = HashMap::new();
    if chars.len() >= n {
        for gram in chars.windows(n) {
            *counts.entry(gram).or_insert(0) += 1;
        }
    }
    counts
}

/// chrF of `answer` against `reference`, in 0..1.
pub fn chrf(answer: &str, reference: &str) -> f64 {
    // sacrebleu: `''.join(line.split())`, then n-grams over code points.
    let hyp: Vec<char> = answer.chars().filter(|c| !c.is_whitespace()).collect();
    let refr: Vec<char> = reference.chars().filter(|c| !c.is_whitespace()).collect();
    let factor = BETA * BETA;
    let (mut avg_prec, mut avg_rec, mut effective) = (0.0, 0.0, 0u32);
    for n in 1..=CHAR_ORDER {
        let h = ngrams(&hyp, n);
        let r = ngrams(&refr, n);
        let mut matched = 0u32;
        let mut n_hyp = 0u32;
        for (gram, &count) in &h {
            n_hyp += count;
            if let Some(&rc) = r.get(gram) {
                matched += count.min(rc);
            }
        }
        // sacrebleu counts no hypothesis n-grams for an order the reference lacks.
        if r.is_empty() {
            n_hyp = 0;
        }
        let n_ref: u32 = r.values().sum();
        if n_hyp > 0 && n_ref > 0 {
            avg_prec += f64::from(matched) / f64::from(n_hyp);
            avg_rec += f64::from(matched) / f64::from(n_ref);
            effective += 1;
        }
    }
    if effective == 0 {
        return 0.0;
    }
    avg_prec /= f64::from(effective);
    avg_rec /= f64::from(effective);
    if avg_prec + avg_rec == 0.0 {
        return 0.0;
    }
    (1.0 + factor) * avg_prec * avg_rec / (factor * avg_prec + avg_rec)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// (answer, reference, sacrebleu 2.6.0 `CHRF().sentence_score(answer, [reference])`).
    const SACREBLEU: &[(&str, &str, f64)] = &[
        (
            "O limite é R$ 4,8 milhões por ano.",
            "O limite de receita bruta anual é de R$ 4,8 milhões.",
            40.57948838638544,
        ),
        (
            "Sim.",
            "Sim, o MEI pode contratar um empregado.",
            6.584973164317827,
        ),
        ("Não sei.", "O prazo é 31 de janeiro.", 5.085081837190858),
        ("abc", "abc", 100.0),
        ("a", "abcdefgh", 15.151515151515152),
        ("", "algo", 0.0),
        ("Opção ção", "opção", 49.96037865158913),
    ];

    #[test]
    fn equals_sacrebleu_on_recorded_scores() {
        for &(answer, reference, expected) in SACREBLEU {
            let got = chrf(answer, reference) * 100.0;
            assert!(
                (got - expected).abs() < 1e-9,
                "{answer:?} vs {reference:?}: {got} != {expected}"
            );
        }
    }

    #[test]
    fn by_hand() {
        // Order 1: 1 of 1 answer characters match, 1 of 8 reference ones; orders 2-6 have
        // no answer n-grams and drop out: F2 = 5·1·(1/8) / (4·1 + 1/8) = 0.625 / 4.125.
        assert!((chrf("a", "abcdefgh") - 0.625 / 4.125).abs() < 1e-15);
        // Whitespace does not count.
        assert_eq!(chrf("a b c", "abc"), 1.0);
    }

    /// Live comparison with Python's sacrebleu on Portuguese answers, when it is installed
    /// (`pip install sacrebleu`); skipped otherwise, the recorded scores above still hold.
    #[test]
    fn equals_live_sacrebleu_when_installed() {
        let pairs = [
            (
                "A alíquota é 15,5% sobre a receita.",
                "A alíquota efetiva é de 15,5 %.",
            ),
            (
                "Prazo: 1º de julho de 2026.",
                "O prazo vence em 01/07/2026, conforme a LC 123/2006.",
            ),
            ("ção ção ção", "ç"),
            (
                "Fator R ≥ 28%: Anexo III",
                "Se o Fator R for de 28% ou mais, Anexo III.",
            ),
        ];
        let script = "import sys, json\nfrom sacrebleu.metrics import CHRF\nc = CHRF()\n\
                      pairs = json.load(sys.stdin)\n\
                      print(json.dumps([c.sentence_score(h, [r]).score for h, r in pairs]))";
        let input = serde_json::to_string(&pairs).expect("serialises");
        let Ok(mut child) = std::process::Command::new("python3")
            .args(["-c", script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
        else {
            eprintln!("skipped: no python3");
            return;
        };
        use std::io::Write;
        if let Some(mut stdin) = child.stdin.take() {
            let _ = stdin.write_all(input.as_bytes());
        }
        let Ok(out) = child.wait_with_output() else {
            return;
        };
        if !out.status.success() {
            eprintln!("skipped: sacrebleu is not installed");
            return;
        }
        let scores: Vec<f64> = serde_json::from_slice(&out.stdout).expect("sacrebleu's JSON");
        for ((answer, reference), expected) in pairs.iter().zip(scores) {
            let got = chrf(answer, reference) * 100.0;
            assert!(
                (got - expected).abs() < 1e-9,
                "{answer:?} vs {reference:?}: {got} != {expected}"
            );
        }
    }
}
