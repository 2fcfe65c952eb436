//! The checkable facts of a Portuguese answer: money, percentages, dates, legal
//! references (laws, articles, paragraphs, incisos, annexes) and other numbers, each
//! reduced to a canonical value so that formatting and order do not matter:
//! `R$ 4.800.000,00` = `R$ 4,8 milhões` = `4,8 milhões de reais`; `15,5%` = `15.5 %` =
//! `15,5 por cento`; `01/07/2026` = `1º de julho de 2026` = `2026-07-01`;
//! `Lei Complementar nº 123, de 14 de dezembro de 2006` = `LC 123/2006`; `Anexo III` =
//! `anexo 3`.
//!
//! [`check`] scores an answer by the share of the reference's distinct facts it states
//! with the same value. Extraction runs the most specific patterns first (laws, which
//! contain numbers and dates; then articles, dates, money, percentages) and blanks what
//! each found, so the `123` of `LC 123/2006` is not also a bare number.
//!
//! Numbers follow Brazilian usage: `.` groups thousands when every group after the first
//! has three digits (`4.800` is 4800), `,` is the decimal mark (`4,8`); `15.5` (English)
//! still reads as 15.5 and `1,234,567.89` as English thousands. Written-out numbers
//! (`doze meses`) are not read.

use std::sync::LazyLock;

use regex::{Captures, Regex};
use serde::Serialize;

/// What a fact is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Money,
    Percent,
    Date,
    Law,
    Article,
    Paragraph,
    Inciso,
    Annex,
    Number,
}

/// One fact found in a text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Fact {
    pub kind: Kind,
    /// The canonical value: `brl 4800000`, `15.5`, `2026-07-01` (`????` / `??` for a part
    /// not stated), `lc 123/2006`, `art. 18-a`, `§ 1`, `inciso ii`, `anexo 3`, `4.8`.
    pub value: String,
    /// As written.
    pub text: String,
    /// Byte range in the text.
    pub start: usize,
    pub end: usize,
}

impl Fact {
    /// Whether `answer` states this fact with the same value. Besides equal values: a
    /// date matches one that states at least its parts; an amount of money matches the
    /// same bare number and the other way round (the currency is rarely the point); a
    /// bare year matches a date in that year.
    pub fn stated_by(&self, answer: &Fact) -> bool {
        if self.kind == answer.kind && self.value == answer.value {
            return true;
        }
        match (self.kind, answer.kind) {
            (Kind::Date, Kind::Date) => {
                let (r, a) = (date_parts(&self.value), date_parts(&answer.value));
                r.iter().zip(a.iter()).all(|(r, a)| *r == "?" || r == a)
            }
            (Kind::Money, Kind::Number) => money_amount(&self.value) == answer.value,
            (Kind::Number, Kind::Money) => money_amount(&answer.value) == self.value,
            (Kind::Number, Kind::Date) => {
                is_year(&self.value) && date_parts(&answer.value)[0] == self.value
            }
            _ => false,
        }
    }
}

fn money_amount(value: &str) -> &str {
    value.split_once(' ').map_or(value, |(_, amount)| amount)
}

fn is_year(value: &str) -> bool {
    value.len() == 4
        && value
            .parse::<u32>()
            .is_ok_and(|y| (1900..=2100).contains(&y))
}

/// `[year, month, day]` with `?` for a missing part.
fn date_parts(value: &str) -> [&str; 3] {
    let mut it = value
        .split('-')
        .map(|p| if p.starts_with('?') { "?" } else { p });
    [
        it.next().unwrap_or("?"),
        it.next().unwrap_or("?"),
        it.next().unwrap_or("?"),
    ]
}

/// How an answer did on a reference's facts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FactCheck {
    /// Share of the reference's distinct facts the answer states; `None` when the
    /// reference has none (the example then does not count towards the mean).
    pub score: Option<f64>,
    /// Every fact occurrence in the reference, in text order.
    pub reference: Vec<Fact>,
    /// For each of `reference`, whether the answer states it.
    pub stated: Vec<bool>,
}

