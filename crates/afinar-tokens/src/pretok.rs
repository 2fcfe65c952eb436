//! Hand-written pre-tokenizers, equivalent to tiktoken's regexes.
//!
//! tiktoken splits text with a backtracking regex (fancy-regex) before BPE; that regex is
//! most of its run time and takes a lock per call under threads. Each function here gives
//! the end of the match that regex finds at a position, following the regex's own
//! priority order (alternatives left to right, greedy quantifiers longest first, backing
//! off one character at a time). The comments quote the alternative each step emulates.
//! Equality with the regexes is checked against tiktoken itself: golden file, random
//! differential tests, and the live Python oracle test.

use crate::unicode::{
    BOTH, CR, FOLD_D, FOLD_E, FOLD_L, FOLD_M, FOLD_R, FOLD_S, FOLD_T, FOLD_V, LF, LOWER, MARK, NUM,
    OTHER, SPACE, UPPER, char_at, fold_at,
};

/// `(?i:'s|'t|'re|'ve|'m|'ll|'d)` at `i`: the end of the contraction, if one starts there.
#[inline]
fn contraction(b: &[u8], i: usize) -> Option<usize> {
    if b.get(i) != Some(&b'\'') {
        return None;
    }
    let j = i + 1;
    for one in [FOLD_S, FOLD_T] {
        if let Some(l) = fold_at(b, j, one) {
            return Some(j + l);
        }
    }
    for (first, second) in [(FOLD_R, FOLD_E), (FOLD_V, FOLD_E)] {
        if let Some(l1) = fold_at(b, j, first)
            && let Some(l2) = fold_at(b, j + l1, second)
        {
            return Some(j + l1 + l2);
        }
    }
    if let Some(l) = fold_at(b, j, FOLD_M) {
        return Some(j + l);
    }
    if let Some(l1) = fold_at(b, j, FOLD_L)
        && let Some(l2) = fold_at(b, j + l1, FOLD_L)
    {
        return Some(j + l1 + l2);
    }
    fold_at(b, j, FOLD_D).map(|l| j + l)
}

#[inline(always)]
fn is_upper_class(c: u8) -> bool {
    // [\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]
    matches!(c, UPPER | BOTH | MARK)
}

#[inline(always)]
fn is_lower_class(c: u8) -> bool {
    // [\p{Ll}\p{Lm}\p{Lo}\p{M}]
    matches!(c, LOWER | BOTH | MARK)
}

#[inline(always)]
fn is_letter(c: u8) -> bool {
    matches!(c, UPPER | LOWER | BOTH)
}

#[inline(always)]
fn is_space(c: u8) -> bool {
    matches!(c, SPACE | CR | LF)
}

/// `[^\r\n\p{L}\p{N}]`
#[inline(always)]
fn is_prefix(c: u8) -> bool {
    matches!(c, OTHER | SPACE | MARK)
}

/// `[^\s\p{L}\p{N}]`
#[inline(always)]
fn is_punct(c: u8) -> bool {
    matches!(c, OTHER | MARK)
}

/// The end of the run of characters from `i` whose category satisfies `pred`.
#[inline(always)]
fn run(b: &[u8], mut i: usize, pred: impl Fn(u8) -> bool) -> usize {
    while i < b.len() {
        let (c, l) = char_at(b, i);
        if !pred(c) {
            break;
        }
        i += l;
    }
    i
}

/// o200k `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+` from `j`.
#[inline]
fn upper_star_lower_plus(b: &[u8], j: usize) -> Option<usize> {
    // The upper run, remembering its last character that is also in the lower class:
    // that is where the greedy `*` backs off to when the character after the run is not.
    let mut i = j;
    let mut last_lower = None;
    while i < b.len() {
        let (c, l) = char_at(b, i);
        if !is_upper_class(c) {
            break;
        }
        if is_lower_class(c) {
            last_lower = Some(i);
        }
        i += l;
    }
    let start = if i < b.len() && char_at(b, i).0 == LOWER {
        i
    } else {
        last_lower?
    };
    Some(run(b, start, is_lower_class))
}

/// o200k `[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*` from `j`.
#[inline]
fn upper_plus_lower_star(b: &[u8], j: usize) -> Option<usize> {
    let i = run(b, j, is_upper_class);
    (i > j).then(|| run(b, i, is_lower_class))
}

/// The category of an ASCII byte.
#[inline(always)]
fn ascii_cat(c: u8) -> u8 {
    crate::unicode::BLOCKS[usize::from(c & 0x7f)]
}

