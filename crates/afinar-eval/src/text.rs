//! Text normalisation for `exact` and `f1`, and the two metrics.

use std::collections::HashMap;

use unicode_normalization::UnicodeNormalization;

/// Unicode NFC, lower case, every character that is not a letter or a digit turned into
/// a space, runs of spaces collapsed. Accents are kept: in Portuguese they change words
/// (`é`/`e`, `análise`/`analise` are close, `pôde`/`pode` are not), and a tuned model
/// should write them.
pub fn normalize(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = true;
    for c in text.nfc().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
            space = false;
        } else if !space {
            out.push(' ');
            space = true;
        }
    }
    if out.ends_with(' ') {
        out.pop();
    }
    out
}

/// The words of [`normalize`]d text.
pub fn tokens(text: &str) -> Vec<String> {
    normalize(text)
        .split(' ')
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect()
}

/// 1 when the answer equals the reference after [`normalize`], else 0.
pub fn exact(answer: &str, reference: &str) -> f64 {
    if normalize(answer) == normalize(reference) {
        1.0
    } else {
        0.0
    }
}

/// Token F1 as in SQuAD: the harmonic mean of the share of the answer's words found in
/// the reference and the share of the reference's words found in the answer, counting
/// repeated words as often as they occur in both. Two empty texts score 1, one empty 0.
pub fn f1(answer: &str, reference: &str) -> f64 {
    let (a, r) = (tokens(answer), tokens(reference));
    if a.is_empty() || r.is_empty() {
        return if a.is_empty() && r.is_empty() {
            1.0
        } else {
            0.0
        };
    }
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for w in &r {
        *counts.entry(w.as_str()).or_default() += 1;
    }
    let mut common = 0usize;
    for w in &a {
        if let Some(n) = counts.get_mut(w.as_str())
            && *n > 0
        {
            *n -= 1;
            common += 1;
        }
    }
    if common == 0 {
        return 0.0;
    }
    let p = common as f64 / a.len() as f64;
    let rc = common as f64 / r.len() as f64;
    2.0 * p * rc / (p + rc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalisation_folds_case_punctuation_and_spaces_but_keeps_accents() {
        assert_eq!(
            normalize("  O limite é R$ 4,8 milhões!\n"),
            "o limite é r 4 8 milhões"
        );
        // A decomposed `é` (e + combining acute) equals the composed one.
        assert_eq!(normalize("Opção"), normalize("Opc\u{0327}a\u{0303}o"));
        assert_eq!(normalize("..."), "");
    }

    #[test]
    fn exact_after_normalisation() {
        assert_eq!(exact("Sim.", "sim"), 1.0);
        assert_eq!(exact("Sim, pode.", "Sim pode"), 1.0);
        assert_eq!(exact("Não", "Nao"), 0.0);
    }

    #[test]
    fn f1_by_hand() {
        // answer: o limite é 81 mil (5); reference: o limite anual é 81 mil reais (7);
        // common 5 → P = 1, R = 5/7, F1 = 2·(5/7)/(12/7) = 10/12.
        let f = f1("O limite é 81 mil.", "O limite anual é 81 mil reais");
        assert!((f - 10.0 / 12.0).abs() < 1e-12, "{f}");
        // Repeated words count once per occurrence on both sides: common 1 (`a`).
        let f = f1("a a a", "a b");
        assert!((f - 2.0 * (1.0 / 3.0) * 0.5 / (1.0 / 3.0 + 0.5)).abs() < 1e-12);
        assert_eq!(f1("", ""), 1.0);
        assert_eq!(f1("algo", ""), 0.0);
        assert_eq!(f1("x y", "z"), 0.0);
    }
}