impl FactCheck {
    /// The reference's facts the answer misses (distinct, in text order).
    pub fn missing(&self) -> Vec<&Fact> {
        let mut out: Vec<&Fact> = Vec::new();
        for (fact, &ok) in self.reference.iter().zip(&self.stated) {
            if !ok
                && !out
                    .iter()
                    .any(|f| f.kind == fact.kind && f.value == fact.value)
            {
                out.push(fact);
            }
        }
        out
    }
}

/// Scores `answer` on the facts of `reference`.
pub fn check(answer: &str, reference: &str) -> FactCheck {
    let reference_facts = extract(reference);
    let answer_facts = extract(answer);
    let stated: Vec<bool> = reference_facts
        .iter()
        .map(|r| answer_facts.iter().any(|a| r.stated_by(a)))
        .collect();
    let mut distinct: Vec<(&Fact, bool)> = Vec::new();
    for (fact, &ok) in reference_facts.iter().zip(&stated) {
        if !distinct
            .iter()
            .any(|(f, _)| f.kind == fact.kind && f.value == fact.value)
        {
            distinct.push((fact, ok));
        }
    }
    let score = (!distinct.is_empty())
        .then(|| distinct.iter().filter(|(_, ok)| *ok).count() as f64 / distinct.len() as f64);
    FactCheck {
        score,
        reference: reference_facts,
        stated,
    }
}

// Patterns. `NUM` is any run of digits with `.` and `,` inside; `number` decides what it
// means.
const NUM: &str = r"[0-9](?:[0-9.,]*[0-9])?";
const SCALE: &str = r"milh(?:ões|oes|ão|ao)|bilh(?:ões|oes|ão|ao)|trilh(?:ões|oes|ão|ao)|mil";
const MONTHS: &str = "janeiro|fevereiro|março|marco|abril|maio|junho|julho|agosto|setembro|outubro|novembro|dezembro";

fn re(pattern: &str) -> Regex {
    // The patterns are constants; a bad one is a bug caught by every test.
    #[allow(clippy::unwrap_used)]
    Regex::new(pattern).unwrap()
}

static LAW: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?:(?i:\b(lei\s+complementar|decreto-lei|decreto|lei|instru[çc][ãa]o\s+normativa|resolu[çc][ãa]o|medida\s+provis[óo]ria|emenda\s+constitucional|portaria))|\b(LC|DL|IN|MP|EC)\b)(?i:\s+(?:rfb|srf|cgsn|pgfn|cosit|cfc|mf))?(?i:\s*(?:n\.?\s*[º°o]\.?|nº|número))?\s*([0-9]{{1,3}}(?:\.[0-9]{{3}})+|[0-9]+)(?i:\s*/\s*([0-9]{{4}}|[0-9]{{2}})\b|,?\s+de\s+[0-9]{{1,2}}[º°]?\s+de\s+(?:{MONTHS})\s+de\s+([0-9]{{4}})|,?\s+de\s+([0-9]{{4}})\b)?"
    ))
});
static ARTICLE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)\b(?:arts?\.|artigos?)\s*([0-9]+\s*[º°]?(?:-[a-z]\b)?(?:\s*(?:,|\be\b)\s*[0-9]+\s*[º°]?(?:-[a-z]\b)?)*)",
    )
});
static PARAGRAPH: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?:§§?|\bpar[áa]grafos?)\s*([0-9]+\s*[º°]?(?:\s*(?:,|\be\b)\s*[0-9]+\s*[º°]?)*|[úu]nico\b)|\bpar[áa]grafo\s+([úu]nico)\b",
    )
});
static INCISO: LazyLock<Regex> =
    LazyLock::new(|| re(r"(?i:\bincisos?)\s+([IVXLC]+(?:\s*(?:,|\be\b)\s*[IVXLC]+)*)\b"));
