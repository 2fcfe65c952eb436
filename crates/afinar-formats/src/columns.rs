//! Finding the question and answer columns by name, in Portuguese and English.
//!
//! Names are compared folded: accents stripped, case ignored, punctuation as spaces, so
//! `Questão`, `QUESTAO` and `questão:` are one name.

use unicode_normalization::UnicodeNormalization;

use crate::FormatError;

/// Words that name a question column.
const QUESTION_WORDS: &[&str] = &[
    "pergunta",
    "perguntas",
    "questao",
    "questoes",
    "duvida",
    "duvidas",
    "question",
    "questions",
    "prompt",
    "consulta",
    "indagacao",
    "instruction",
    "instrucao",
    "query",
    "pregunta",
];
/// Words that name an answer column.
const ANSWER_WORDS: &[&str] = &[
    "resposta",
    "respostas",
    "answer",
    "answers",
    "completion",
    "response",
    "solucao",
    "solution",
    "orientacao",
    "reply",
    "respuesta",
    "retorno",
];
/// Names that only count when they are the whole header (`Q`, `P`, `input`…).
const QUESTION_EXACT: &[&str] = &["q", "p", "input", "entrada", "user", "usuario", "cliente"];
const ANSWER_EXACT: &[&str] = &["a", "r", "output", "saida", "assistant", "assistente"];

/// Which column holds what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnMap {
    pub question: usize,
    pub answer: usize,
    /// Every other column with a non-empty header; their cells become meta.
    pub meta: Vec<usize>,
}

/// Folds a header for comparison: NFD, combining marks dropped, lowercase, punctuation
/// and runs of whitespace as one space.
pub fn fold(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut space = false;
    for c in name.nfd().filter(|c| !is_combining_mark(*c)) {
        if c.is_alphanumeric() {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.extend(c.to_lowercase());
        } else {
            space = true;
        }
    }
    out
}

fn is_combining_mark(c: char) -> bool {
    matches!(c as u32, 0x0300..=0x036F | 0x1AB0..=0x1AFF | 0x1DC0..=0x1DFF | 0x20D0..=0x20FF | 0xFE20..=0xFE2F)
}

/// How strongly a header names a role: 3 the whole name, 2 its first word, 1 another word.
fn score(header: &str, words: &[&str], exact: &[&str]) -> u8 {
    let folded = fold(header);
    if words.contains(&folded.as_str()) || exact.contains(&folded.as_str()) {
        return 3;
    }
    let mut tokens = folded.split(' ');
    if tokens.next().is_some_and(|t| words.contains(&t)) {
        return 2;
    }
    if tokens.any(|t| words.contains(&t)) {
        1
    } else {
        0
    }
}

/// The longest a question or answer label may be: a header names a column, it does not
/// say a sentence ("As perguntas e respostas estão na aba FAQ…" is prose, not a label).
const LABEL_MAX_CHARS: usize = 80;
const LABEL_MAX_WORDS: usize = 10;
/// The longest any other cell of a header row may be.
const HEADER_CELL_MAX_CHARS: usize = 120;

/// Whether a cell is short enough for a label: one line, a few words.
fn is_short_line(cell: &str) -> bool {
    let cell = cell.trim();
    !cell.is_empty()
        && !cell.contains(['\n', '\r'])
        && cell.chars().count() <= LABEL_MAX_CHARS
        && cell.split_whitespace().count() <= LABEL_MAX_WORDS
}

/// Whether a cell can be a question or answer label: short, and not itself a question or
/// a sentence.
fn is_label(cell: &str) -> bool {
    is_short_line(cell) && !cell.trim().ends_with(['?', '.', '!'])
}

