//! Legacy prompt/completion markers.
//!
//! Files made for the old completion models end every prompt with a fixed separator
//! (`\n\n###\n\n`, ` ->`) and every completion with a stop sequence (` END`, `\n`), and
//! start every completion with a space, as OpenAI's guide for those models asked. In chat
//! data they are noise the model would learn to say, so they are found (shared by most
//! lines of a file) and removed, and the summary says so.

/// The share of a file's rows that must carry the same marker for it to count as one.
pub const MARKER_SHARE: f64 = 0.9;

/// Separators a prompt may end with, besides whitespace alone.
const PROMPT_CORES: &[&str] = &["###", "-->", "->", "=>", "==>"];
/// Stop sequences a completion may end with, besides whitespace alone.
const STOP_CORES: &[&str] = &["END", "###", "<|endoftext|>", "</s>"];

/// One marker found: the text, and how many of the rows looked at end (or start) with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Marker {
    pub text: String,
    pub rows: usize,
}

/// The markers shared by a file's prompt/completion rows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Markers {
    /// The rows looked at.
    pub rows: usize,
    /// What every prompt ends with (the separator).
    pub prompt_suffix: Option<Marker>,
    /// Whitespace every completion starts with.
    pub completion_prefix: Option<Marker>,
    /// What every completion ends with (the stop sequence).
    pub completion_suffix: Option<Marker>,
}

impl Markers {
    pub fn is_empty(&self) -> bool {
        self.prompt_suffix.is_none()
            && self.completion_prefix.is_none()
            && self.completion_suffix.is_none()
    }

    /// `prompts end with `\n\n###\n\n` (10 of 10 rows), completions with ` END` (9 of 10)`:
    /// markers shown with `\n` and `\t` escaped, so whitespace is visible.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        let shown =
            |m: &Marker| format!("`{}` ({} of {} rows)", escape(&m.text), m.rows, self.rows);
        if let Some(m) = &self.prompt_suffix {
            parts.push(format!("prompts end with {}", shown(m)));
        }
        if let Some(m) = &self.completion_prefix {
            parts.push(format!("completions start with {}", shown(m)));
        }
        if let Some(m) = &self.completion_suffix {
            parts.push(format!("completions end with {}", shown(m)));
        }
        parts.join(", ")
    }
}

/// `\n` as `\n`, so a marker made of whitespace can be read in a message.
pub fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('\n', "\\n")
        .replace('\r', "\\r")
        .replace('\t', "\\t")
}

/// Finds the separator, completion prefix and stop sequence shared by at least
/// [`MARKER_SHARE`] of `rows` (raw prompt and completion text, before normalisation).
///
/// A marker is one of the known legacy tokens (`###`, `->`, `END`…) with the whitespace
/// around it, or a run of whitespace alone; the most common one counts, and only if that
/// many rows share it exactly. Ordinary endings (`?`, `.`) are never markers. At least two
/// rows are needed: one row says nothing about a file's convention.
pub fn detect_markers<'a, I>(rows: I) -> Markers
where
    I: IntoIterator<Item = (&'a str, &'a str)>,
{
    let mut prompts = Tally::default();
    let mut prefixes = Tally::default();
    let mut stops = Tally::default();
    let mut n = 0;
    for (prompt, completion) in rows {
        n += 1;
        prompts.add(ending(prompt, PROMPT_CORES));
        prefixes.add(leading_space(completion));
        stops.add(ending(completion, STOP_CORES));
    }
    Markers {
        rows: n,
        prompt_suffix: prompts.shared(n),
        completion_prefix: prefixes.shared(n),
        completion_suffix: stops.shared(n),
    }
}

/// Removes `marker` from the end of `text` when it is there.
pub fn strip_end<'a>(text: &'a str, marker: Option<&Marker>) -> &'a str {
    marker
        .and_then(|m| text.strip_suffix(m.text.as_str()))
        .unwrap_or(text)
}

/// Removes `marker` from the start of `text` when it is there.
pub fn strip_start<'a>(text: &'a str, marker: Option<&Marker>) -> &'a str {
    marker
        .and_then(|m| text.strip_prefix(m.text.as_str()))
        .unwrap_or(text)
}

/// Counts of candidate markers, in first-seen order so ties break the same way each run.
#[derive(Default)]
struct Tally(Vec<(String, usize)>);

impl Tally {
    fn add(&mut self, marker: Option<&str>) {
        let Some(m) = marker else { return };
        match self.0.iter_mut().find(|(t, _)| t == m) {
            Some((_, c)) => *c += 1,
            None => self.0.push((m.to_owned(), 1)),
        }
    }

    fn shared(self, rows: usize) -> Option<Marker> {
        if rows < 2 {
            return None;
        }
        let (text, count) = self
            .0
            .into_iter()
            .fold(None::<(String, usize)>, |best, (t, c)| match best {
                Some((_, bc)) if bc >= c => best,
                _ => Some((t, c)),
            })?;
        (count as f64 >= MARKER_SHARE * rows as f64).then_some(Marker { text, rows: count })
    }
}