static ANNEX: LazyLock<Regex> = LazyLock::new(|| re(r"(?i:\banexos?)\s+([IVX]+|[0-9]+)\b"));
static DATE_NUMERIC: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"([0-9]{4})-([0-9]{2})-([0-9]{2})|([0-9]{1,2})[º°]?/([0-9]{1,2})/([0-9]{4}|[0-9]{2})|([0-9]{1,2})[.-]([0-9]{1,2})[.-]([0-9]{4})",
    )
});
static DATE_WORDS: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)(?:([0-9]{{1,2}})\s*[º°o]?|\b(primeiro))\s+de\s+({MONTHS})\b(?:\s+de\s+([0-9]{{4}}))?|\b({MONTHS})\s*(?:de\s+|/\s*)([0-9]{{4}})"
    ))
});
static DATE_SHORT: LazyLock<Regex> =
    LazyLock::new(|| re(r"([0-9]{1,2})/([0-9]{4})\b|([0-9]{1,2})/([0-9]{1,2})"));
static MONEY: LazyLock<Regex> = LazyLock::new(|| {
    re(&format!(
        r"(?i)(R\$|US\$|€)\s*({NUM})(?:\s*({SCALE}|mi|bi)\b)?|({NUM})(?:\s*({SCALE})\b)?\s+(?:de\s+)?(reais|real|d[óo]lares|euros)\b"
    ))
});
static PERCENT: LazyLock<Regex> =
    LazyLock::new(|| re(&format!(r"(?i)({NUM})\s*(?:%|por\s*cento\b)")));
static NUMBER: LazyLock<Regex> = LazyLock::new(|| re(&format!(r"(?i)({NUM})(?:\s*({SCALE})\b)?")));