/// The question and answer cells of a header row, if `cells` is one: at least two
/// non-empty cells, all distinct and one line long, with a question label and an answer
/// label in *different* cells (the best-named of each, as [`detect`] picks them).
pub fn header_roles(cells: &[String]) -> Option<(usize, usize)> {
    let filled: Vec<(usize, &str)> = cells
        .iter()
        .enumerate()
        .map(|(i, c)| (i, c.trim()))
        .filter(|(_, c)| !c.is_empty())
        .collect();
    if filled.len() < 2
        || filled
            .iter()
            .any(|(_, c)| c.contains(['\n', '\r']) || c.chars().count() > HEADER_CELL_MAX_CHARS)
    {
        return None;
    }
    let folded: Vec<String> = filled.iter().map(|(_, c)| fold(c)).collect();
    if (1..folded.len()).any(|i| folded[..i].contains(&folded[i])) {
        return None;
    }
    let best = |words: &[&str], exact: &[&str]| -> Vec<usize> {
        let scores: Vec<(usize, u8)> = filled
            .iter()
            .filter(|(_, c)| is_label(c))
            .map(|&(i, c)| (i, score(c, words, exact)))
            .collect();
        let top = scores.iter().map(|(_, s)| *s).max().unwrap_or(0);
        if top == 0 {
            return Vec::new();
        }
        scores
            .into_iter()
            .filter(|(_, s)| *s == top)
            .map(|(i, _)| i)
            .collect()
    };
    let questions = best(QUESTION_WORDS, QUESTION_EXACT);
    let answers = best(ANSWER_WORDS, ANSWER_EXACT);
    questions
        .iter()
        .find_map(|&q| answers.iter().find(|&&a| a != q).map(|&a| (q, a)))
}

/// How clearly a header row names its question and answer columns (2 to 6), or `None`
/// when it is not a header row. A title such as `Perguntas frequentes | Respostas
/// revisadas` above `Pergunta | Resposta` scores lower than the real header.
pub fn header_strength(cells: &[String]) -> Option<u8> {
    header_roles(cells).map(|(q, a)| {
        score(&cells[q], QUESTION_WORDS, QUESTION_EXACT)
            + score(&cells[a], ANSWER_WORDS, ANSWER_EXACT)
    })
}

/// Whether a row looks like a header: see [`header_roles`].
pub fn looks_like_header(cells: &[String]) -> bool {
    header_roles(cells).is_some()
}

/// Whether a row could be a header of some other naming (several short, distinct labels),
/// so an error about its columns names what it holds rather than a title above it.
pub fn looks_like_labels(cells: &[String]) -> bool {
    let filled: Vec<String> = cells
        .iter()
        .map(|c| c.trim())
        .filter(|c| !c.is_empty())
        .map(fold)
        .collect();
    filled.len() >= 2
        && cells
            .iter()
            .filter(|c| !c.trim().is_empty())
            .all(|c| is_short_line(c) && !c.trim().ends_with('?'))
        && (1..filled.len()).all(|i| !filled[..i].contains(&filled[i]))
}

fn pick(
    file: &str,
    headers: &[String],
    wanted: Option<&str>,
    what: &'static str,
    flag: &'static str,
    words: &[&str],
    exact: &[&str],
) -> Result<usize, FormatError> {
    let found = || list(headers);
    if let Some(wanted) = wanted {
        let folded = fold(wanted);
        return headers
            .iter()
            .position(|h| fold(h) == folded)
            .or_else(|| {
                // A 1-based column number also works: `--question 2`.
                wanted
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=headers.len()).contains(n))
                    .map(|n| n - 1)
            })
            .ok_or_else(|| FormatError::UnknownColumn {
                file: file.to_owned(),
                wanted: wanted.to_owned(),
                found: found(),
            });
    }
    let scores: Vec<u8> = headers.iter().map(|h| score(h, words, exact)).collect();
    let best = scores.iter().copied().max().unwrap_or(0);
    if best == 0 {
        return Err(FormatError::NoColumn {
            file: file.to_owned(),
            what,
            flag,
            found: found(),
        });
    }
    let winners: Vec<usize> = (0..headers.len()).filter(|&i| scores[i] == best).collect();
    if winners.len() > 1 {
        let candidates = winners
            .iter()
            .map(|&i| format!("`{}`", headers[i].trim()))
            .collect::<Vec<_>>();
        return Err(FormatError::AmbiguousColumn {
            file: file.to_owned(),
            what,
            flag,
            candidates: candidates.join(", "),
        });
    }
    Ok(winners[0])
}