/// `[^\s\p{L}\p{N}]+` from `p`, then the trailing line breaks (and `/` for o200k).
#[inline(always)]
fn punct_run(b: &[u8], p: usize, slash: bool) -> usize {
    let mut e = run(b, p, is_punct);
    while e < b.len() && (matches!(b[e], b'\r' | b'\n') || (slash && b[e] == b'/')) {
        e += 1;
    }
    e
}

/// The end of the o200k_base piece starting at `i` (`i < b.len()`).
///
/// Fast paths decide the commonest pieces from ASCII bytes, each checked against the
/// alternatives in order; whatever they cannot decide goes to [`o200k_general`].
#[inline]
pub(crate) fn o200k_next(b: &[u8], i: usize) -> usize {
    let c = b[i];
    if c >= 0x80 {
        return o200k_general(b, i);
    }
    let cat = ascii_cat(c);
    let next = b.get(i + 1).copied();
    let next_is_letter = next.is_some_and(|n| n.is_ascii_alphabetic());
    // 1/2 with an ASCII prefix character (space, tab, punctuation) before an ASCII letter.
    let j = if matches!(cat, OTHER | SPACE) && next_is_letter {
        i + 1
    } else {
        i
    };
    if b[j].is_ascii_alphabetic() {
        let mut k = j;
        while k < b.len() && b[k].is_ascii_uppercase() {
            k += 1;
        }
        if k < b.len() && b[k].is_ascii_lowercase() {
            // 1: the upper run ends here (lower case is not in its class); the lower
            // run goes on through any character of its class, ASCII or not.
            k += 1;
            while k < b.len() && b[k].is_ascii_lowercase() {
                k += 1;
            }
            if k < b.len() && b[k] < 0x80 && b[k] != b'\'' && !b[k].is_ascii_uppercase() {
                return k;
            }
            let e = run(b, k, is_lower_class);
            return contraction(b, e).unwrap_or(e);
        }
        if k == b.len() || b[k] < 0x80 {
            // All upper case, then ASCII that is no letter: 1 fails, 2 matches.
            return contraction(b, k).unwrap_or(k);
        }
        return o200k_general(b, i);
    }
    if let Some(e) = ascii_digits(b, i) {
        return e;
    }
    // 4: punctuation, after a space or not, when no letter can follow the first character.
    if c == b' ' && next.is_some_and(|n| n < 0x80 && ascii_cat(n) == OTHER) {
        return punct_run(b, i + 1, true);
    }
    if cat == OTHER && next.is_none_or(|n| n < 0x80 && !n.is_ascii_alphabetic()) {
        return punct_run(b, i, true);
    }
    o200k_general(b, i)
}

/// `\p{N}{1,3}` when the run is decided by ASCII bytes alone.
#[inline(always)]
fn ascii_digits(b: &[u8], i: usize) -> Option<usize> {
    if !b[i].is_ascii_digit() {
        return None;
    }
    let mut e = i + 1;
    while e < b.len() && e < i + 3 && b[e].is_ascii_digit() {
        e += 1;
    }
    (e == i + 3 || e == b.len() || b[e] < 0x80).then_some(e)
}

fn o200k_general(b: &[u8], i: usize) -> usize {
    let (c0, l0) = char_at(b, i);
    // 1: [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|…)?
    // first with the optional prefix character, then without it.
    if is_prefix(c0)
        && let Some(e) = upper_star_lower_plus(b, i + l0)
    {
        return contraction(b, e).unwrap_or(e);
    }
    if let Some(e) = upper_star_lower_plus(b, i) {
        return contraction(b, e).unwrap_or(e);
    }
    // 2: [^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|…)?
    if is_prefix(c0)
        && let Some(e) = upper_plus_lower_star(b, i + l0)
    {
        return contraction(b, e).unwrap_or(e);
    }
    if let Some(e) = upper_plus_lower_star(b, i) {
        return contraction(b, e).unwrap_or(e);
    }
    // 3: \p{N}{1,3}
    if c0 == NUM {
        let mut e = i + l0;
        for _ in 0..2 {
            if e >= b.len() {
                break;
            }
            let (c, l) = char_at(b, e);
            if c != NUM {
                break;
            }
            e += l;
        }
        return e;
    }
    // 4: ` ?[^\s\p{L}\p{N}]+[\r\n/]*`
    if b[i] == b' ' && i + 1 < b.len() && is_punct(char_at(b, i + 1).0) {
        return punct_run(b, i + 1, true);
    }
    if is_punct(c0) {
        return punct_run(b, i, true);
    }
    // Only white space is left.
    space_piece(b, i, true)
}