/// Every fact in `text`, in text order.
pub fn extract(text: &str) -> Vec<Fact> {
    let mut work = text.to_owned();
    let mut facts = Vec::new();
    scan(&mut work, text, &LAW, &mut facts, law);
    scan(&mut work, text, &ARTICLE, &mut facts, |c| {
        list(c.get(1).map_or("", |m| m.as_str()))
            .into_iter()
            .map(|n| (Kind::Article, format!("art. {n}")))
            .collect()
    });
    scan(&mut work, text, &PARAGRAPH, &mut facts, |c| {
        let items = c.get(1).or_else(|| c.get(2)).map_or("", |m| m.as_str());
        if items.to_lowercase().ends_with("nico") {
            return vec![(Kind::Paragraph, "§ único".to_owned())];
        }
        list(items)
            .into_iter()
            .map(|n| (Kind::Paragraph, format!("§ {n}")))
            .collect()
    });
    scan(&mut work, text, &INCISO, &mut facts, |c| {
        list(c.get(1).map_or("", |m| m.as_str()))
            .into_iter()
            .filter(|r| roman(r).is_some())
            .map(|r| (Kind::Inciso, format!("inciso {r}")))
            .collect()
    });
    scan(&mut work, text, &ANNEX, &mut facts, |c| {
        let n = c.get(1).map_or("", |m| m.as_str());
        let n = n.parse::<u32>().ok().or_else(|| roman(&n.to_lowercase()));
        n.map(|n| vec![(Kind::Annex, format!("anexo {n}"))])
            .unwrap_or_default()
    });
    scan(&mut work, text, &DATE_NUMERIC, &mut facts, |c| {
        let g = |i: usize| c.get(i).map(|m| m.as_str());
        let (y, m, d) = if let Some(y) = g(1) {
            (g(1).map(|_| y), g(2), g(3))
        } else if g(4).is_some() {
            (g(6), g(5), g(4))
        } else {
            (g(9), g(8), g(7))
        };
        date(y, m, d).into_iter().collect()
    });
    scan(&mut work, text, &DATE_WORDS, &mut facts, |c| {
        let g = |i: usize| c.get(i).map(|m| m.as_str());
        if let Some(month) = g(5) {
            return date(g(6), month_number(month).as_deref(), None)
                .into_iter()
                .collect();
        }
        let day = g(1).or(g(2).map(|_| "1"));
        date(g(4), month_number(g(3).unwrap_or("")).as_deref(), day)
            .into_iter()
            .collect()
    });
    scan(&mut work, text, &DATE_SHORT, &mut facts, |c| {
        let g = |i: usize| c.get(i).map(|m| m.as_str());
        if g(1).is_some() {
            date(g(2), g(1), None).into_iter().collect()
        } else {
            date(None, g(4), g(3)).into_iter().collect()
        }
    });
    scan(&mut work, text, &MONEY, &mut facts, |c| {
        let g = |i: usize| c.get(i).map(|m| m.as_str());
        let (currency, amount, scale) = if let Some(symbol) = g(1) {
            let currency = match symbol {
                "R$" | "r$" => "brl",
                "€" => "eur",
                _ => "usd",
            };
            (currency, g(2), g(3))
        } else {
            let word = g(6).unwrap_or("").to_lowercase();
            let currency = if word.starts_with("real") || word.starts_with("reais") {
                "brl"
            } else if word.starts_with("euro") {
                "eur"
            } else {
                "usd"
            };
            (currency, g(4), g(5))
        };
        number(amount.unwrap_or(""))
            .map(|n| vec![(Kind::Money, format!("{currency} {}", n.scaled(scale)))])
            .unwrap_or_default()
    });
    scan(&mut work, text, &PERCENT, &mut facts, |c| {
        number(c.get(1).map_or("", |m| m.as_str()))
            .map(|n| vec![(Kind::Percent, n.to_string())])
            .unwrap_or_default()
    });
    scan(&mut work, text, &NUMBER, &mut facts, |c| {
        let token = c.get(1).map_or("", |m| m.as_str());
        let scale = c.get(2).map(|m| m.as_str());
        match number(token) {
            Some(n) => vec![(Kind::Number, n.scaled(scale).to_string())],
            // A list such as `1,2,3`: each part on its own.
            None => token
                .split(['.', ','])
                .filter_map(number)
                .map(|n| (Kind::Number, n.to_string()))
                .collect(),
        }
    });
    facts.sort_by_key(|f| (f.start, f.end));
    facts
}

/// Runs `pattern` over `work` (the text with earlier finds blanked); each match that
/// stands on its own (not glued to a letter or digit before, nor to a digit after) and
/// yields values becomes facts, and is blanked.
fn scan(
    work: &mut String,
    original: &str,
    pattern: &Regex,
    facts: &mut Vec<Fact>,
    values: impl Fn(&Captures) -> Vec<(Kind, String)>,
) {
    let mut found: Vec<(usize, usize)> = Vec::new();
    for c in pattern.captures_iter(work) {
        let Some(m) = c.get(0) else { continue };
        let before = work[..m.start()].chars().next_back();
        let first = m.as_str().chars().next();
        let after = work[m.end()..].chars().next();
        let last = m.as_str().chars().next_back();
        if first.is_some_and(char::is_alphanumeric) && before.is_some_and(char::is_alphanumeric) {
            continue;
        }
        if last.is_some_and(|c| c.is_ascii_digit()) && after.is_some_and(|c| c.is_ascii_digit()) {
            continue;
        }
        // `1.234.` at the end of a sentence is fine; `1.234.5` is one longer token.
        if after == Some('.') || after == Some(',') {
            let next = work[m.end() + 1..].chars().next();
            if last.is_some_and(|c| c.is_ascii_digit()) && next.is_some_and(|c| c.is_ascii_digit())
            {
                continue;
            }
        }
        let vals = values(&c);
        if vals.is_empty() {
            continue;
        }
        for (kind, value) in vals {
            facts.push(Fact {
                kind,
                value,
                text: original[m.start()..m.end()].to_owned(),
                start: m.start(),
                end: m.end(),
            });
        }
        found.push((m.start(), m.end()));
    }
    if found.is_empty() {
        return;
    }
    // Blank with spaces byte for byte, so offsets into `original` stay valid.
    let mut bytes = std::mem::take(work).into_bytes();
    for (s, e) in found {
        bytes[s..e].fill(b' ');
    }
    *work = String::from_utf8(bytes).unwrap_or_default();
}