/// The marker `text` ends with: trailing whitespace, and before it one of `cores` with
/// the whitespace before that; or the trailing whitespace alone. A core must stand apart
/// (`FIM END` has one, `WEEKEND` not), unless it is all the text there is besides it.
fn ending<'a>(text: &'a str, cores: &[&str]) -> Option<&'a str> {
    let body = text.trim_end_matches(char::is_whitespace);
    let core = cores
        .iter()
        .filter(|c| body.ends_with(**c))
        .max_by_key(|c| c.len());
    let start = match core {
        Some(core) => {
            let before = &body[..body.len() - core.len()];
            let kept = before.trim_end_matches(char::is_whitespace);
            let word_like = core.chars().all(char::is_alphanumeric);
            if word_like && kept.len() == before.len() && !kept.is_empty() {
                body.len()
            } else {
                kept.len()
            }
        }
        None => body.len(),
    };
    (start < text.len()).then(|| &text[start..])
}

/// The whitespace `text` starts with, if any (but not all of it).
fn leading_space(text: &str) -> Option<&str> {
    let rest = text.trim_start_matches(char::is_whitespace);
    let len = text.len() - rest.len();
    (len > 0 && !rest.is_empty()).then(|| &text[..len])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(m: &Markers) -> (Option<&str>, Option<&str>, Option<&str>) {
        (
            m.prompt_suffix.as_ref().map(|m| m.text.as_str()),
            m.completion_prefix.as_ref().map(|m| m.text.as_str()),
            m.completion_suffix.as_ref().map(|m| m.text.as_str()),
        )
    }

    #[test]
    fn openai_legacy_separator_and_stop_are_found() {
        let rows = [
            ("Qual o prazo do DAS?\n\n###\n\n", " Dia 20. END"),
            (
                "MEI paga INSS?\n\n###\n\n",
                " Sim, 5% do salário mínimo. END",
            ),
            (
                "O que é CNAE?\n\n###\n\n",
                " A classificação de atividades. END",
            ),
        ];
        let m = detect_markers(rows);
        assert_eq!(texts(&m), (Some("\n\n###\n\n"), Some(" "), Some(" END")));
        assert_eq!(m.rows, 3);
        assert_eq!(
            m.describe(),
            "prompts end with `\\n\\n###\\n\\n` (3 of 3 rows), completions start with ` ` (3 of 3 rows), completions end with ` END` (3 of 3 rows)"
        );
    }

    #[test]
    fn arrow_and_newline_markers() {
        let rows = [("Pergunta 1 ->", " R1\n"), ("Pergunta 2 ->", " R2\n")];
        assert_eq!(
            texts(&detect_markers(rows)),
            (Some(" ->"), Some(" "), Some("\n"))
        );
    }

    #[test]
    fn ninety_percent_of_rows_is_enough_and_less_is_not() {
        let mut rows: Vec<(String, String)> = (0..9)
            .map(|i| (format!("P{i}\n\n###\n\n"), format!(" R{i} END")))
            .collect();
        rows.push(("P sem separador".into(), "R sem marcador".into()));
        let m = detect_markers(rows.iter().map(|(p, c)| (p.as_str(), c.as_str())));
        assert_eq!(m.prompt_suffix.as_ref().unwrap().rows, 9);
        assert_eq!(m.completion_suffix.as_ref().unwrap().text, " END");
        rows.push(("Outro sem".into(), "Outra sem".into()));
        let m = detect_markers(rows.iter().map(|(p, c)| (p.as_str(), c.as_str())));
        assert!(m.is_empty(), "{m:?}");
    }

    #[test]
    fn ordinary_text_has_no_markers() {
        let rows = [
            ("Qual o prazo do DAS?", "Dia 20."),
            ("O que é o WEEKEND?", "Fim de semana. THE END"),
            ("Quem paga?", "O contribuinte."),
        ];
        assert!(detect_markers(rows).is_empty());
        // A word that merely ends in a stop core is not one.
        let rows = [("a", "WEEKEND"), ("b", "LEGEND")];
        assert!(detect_markers(rows).is_empty());
        // One row says nothing about a convention.
        assert!(detect_markers([("P ->", " R END")]).is_empty());
    }

    #[test]
    fn stripping_removes_only_what_is_there() {
        let m = Marker {
            text: " END".into(),
            rows: 2,
        };
        assert_eq!(strip_end("Resposta END", Some(&m)), "Resposta");
        assert_eq!(strip_end("Resposta", Some(&m)), "Resposta");
        assert_eq!(strip_end("Resposta END", None), "Resposta END");
        let sp = Marker {
            text: " ".into(),
            rows: 2,
        };
        assert_eq!(strip_start(" Resposta", Some(&sp)), "Resposta");
    }
}