/// The white-space alternatives, shared by both encodings (`c0` is white space):
/// cl100k first takes a run that ends the text (`\s++$`); then `\s*[\r\n]+` (o200k) /
/// `\s*[\r\n]` (cl100k) both end after the last line break of the run; then
/// `\s+(?!\S)` leaves the run's last character for the next word (or takes all of a run
/// that ends the text); then `\s+` (o200k) / `\s` (cl100k), here one character either way.
#[inline]
fn space_piece(b: &[u8], i: usize, o200k: bool) -> usize {
    let mut e = i;
    let mut last_break = None;
    let mut last_start = i;
    let mut n = 0usize;
    while e < b.len() {
        let (c, l) = char_at(b, e);
        if !is_space(c) {
            break;
        }
        if matches!(c, CR | LF) {
            last_break = Some(e);
        }
        last_start = e;
        n += 1;
        e += l;
    }
    if e == b.len() && !o200k {
        return e;
    }
    if let Some(p) = last_break {
        return p + 1;
    }
    if e == b.len() || n == 1 {
        return e;
    }
    last_start
}

/// The end of the cl100k_base piece starting at `i` (`i < b.len()`); fast paths as
/// for o200k, then [`cl100k_general`].
#[inline]
pub(crate) fn cl100k_next(b: &[u8], i: usize) -> usize {
    let c = b[i];
    // `'` may start a contraction (alternative 1): general path.
    if c >= 0x80 || c == b'\'' {
        return cl100k_general(b, i);
    }
    let cat = ascii_cat(c);
    let next = b.get(i + 1).copied();
    // 2: `[^\r\n\p{L}\p{N}]?+\p{L}++`, the letter run going on through any letter.
    if let Some(e) = ascii_word(b, i) {
        return e;
    }
    if let Some(e) = ascii_digits(b, i) {
        return e;
    }
    // 4: punctuation, after a space or not, when no letter can follow the first character.
    if c == b' ' && next.is_some_and(|n| n < 0x80 && ascii_cat(n) == OTHER) {
        return punct_run(b, i + 1, false);
    }
    if cat == OTHER && next.is_none_or(|n| n < 0x80 && !n.is_ascii_alphabetic()) {
        return punct_run(b, i, false);
    }
    cl100k_general(b, i)
}

fn cl100k_general(b: &[u8], i: usize) -> usize {
    letters_general(b, i, 3, false)
}

/// The split regex of Hugging Face byte-level tokenizers, Qwen2/Qwen3 (`digits` 1) and
/// Llama 3 (`digits` 3):
/// `(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,digits}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+`.
/// The end of the piece starting at `i` (`i < b.len()`). Unlike tiktoken's cl100k there
/// is no `\s++$`, so white space at the end splits like o200k's.
pub(crate) fn hf_next(b: &[u8], i: usize, digits: usize) -> usize {
    let c = b[i];
    // ASCII letters after an optional ASCII space or punctuation: alternative 2 (the
    // contraction needs `'`, which takes the general path).
    if c < 0x80
        && c != b'\''
        && let Some(e) = ascii_word(b, i)
    {
        return e;
    }
    hf_general(b, i, digits)
}

/// `[^\r\n\p{L}\p{N}]?\p{L}+` where ASCII decides it: an optional ASCII space or
/// punctuation, then an ASCII letter, the run going on through any letter. `b[i]` is
/// ASCII and not `'` (a contraction is tried first elsewhere).
#[inline(always)]
fn ascii_word(b: &[u8], i: usize) -> Option<usize> {
    let j = if matches!(ascii_cat(b[i]), OTHER | SPACE)
        && b.get(i + 1).is_some_and(u8::is_ascii_alphabetic)
    {
        i + 1
    } else {
        i
    };
    if !b[j].is_ascii_alphabetic() {
        return None;
    }
    let mut k = j + 1;
    while k < b.len() && b[k].is_ascii_alphabetic() {
        k += 1;
    }
    Some(if k == b.len() || b[k] < 0x80 {
        k
    } else {
        run(b, k, is_letter)
    })
}

fn hf_general(b: &[u8], i: usize, digits: usize) -> usize {
    letters_general(b, i, digits, true)
}