fn law(c: &Captures) -> Vec<(Kind, String)> {
    let g = |i: usize| c.get(i).map(|m| m.as_str());
    let name = g(1).or(g(2)).unwrap_or("").to_lowercase();
    let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
    let kind = match name.as_str() {
        "lei complementar" | "lc" => "lc",
        "decreto-lei" | "dl" => "decreto-lei",
        "decreto" => "decreto",
        "lei" => "lei",
        "mp" => "mp",
        "ec" => "ec",
        "in" => "in",
        n if n.starts_with("instru") => "in",
        n if n.starts_with("resolu") => "resolução",
        n if n.starts_with("medida") => "mp",
        n if n.starts_with("emenda") => "ec",
        _ => "portaria",
    };
    let number = g(3).unwrap_or("").replace('.', "");
    let number = number.trim_start_matches('0');
    let year = g(4).or(g(5)).or(g(6)).map(|y| full_year(y, 50));
    let value = match year {
        Some(y) => format!("{kind} {number}/{y}"),
        None => format!("{kind} {number}"),
    };
    vec![(Kind::Law, value)]
}

/// Two-digit years: `96` is 1996 and `06` is 2006 (laws are cited like that); `pivot`
/// is the first two-digit year read as 19xx.
fn full_year(y: &str, pivot: u32) -> String {
    match (y.len(), y.parse::<u32>()) {
        (2, Ok(n)) if n >= pivot => format!("19{y}"),
        (2, Ok(_)) => format!("20{y}"),
        _ => y.to_owned(),
    }
}

/// `17, 18 e 19-A` → `["17", "18", "19-a"]`; ordinal marks dropped, lower case.
fn list(items: &str) -> Vec<String> {
    items
        .to_lowercase()
        .replace(" e ", ",")
        .split(',')
        .map(|s| s.replace(['º', '°', ' '], ""))
        .filter(|s| !s.is_empty())
        .collect()
}

fn roman(text: &str) -> Option<u32> {
    let value = |c: char| match c.to_ascii_lowercase() {
        'i' => Some(1),
        'v' => Some(5),
        'x' => Some(10),
        'l' => Some(50),
        'c' => Some(100),
        _ => None,
    };
    let digits: Vec<u32> = text.chars().map(value).collect::<Option<_>>()?;
    let mut total = 0u32;
    for (i, &d) in digits.iter().enumerate() {
        if digits.get(i + 1).is_some_and(|&next| next > d) {
            total = total.checked_sub(d)?;
        } else {
            total += d;
        }
    }
    (total > 0).then_some(total)
}

fn month_number(name: &str) -> Option<String> {
    let names = [
        "janeiro",
        "fevereiro",
        "março",
        "abril",
        "maio",
        "junho",
        "julho",
        "agosto",
        "setembro",
        "outubro",
        "novembro",
        "dezembro",
    ];
    let name = name.to_lowercase().replace("marco", "março");
    names
        .iter()
        .position(|n| *n == name)
        .map(|i| format!("{:02}", i + 1))
}

