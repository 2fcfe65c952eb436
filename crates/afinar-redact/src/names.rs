//! Names from a user-supplied list, matched as whole words ignoring case and accents.

use std::ops::Range;

use regex::{Regex, RegexBuilder};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

use crate::{Kind, RedactError};

/// A compiled list of names (`Maria da Silva`, `José`): `JOSE` and `josé` match `José`,
/// `Josefa` does not.
#[derive(Debug, Clone)]
pub struct NameList {
    regex: Option<Regex>,
    count: usize,
}

/// Words that are the placeholders themselves; listing them would make masking loop.
const RESERVED: [&str; 5] = ["cpf", "cnpj", "email", "telefone", "nome"];

impl NameList {
    /// One name per line; blank lines and lines starting with `#` are ignored.
    pub fn parse(text: &str) -> Result<Self, RedactError> {
        Self::from_names(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#')),
        )
    }

    pub fn from_names<I, S>(names: I) -> Result<Self, RedactError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut folded: Vec<String> = names
            .into_iter()
            .map(|n| {
                fold(n.as_ref())
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .filter(|n| n.chars().count() >= 2 && !RESERVED.contains(&n.as_str()))
            .collect();
        // Longest first, so `Maria da Silva` wins over `Maria` at the same place.
        folded.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        folded.dedup();
        let count = folded.len();
        if count == 0 {
            return Ok(Self { regex: None, count });
        }
        let alternation: Vec<String> = folded
            .iter()
            .map(|n| regex::escape(n).replace(' ', r"\s+"))
            .collect();
        let pattern = format!(r"\b(?:{})\b", alternation.join("|"));
        let regex = RegexBuilder::new(&pattern)
            .size_limit(256 << 20)
            .dfa_size_limit(64 << 20)
            .build()
            .map_err(|source| RedactError::NameList { count, source })?;
        Ok(Self {
            regex: Some(regex),
            count,
        })
    }

    pub fn len(&self) -> usize {
        self.count
    }

    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub(crate) fn find(&self, text: &str, out: &mut Vec<(Kind, Range<usize>)>) {
        let Some(regex) = &self.regex else { return };
        let (folded, starts, ends) = fold_with_map(text);
        for m in regex.find_iter(&folded) {
            if m.is_empty() {
                continue;
            }
            let mut end = ends[m.end() - 1];
            // A decomposed accent after the last letter belongs to the name.
            for c in text[end..].chars().take_while(|c| is_combining_mark(*c)) {
                end += c.len_utf8();
            }
            out.push((Kind::Name, starts[m.start()]..end));
        }
    }
}

/// Lower case without accents: `José Conceição` → `jose conceicao`.
pub fn fold(text: &str) -> String {
    text.nfd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// The folded text, and for each of its bytes the start and end of the original character
/// it came from.
fn fold_with_map(text: &str) -> (String, Vec<usize>, Vec<usize>) {
    let mut folded = String::with_capacity(text.len());
    let mut starts = Vec::with_capacity(text.len());
    let mut ends = Vec::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        let end = i + c.len_utf8();
        for d in std::iter::once(c).nfd().filter(|c| !is_combining_mark(*c)) {
            for l in d.to_lowercase() {
                folded.push(l);
                for _ in 0..l.len_utf8() {
                    starts.push(i);
                    ends.push(end);
                }
            }
        }
    }
    (folded, starts, ends)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(list: &NameList, text: &str) -> Vec<String> {
        let mut out = Vec::new();
        list.find(text, &mut out);
        out.into_iter().map(|(_, r)| text[r].to_owned()).collect()
    }

    #[test]
    fn case_and_accent_insensitive_whole_words() {
        let list = NameList::parse("# clientes\nJosé\n\nMaria da Silva\nMaria\n  ").unwrap();
        assert_eq!(list.len(), 3);
        assert_eq!(
            found(
                &list,
                "JOSE ligou; josé e José. Josefa não. MARIA DA SILVA e Maria  da\nSilva, Mariana"
            ),
            ["JOSE", "josé", "José", "MARIA DA SILVA", "Maria  da\nSilva"]
        );
    }

    #[test]
    fn decomposed_accents_map_back_to_the_original_bytes() {
        let list = NameList::parse("Conceição").unwrap();
        let text = "Sra. Conceic\u{327}a\u{303}o, bom dia";
        assert_eq!(found(&list, text), ["Conceic\u{327}a\u{303}o"]);
        let list = NameList::parse("José").unwrap();
        assert_eq!(found(&list, "Jose\u{301}!"), ["Jose\u{301}"]);
    }

    #[test]
    fn placeholder_words_and_single_letters_are_ignored() {
        let list = NameList::parse("CPF\nNome\nA").unwrap();
        assert!(list.is_empty());
        assert!(found(&list, "CPF Nome A").is_empty());
    }
}