/// Picks the question and answer columns, by the overrides or by name.
pub fn detect(
    file: &str,
    headers: &[String],
    question: Option<&str>,
    answer: Option<&str>,
) -> Result<ColumnMap, FormatError> {
    let q = pick(
        file,
        headers,
        question,
        "a question",
        "--question",
        QUESTION_WORDS,
        QUESTION_EXACT,
    )?;
    let a = pick(
        file,
        headers,
        answer,
        "an answer",
        "--answer",
        ANSWER_WORDS,
        ANSWER_EXACT,
    )?;
    if q == a {
        return Err(FormatError::SameColumn {
            file: file.to_owned(),
            column: headers[q].clone(),
        });
    }
    let meta = (0..headers.len())
        .filter(|&i| i != q && i != a && !headers[i].trim().is_empty())
        .collect();
    Ok(ColumnMap {
        question: q,
        answer: a,
        meta,
    })
}

/// The header names for a message: at most [`LIST_MAX`] of them, each cut at
/// [`NAME_MAX`] characters with control characters escaped, so a binary file's "header"
/// cannot flood the terminal.
fn list(headers: &[String]) -> String {
    const LIST_MAX: usize = 12;
    const NAME_MAX: usize = 40;
    let named: Vec<&str> = headers
        .iter()
        .map(|h| h.trim())
        .filter(|h| !h.is_empty())
        .collect();
    if named.is_empty() {
        return "no named columns".to_owned();
    }
    let show = |h: &str| {
        let mut s: String = h
            .chars()
            .take(NAME_MAX)
            .flat_map(|c| {
                if c.is_control() {
                    c.escape_default().collect::<Vec<_>>()
                } else {
                    vec![c]
                }
            })
            .collect();
        if h.chars().count() > NAME_MAX {
            s.push('…');
        }
        format!("`{s}`")
    };
    let mut out: Vec<String> = named.iter().take(LIST_MAX).map(|h| show(h)).collect();
    if named.len() > LIST_MAX {
        out.push(format!("and {} more", named.len() - LIST_MAX));
    }
    out.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn long_or_binary_headers_are_cut_for_messages() {
        let mut headers: Vec<String> = (0..15).map(|i| format!("c{i}")).collect();
        headers[0] = format!("\u{1}\u{7f}{}", "x".repeat(60));
        let text = list(&headers);
        assert!(
            text.starts_with(&format!("`\\u{{1}}\\u{{7f}}{}…`, `c1`", "x".repeat(38))),
            "{text}"
        );
        assert!(text.ends_with("`c11`, and 3 more"), "{text}");
    }

    #[test]
    fn folds_accents_case_and_punctuation() {
        assert_eq!(fold(" Questão: "), "questao");
        assert_eq!(fold("DÚVIDA_do  Cliente"), "duvida do cliente");
    }

    #[test]
    fn detects_portuguese_and_english_names() {
        let m = detect(
            "f",
            &h(&["Tema", "Pergunta", "Resposta", "Revisado em"]),
            None,
            None,
        )
        .unwrap();
        assert_eq!((m.question, m.answer, m.meta), (1, 2, vec![0, 3]));
        let m = detect("f", &h(&["QUESTÃO", "Resposta oficial"]), None, None).unwrap();
        assert_eq!((m.question, m.answer), (0, 1));
        let m = detect("f", &h(&["Dúvida do cliente", "Orientação"]), None, None).unwrap();
        assert_eq!((m.question, m.answer), (0, 1));
        let m = detect("f", &h(&["prompt", "completion"]), None, None).unwrap();
        assert_eq!((m.question, m.answer), (0, 1));
        let m = detect("f", &h(&["Q", "A", "id"]), None, None).unwrap();
        assert_eq!((m.question, m.answer, m.meta), (0, 1, vec![2]));
    }

    #[test]
    fn whole_name_beats_a_word_in_it() {
        let m = detect(
            "f",
            &h(&["Pergunta", "Perguntas relacionadas", "Resposta"]),
            None,
            None,
        )
        .unwrap();
        assert_eq!(m.question, 0);
        let m = detect(
            "f",
            &h(&["Resposta da pergunta", "Pergunta do cliente"]),
            None,
            None,
        )
        .unwrap();
        assert_eq!((m.question, m.answer), (1, 0));
    }

    #[test]
    fn overrides_by_name_or_number() {
        let headers = h(&["Assunto", "Texto", "Solução"]);
        let m = detect("f", &headers, Some("assunto"), None).unwrap();
        assert_eq!((m.question, m.answer), (0, 2));
        let m = detect("f", &headers, Some("1"), Some("2")).unwrap();
        assert_eq!((m.question, m.answer), (0, 1));
        let err = detect("faq.csv", &headers, Some("Pergunta"), None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`faq.csv` has no column `Pergunta`; found `Assunto`, `Texto`, `Solução`"
        );
    }

    #[test]
    fn explains_missing_and_ambiguous_columns() {
        let err = detect("faq.csv", &h(&["Assunto", "Resposta"]), None, None).unwrap_err();
        assert_eq!(
            err.to_string(),
            "`faq.csv` has no column that looks like a question; found `Assunto`, `Resposta`; pass --question COLUMN"
        );
        let err = detect(
            "faq.csv",
            &h(&["Pergunta", "Question", "Answer"]),
            None,
            None,
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("several columns that look like a question (`Pergunta`, `Question`)")
        );
    }

    #[test]
    fn header_rows_are_recognised() {
        assert!(looks_like_header(&h(&["", "Pergunta", "Resposta"])));
        assert!(!looks_like_header(&h(&[
            "FAQ Simples Nacional 2026",
            "",
            ""
        ])));
        assert!(!looks_like_header(&h(&[
            "O que é o DAS?",
            "É a guia de pagamento."
        ])));
    }

    #[test]
    fn prose_naming_questions_and_answers_is_not_a_header() {
        // One cell that names both: the readme sentence of a workbook's first sheet.
        let readme = "As perguntas e respostas estão na aba FAQ; as antigas, na aba Arquivo.";
        assert_eq!(header_roles(&h(&[readme])), None);
        assert_eq!(header_roles(&h(&[readme, "", "Atualizado em 2026"])), None);
        // Two cells, but one label names both roles and the other neither.
        assert_eq!(header_roles(&h(&["Perguntas e respostas", "Tema"])), None);
        // A data row whose cells happen to hold the words.
        assert_eq!(
            header_roles(&h(&[
                "Qual pergunta devo fazer ao contador?",
                "A resposta depende do regime tributário da empresa, do faturamento e do anexo."
            ])),
            None
        );
        // The same label twice, or a cell over one line, is not a header either.
        assert_eq!(
            header_roles(&h(&["Pergunta", "Resposta", "pergunta"])),
            None
        );
        assert_eq!(header_roles(&h(&["Pergunta", "Resposta\nrevisada"])), None);
        assert_eq!(header_roles(&h(&["Pergunta"])), None);
    }

    #[test]
    fn header_roles_are_the_columns_detect_picks() {
        let cells = h(&["Perguntas e respostas", "Resposta", "Tema"]);
        let (q, a) = header_roles(&cells).unwrap();
        let m = detect("f", &cells, None, None).unwrap();
        assert_eq!((q, a), (m.question, m.answer));
        assert_eq!((q, a), (0, 1));
        assert_eq!(
            header_roles(&h(&["Tema", "Dúvida", "Orientação", "Obs."])),
            Some((1, 2))
        );
        assert!(
            header_strength(&h(&["Perguntas frequentes", "Respostas revisadas"]))
                < header_strength(&h(&["Pergunta", "Resposta"]))
        );
        assert!(looks_like_labels(&h(&["Assunto", "Texto", ""])));
        assert!(!looks_like_labels(&h(&[
            "FAQ do escritório, versão de março.",
            ""
        ])));
    }
}