/// A date fact from its parts, when they make a date; `?` for a missing part.
fn date(year: Option<&str>, month: Option<&str>, day: Option<&str>) -> Option<(Kind, String)> {
    let month: u32 = month?.parse().ok()?;
    if !(1..=12).contains(&month) {
        return None;
    }
    let day = match day {
        Some(d) => {
            let d: u32 = d.parse().ok()?;
            if !(1..=31).contains(&d) {
                return None;
            }
            format!("{d:02}")
        }
        None => "??".to_owned(),
    };
    // Dates in FAQ answers are recent; `01/07/26` is 2026.
    let year = year.map_or_else(|| "????".to_owned(), |y| full_year(y, 70));
    Some((Kind::Date, format!("{year}-{month:02}-{day}")))
}

/// A decimal number as digits, exact at any size: no leading zeros in `int`, no trailing
/// zeros in `frac`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Decimal {
    int: String,
    frac: String,
}

impl Decimal {
    fn new(int: &str, frac: &str) -> Decimal {
        let int = int.trim_start_matches('0');
        Decimal {
            int: if int.is_empty() {
                "0".into()
            } else {
                int.into()
            },
            frac: frac.trim_end_matches('0').into(),
        }
    }

    /// Times 10^3 for `mil`, 10^6 for `milhões`…
    fn scaled(&self, word: Option<&str>) -> Decimal {
        let zeros = match word.map(str::to_lowercase).as_deref() {
            Some("mil") => 3,
            Some(w) if w.starts_with("milh") || w == "mi" => 6,
            Some(w) if w.starts_with("bilh") || w == "bi" => 9,
            Some(w) if w.starts_with("trilh") => 12,
            _ => 0,
        };
        if zeros == 0 {
            return self.clone();
        }
        let mut frac = self.frac.clone();
        while frac.len() < zeros {
            frac.push('0');
        }
        let (moved, rest) = frac.split_at(zeros);
        Decimal::new(&format!("{}{moved}", self.int), rest)
    }
}

impl std::fmt::Display for Decimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.frac.is_empty() {
            f.write_str(&self.int)
        } else {
            write!(f, "{}.{}", self.int, self.frac)
        }
    }
}

