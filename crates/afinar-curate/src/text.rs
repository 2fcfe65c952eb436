//! Folding and shingling: what "the same text" means for dedupe, split and leakage.

use afinar_core::{Example, Role};
use unicode_normalization::UnicodeNormalization;

/// Folds a text for comparison: NFC, lower case, punctuation and symbols dropped, runs of
/// whitespace collapsed to one space, trimmed. Accents are kept: `é` (is) and `e` (and)
/// are different words in Portuguese. Digits stay, so `R$ 4,8` folds to `r 48`.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut pending_space = false;
    for c in text.nfc().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.push(c);
        } else if c.is_whitespace() {
            pending_space = true;
        }
        // Anything else (punctuation, symbols, marks left over) is dropped in place, so
        // `e-mail` and `email` fold alike.
    }
    // Lower-casing can leave decomposed sequences (`İ` → `i̇`); fold again to NFC.
    out.nfc().collect()
}

/// The whole example folded: every message with its role, so two examples are exact
/// duplicates only when every message matches.
pub fn example_key(ex: &Example) -> String {
    let mut key = String::new();
    for m in &ex.messages {
        key.push_str(role_tag(m.role));
        key.push('\u{1}');
        key.push_str(&fold(&m.content));
        key.push('\u{2}');
    }
    key
}

fn role_tag(role: Role) -> &'static str {
    match role {
        Role::System => "s",
        Role::Developer => "d",
        Role::User => "u",
        Role::Assistant => "a",
        Role::Tool => "t",
        #[allow(unreachable_patterns)]
        _ => "?",
    }
}

/// The folded question and answer of an example (empty when it has none).
pub fn question_answer(ex: &Example) -> (String, String) {
    (fold(ex.question().unwrap_or_default()), fold(ex.answer().unwrap_or_default()))
}

/// The numbers in a folded text, in order. Two answers that differ in a figure (a limit,
/// a rate, a date, an article) are never near duplicates: for tax FAQs that is the
/// difference that matters.
pub fn numbers(folded: &str) -> Vec<&str> {
    folded.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).collect()
}

/// Characters per shingle. Five characters span most Portuguese stems and inflections,
/// so `optar`/`optante` share shingles while unrelated sentences in the same domain
/// share few (see the threshold evidence in [`crate::DEFAULT_NEAR_THRESHOLD`]).
pub const SHINGLE_CHARS: usize = 5;

/// The set of character-shingle hashes of a folded question and answer, sorted and
/// without repeats. The question and answer are joined with a separator that never
/// occurs in folded text, so a shingle never spans both.
pub fn shingles(question: &str, answer: &str) -> Vec<u64> {
    let mut out = Vec::with_capacity(question.len() + answer.len());
    for part in [question, answer] {
        let chars: Vec<char> = part.chars().collect();
        if chars.is_empty() {
            continue;
        }
        if chars.len() <= SHINGLE_CHARS {
            out.push(hash_chars(&chars));
            continue;
        }
        out.extend(chars.windows(SHINGLE_CHARS).map(hash_chars));
    }
    out.sort_unstable();
    out.dedup();
    out
}

/// FNV-1a over the characters, finished with a 64-bit mixer. Hand-written so the value
/// never changes with a dependency's version: split decisions are keyed on it.
pub fn hash_chars(chars: &[char]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &c in chars {
        for b in (c as u32).to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    mix64(h)
}

/// FNV-1a over bytes, finished with [`mix64`].
pub fn hash_bytes(bytes: &[u8], seed: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ mix64(seed);
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    mix64(h)
}

/// SplitMix64's finaliser: every input bit affects every output bit.
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Exact Jaccard similarity of two sorted, repeat-free sets.
pub fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - common;
    common as f64 / union as f64
}

#[cfg(test)]
mod tests {
    use afinar_core::Origin;

    use super::*;

    #[test]
    fn fold_drops_case_punctuation_and_spacing_but_keeps_accents() {
        assert_eq!(fold("  Qual o LIMITE do MEI?!  "), "qual o limite do mei");
        assert_eq!(fold("O limite é de R$\u{a0}4,8 milhões."), "o limite é de r 48 milhões");
        // decomposed é (e + combining acute) equals the composed one
        assert_eq!(fold("Cafe\u{301}"), fold("Café"));
        assert_eq!(fold("e-mail\n\n\tcontábil"), "email contábil");
        assert_ne!(fold("é"), fold("e"));
    }

    #[test]
    fn example_key_covers_every_message_and_role() {
        let a = Example::single_turn(Some("Sistema"), "Qual o prazo?", "Até 31/3.", Origin::line("a", 1));
        let b = Example::single_turn(Some("sistema"), "qual o  prazo", "até 313", Origin::line("b", 9));
        let c = Example::single_turn(None, "Qual o prazo?", "Até 31/3.", Origin::line("c", 1));
        assert_eq!(example_key(&a), example_key(&b));
        assert_ne!(example_key(&a), example_key(&c));
    }

    #[test]
    fn numbers_in_order() {
        assert_eq!(numbers(&fold("R$ 81.000,00 por ano, ou R$ 6.750,00 por mês")), vec!["8100000", "675000"]);
        assert!(numbers("sem números").is_empty());
    }

    #[test]
    fn jaccard_of_sets() {
        assert_eq!(jaccard(&[1, 2, 3], &[2, 3, 4]), 0.5);
        assert_eq!(jaccard(&[], &[]), 1.0);
        assert_eq!(jaccard(&[1], &[]), 0.0);
        let s = shingles("qual o limite", "r 81 mil");
        assert_eq!(jaccard(&s, &s), 1.0);
    }

    #[test]
    fn short_texts_still_have_a_shingle() {
        assert_eq!(shingles("sim", "").len(), 1);
        assert!(shingles("", "").is_empty());
    }
}