/// The patterns whose letters are `\p{L}+` (cl100k's and Hugging Face's), at any
/// character: contraction, letters after an optional prefix, up to `digits` digits,
/// punctuation, then white space (`o200k_spaces`: without cl100k's `\s++$`).
fn letters_general(b: &[u8], i: usize, digits: usize, o200k_spaces: bool) -> usize {
    let (c0, l0) = char_at(b, i);
    // 1: (?i:'s|'t|'re|'ve|'m|'ll|'d)
    if let Some(e) = contraction(b, i) {
        return e;
    }
    // 2: [^\r\n\p{L}\p{N}]?\p{L}+ (without the prefix the first character is no letter)
    if is_letter(c0) {
        return run(b, i + l0, is_letter);
    }
    if is_prefix(c0) && i + l0 < b.len() && is_letter(char_at(b, i + l0).0) {
        return run(b, i + l0, is_letter);
    }
    // 3: \p{N}{1,digits}
    if c0 == NUM {
        let mut e = i + l0;
        for _ in 1..digits {
            if e >= b.len() {
                break;
            }
            let (c, l) = char_at(b, e);
            if c != NUM {
                break;
            }
            e += l;
        }
        return e;
    }
    // 4: ` ?[^\s\p{L}\p{N}]+[\r\n]*`
    if b[i] == b' ' && i + 1 < b.len() && is_punct(char_at(b, i + 1).0) {
        return punct_run(b, i + 1, false);
    }
    if is_punct(c0) {
        return punct_run(b, i, false);
    }
    // 5 to 8: (cl100k: \s++$ |) \s*[\r\n]+ | \s+(?!\S) | \s+
    space_piece(b, i, o200k_spaces)
}

/// Iterator over the pieces of `text`.
#[derive(Debug)]
pub(crate) struct Pieces<'a> {
    bytes: &'a [u8],
    pos: usize,
    o200k: bool,
}

impl<'a> Pieces<'a> {
    pub(crate) fn new(text: &'a str, o200k: bool) -> Self {
        Pieces {
            bytes: text.as_bytes(),
            pos: 0,
            o200k,
        }
    }
}

impl<'a> Iterator for Pieces<'a> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        if self.pos >= self.bytes.len() {
            return None;
        }
        let start = self.pos;
        let end = if self.o200k {
            o200k_next(self.bytes, start)
        } else {
            cl100k_next(self.bytes, start)
        };
        self.pos = end;
        Some(&self.bytes[start..end])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(text: &str, o200k: bool) -> Vec<&str> {
        Pieces::new(text, o200k)
            .map(|p| std::str::from_utf8(p).expect("pieces end on char boundaries"))
            .collect()
    }

    #[test]
    fn splits_like_the_o200k_regex() {
        assert_eq!(split("Olá, mundo!", true), ["Olá", ",", " mundo", "!"]);
        assert_eq!(
            split("R$ 4,8 milhões", true),
            ["R", "$", " ", "4", ",", "8", " milhões"]
        );
        assert_eq!(split("  hi", true), [" ", " hi"]);
        assert_eq!(split("a\n\nb  ", true), ["a", "\n\n", "b", "  "]);
        assert_eq!(split("it's HE'LL ſ'ſ", true), ["it's", " HE'LL", " ſ'ſ"]);
        assert_eq!(
            split("HTTPServer 1234567", true),
            ["HTTPServer", " ", "123", "456", "7"]
        );
        assert_eq!(split("!!!\n/x", true), ["!!!\n/", "x"]);
        assert_eq!(split("e\u{301}", true), ["e\u{301}"]);
    }

    #[test]
    fn splits_like_the_cl100k_regex() {
        assert_eq!(split("it's HE'LL", false), ["it", "'s", " HE", "'LL"]);
        assert_eq!(
            split("HTTPServer 1234567", false),
            ["HTTPServer", " ", "123", "456", "7"]
        );
        assert_eq!(split("x \n\n  ", false), ["x", " \n\n  "]);
        assert_eq!(split("x \n\n  y", false), ["x", " \n\n", " ", " y"]);
    }

    fn split_hf(text: &str, digits: usize) -> Vec<&str> {
        let b = text.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            let e = hf_next(b, i, digits);
            out.push(&text[i..e]);
            i = e;
        }
        out
    }

    #[test]
    fn splits_like_the_hugging_face_regexes() {
        assert_eq!(split_hf("it's HE'LL", 1), ["it", "'s", " HE", "'LL"]);
        assert_eq!(
            split_hf("R$ 4,8 milhões", 1),
            ["R", "$", " ", "4", ",", "8", " milhões"]
        );
        assert_eq!(split_hf("1234567", 1), ["1", "2", "3", "4", "5", "6", "7"]);
        assert_eq!(split_hf("1234567", 3), ["123", "456", "7"]);
        // No `\s++$`: a run with a line break at the end splits after the break.
        assert_eq!(split_hf("x \n\n  ", 1), ["x", " \n\n", "  "]);
        assert_eq!(split_hf("x \n\n  y", 1), ["x", " \n\n", " ", " y"]);
        assert_eq!(split_hf("!!!\n/x", 1), ["!!!\n", "/x"]);
        assert_eq!(split_hf("e\u{301}", 1), ["e", "\u{301}"]);
    }
}