/// Reads a digit run with `.` and `,` the Brazilian way (see the module docs); `None`
/// when the separators make no single number (`1,2,3`).
fn number(token: &str) -> Option<Decimal> {
    if token.is_empty()
        || !token
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == ',')
    {
        return None;
    }
    let grouped = |s: &str, sep: char| {
        let groups: Vec<&str> = s.split(sep).collect();
        groups.len() >= 2
            && (1..=3).contains(&groups[0].len())
            && groups[1..].iter().all(|g| g.len() == 3)
    };
    let digits = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_digit());
    match (token.contains('.'), token.contains(',')) {
        (false, false) => Some(Decimal::new(token, "")),
        (true, true) => {
            let last = token.rfind(['.', ','])?;
            let decimal_mark = token[last..].chars().next()?;
            let thousands = if decimal_mark == ',' { '.' } else { ',' };
            let (int, frac) = (&token[..last], &token[last + 1..]);
            if !digits(frac) || int.contains(decimal_mark) {
                return None;
            }
            if !grouped(int, thousands) {
                return None;
            }
            Some(Decimal::new(&int.replace(thousands, ""), frac))
        }
        (true, false) => {
            let parts: Vec<&str> = token.split('.').collect();
            if grouped(token, '.') && parts[0] != "0" {
                Some(Decimal::new(&token.replace('.', ""), ""))
            } else if parts.len() == 2 && parts.iter().all(|p| digits(p)) {
                Some(Decimal::new(parts[0], parts[1]))
            } else {
                None
            }
        }
        (false, true) => {
            let parts: Vec<&str> = token.split(',').collect();
            if parts.len() == 2 && parts.iter().all(|p| digits(p)) {
                Some(Decimal::new(parts[0], parts[1]))
            } else if parts.len() >= 3 && grouped(token, ',') {
                Some(Decimal::new(&token.replace(',', ""), ""))
            } else {
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(text: &str) -> Vec<String> {
        extract(text)
            .into_iter()
            .map(|f| format!("{:?} {}", f.kind, f.value))
            .collect()
    }

    fn score(answer: &str, reference: &str) -> Option<f64> {
        check(answer, reference).score
    }

    #[test]
    fn numbers_read_the_brazilian_way() {
        let n = |s: &str| number(s).map(|d| d.to_string());
        assert_eq!(n("4.800.000,00").as_deref(), Some("4800000"));
        assert_eq!(n("4,8").as_deref(), Some("4.8"));
        assert_eq!(n("4.800").as_deref(), Some("4800"));
        assert_eq!(n("15.5").as_deref(), Some("15.5"));
        assert_eq!(n("0.500").as_deref(), Some("0.5"));
        assert_eq!(n("1,234,567.89").as_deref(), Some("1234567.89"));
        assert_eq!(n("007").as_deref(), Some("7"));
        assert_eq!(n("1,2,3"), None);
        assert_eq!(n("12.34.5"), None);
        let d = number("4,8").unwrap();
        assert_eq!(d.scaled(Some("milhões")).to_string(), "4800000");
        assert_eq!(d.scaled(Some("mil")).to_string(), "4800");
        assert_eq!(
            number("1,25").unwrap().scaled(Some("bilhão")).to_string(),
            "1250000000"
        );
    }

    #[test]
    fn money_in_every_spelling_is_one_value() {
        for text in [
            "R$ 4,8 milhões",
            "R$ 4.800.000,00",
            "R$4.800.000",
            "4,8 milhões de reais",
            "R$ 4,8 mi",
            "R$ 4.800 mil",
        ] {
            assert_eq!(values(text), vec!["Money brl 4800000"], "{text}");
        }
        assert_eq!(values("R$ 81 mil"), vec!["Money brl 81000"]);
        assert_eq!(values("US$ 1.500,50"), vec!["Money usd 1500.5"]);
        assert_eq!(values("81.000 reais"), vec!["Money brl 81000"]);
    }

    #[test]
    fn percentages_in_every_spelling_are_one_value() {
        for text in ["15,5%", "15.5 %", "15,5 por cento", "15,50%"] {
            assert_eq!(values(text), vec!["Percent 15.5"], "{text}");
        }
        assert_eq!(values("de 4% a 33%"), vec!["Percent 4", "Percent 33"]);
    }

    #[test]
    fn dates_in_every_spelling_are_one_value() {
        for text in [
            "01/07/2026",
            "1/7/2026",
            "1º de julho de 2026",
            "1° de julho de 2026",
            "primeiro de julho de 2026",
            "2026-07-01",
            "01.07.2026",
            "01/07/26",
        ] {
            assert_eq!(values(text), vec!["Date 2026-07-01"], "{text}");
        }
        assert_eq!(values("31 de janeiro"), vec!["Date ????-01-31"]);
        assert_eq!(values("em março de 2027"), vec!["Date 2027-03-??"]);
        assert_eq!(values("competência 07/2026"), vec!["Date 2026-07-??"]);
        assert_eq!(values("até 20/07"), vec!["Date ????-07-20"]);
        // Not dates: a 13th month, a 32nd day.
        assert_eq!(
            values("13/13/2026"),
            vec!["Number 13", "Number 13", "Number 2026"]
        );
    }

    #[test]
    fn legal_references_are_recognised_and_their_numbers_not_counted_again() {
        assert_eq!(values("LC 123/2006"), vec!["Law lc 123/2006"]);
        assert_eq!(
            values("Lei Complementar nº 123, de 14 de dezembro de 2006"),
            vec!["Law lc 123/2006"]
        );
        assert_eq!(values("Lei nº 9.430/96"), vec!["Law lei 9430/1996"]);
        assert_eq!(values("Lei 9430, de 1996"), vec!["Law lei 9430/1996"]);
        assert_eq!(
            values("Resolução CGSN nº 140/2018"),
            vec!["Law resolução 140/2018"]
        );
        assert_eq!(values("IN RFB 2.110/2022"), vec!["Law in 2110/2022"]);
        assert_eq!(values("o art. 17"), vec!["Article art. 17"]);
        assert_eq!(values("artigo 17"), vec!["Article art. 17"]);
        assert_eq!(
            values("arts. 17 e 18-A"),
            vec!["Article art. 17", "Article art. 18-a"]
        );
        assert_eq!(
            values("art. 3º, § 1º, inciso II"),
            vec!["Article art. 3", "Paragraph § 1", "Inciso inciso ii"]
        );
        assert_eq!(values("parágrafo único"), vec!["Paragraph § único"]);
        assert_eq!(values("Anexo III"), values("anexo 3"));
        // `in` and `mp` in lower case are words, not norms.
        assert_eq!(values("in 2020"), vec!["Number 2020"]);
    }

    #[test]
    fn a_whole_answer() {
        let text = "Conforme o art. 3º da LC 123/2006, a EPP tem receita bruta anual de até \
                    R$ 4,8 milhões; a alíquota inicial do Anexo III é de 6% e o prazo é \
                    31/01/2027, 12 meses depois.";
        assert_eq!(
            values(text),
            vec![
                "Article art. 3",
                "Law lc 123/2006",
                "Money brl 4800000",
                "Annex anexo 3",
                "Percent 6",
                "Date 2027-01-31",
                "Number 12",
            ]
        );
        let facts = extract(text);
        assert_eq!(facts[2].text, "R$ 4,8 milhões");
        assert_eq!(&text[facts[2].start..facts[2].end], "R$ 4,8 milhões");
    }

    #[test]
    fn not_fooled_by_reordering_or_formatting() {
        let reference = "Desde 01/07/2026 o limite é R$ 4.800.000,00 e a alíquota 15,5%, \
                         conforme a LC 123/2006, art. 17.";
        let answer = "Pelo art. 17 da Lei Complementar nº 123, de 14 de dezembro de 2006, a \
                      alíquota é de 15.5 % e o limite de 4,8 milhões de reais, a partir de \
                      1º de julho de 2026.";
        assert_eq!(score(answer, reference), Some(1.0));
        // A fluent answer with the wrong limit and date loses exactly those two of five.
        let wrong = "Pelo art. 17 da LC 123/2006, a alíquota é de 15,5% e o limite de \
                     R$ 3,6 milhões, a partir de 1º de janeiro de 2026.";
        let check = check(wrong, reference);
        assert_eq!(check.score, Some(3.0 / 5.0));
        let missing: Vec<&str> = check.missing().iter().map(|f| f.text.as_str()).collect();
        assert_eq!(missing, vec!["01/07/2026", "R$ 4.800.000,00"]);
    }

    #[test]
    fn partial_matches_and_edge_cases() {
        // The reference's date without a year is stated by a full date.
        assert_eq!(
            score("vence em 31/01/2027", "vence em 31 de janeiro"),
            Some(1.0)
        );
        // A full date is not stated by one without the year.
        assert_eq!(
            score("vence em 31 de janeiro", "vence em 31/01/2027"),
            Some(0.0)
        );
        // A bare amount states the money; a year is stated by a date in it.
        assert_eq!(score("o limite é de 81 mil", "R$ 81.000,00"), Some(1.0));
        assert_eq!(score("desde 1º de julho de 2026", "desde 2026"), Some(1.0));
        // Percentages are not bare numbers.
        assert_eq!(score("15,5", "15,5%"), Some(0.0));
        // A repeated fact counts once; no facts means no score.
        assert_eq!(score("6%", "6% e de novo 6%"), Some(1.0));
        assert_eq!(score("qualquer coisa", "Sim, pode."), None);
        // Glued to letters is not a number; a sentence's full stop is not a decimal mark.
        assert_eq!(values("CFOP5102"), Vec::<String>::new());
        assert_eq!(values("São 12."), vec!["Number 12"]);
    }
}
