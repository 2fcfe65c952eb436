//! Text encodings: a byte order mark wins, then valid UTF-8, then UTF-16 without a BOM
//! (zero bytes beside ASCII letters), then the legacy single-byte encodings office tools
//! write (Windows-1252, which reads ISO-8859-1 the same; Mac Roman, from older Excel for
//! Mac), each decoded and scored for Portuguese: the reading whose accented letters sit
//! where letters belong wins. A reading that still looks wrong (C1 controls, `‹` or `Ž`
//! inside words) is kept but warned about, never passed off silently.

use std::borrow::Cow;

use encoding_rs::{Encoding, MACINTOSH, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

use crate::FormatError;

/// Text decoded from a file, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded<'a> {
    pub text: Cow<'a, str>,
    /// Lowercase encoding name: `utf-8`, `utf-16le`, `windows-1252`, `macintosh`…
    pub encoding: String,
    /// Whether a byte order mark was found (and removed).
    pub bom: bool,
    /// Why this encoding, when it was not the obvious one (Mac Roman over Windows-1252,
    /// UTF-16 without a BOM).
    pub note: Option<String>,
    /// The text may be mis-decoded: what looks wrong, where, and what to do.
    pub warning: Option<String>,
}

/// Labels office users type that the WHATWG list lacks.
const EXTRA_LABELS: &[(&str, &Encoding)] = &[
    ("mac-roman", MACINTOSH),
    ("macroman", MACINTOSH),
    ("mac_roman", MACINTOSH),
    ("mac roman", MACINTOSH),
    ("cp10000", MACINTOSH),
    ("utf16le", UTF_16LE),
    ("utf16be", UTF_16BE),
    ("utf-16-le", UTF_16LE),
    ("utf-16-be", UTF_16BE),
    ("utf8", UTF_8),
    ("cp-1252", WINDOWS_1252),
    ("windows1252", WINDOWS_1252),
    ("win-1252", WINDOWS_1252),
    ("ansi", WINDOWS_1252),
    ("latin-1", WINDOWS_1252),
    ("iso-latin-1", WINDOWS_1252),
];

/// Resolves an `--encoding` label (`latin1`, `cp1252`, `macintosh`, `mac-roman`,
/// `utf-8`, `utf-16le`…).
///
/// ISO-8859-1 labels resolve to Windows-1252, its superset, as browsers do: files
/// labelled Latin-1 in the wild almost always hold Windows-1252 quotes and dashes, and
/// the two read every other byte the same.
pub fn for_label(label: &str) -> Option<&'static Encoding> {
    let label = label.trim();
    Encoding::for_label_no_replacement(label.as_bytes()).or_else(|| {
        EXTRA_LABELS
            .iter()
            .find(|(l, _)| l.eq_ignore_ascii_case(label))
            .map(|(_, e)| *e)
    })
}

/// The encoding a label names, or an error naming the file.
pub(crate) fn resolve(label: &str, file: &str) -> Result<&'static Encoding, FormatError> {
    for_label(label).ok_or_else(|| FormatError::UnknownEncoding {
        file: file.to_owned(),
        label: label.to_owned(),
    })
}

/// Decodes a whole file. `forced` overrides detection (a byte order mark still wins,
/// since it cannot be wrong about the bytes that follow it); a forced reading that looks
/// wrong is kept, with a warning.
pub fn decode<'a>(bytes: &'a [u8], forced: Option<&'static Encoding>) -> Decoded<'a> {
    if let Some((enc, _)) = Encoding::for_bom(bytes) {
        // `decode` removes the BOM it sniffed; malformed sequences become U+FFFD.
        let (text, used, _) = enc.decode(bytes);
        let warning = broken(&text).map(|s| {
            format!(
                "{}, though the file starts with a {} byte order mark; check the file",
                s.describe(),
                name(used)
            )
        });
        return Decoded {
            text,
            encoding: name(used),
            bom: true,
            note: None,
            warning,
        };
    }
    if let Some(enc) = forced {
        let (text, _) = enc.decode_without_bom_handling(bytes);
        let warning = forced_warning(&text, enc);
        return Decoded {
            text,
            encoding: name(enc),
            bom: false,
            note: None,
            warning,
        };
    }
    let choice = detect(bytes);
    let (text, _) = choice.encoding.decode_without_bom_handling(bytes);
    Decoded {
        text,
        encoding: name(choice.encoding),
        bom: false,
        note: choice.note,
        warning: choice.warning,
    }
}

/// [`decode`] of a whole file whose bytes were read into `bytes`, holding the text only
/// once: BOM-less bytes that are not UTF-8 (Windows-1252, Mac Roman, UTF-16 without a
/// BOM), detected as [`decode`] does, are decoded again from the file in chunks once the
/// bytes are dropped, rather than beside them. The text is [`decode`]'s. Other files give
/// their bytes back, for [`decode`].
pub(crate) fn decode_file_again(
    path: &std::path::Path,
    bytes: Vec<u8>,
    forced: Option<&'static Encoding>,
) -> std::io::Result<Result<Decoded<'static>, Vec<u8>>> {
    if forced.is_some()
        || Encoding::for_bom(&bytes).is_some()
        || simdutf8::basic::from_utf8(&bytes).is_ok()
    {
        return Ok(Err(bytes));
    }
    let choice = detect(&bytes);
    let size = bytes.len();
    drop(bytes);
    let mut decoder = choice.encoding.new_decoder_without_bom_handling();
    let mut text = String::with_capacity(size + size / 4);
    let mut file = std::fs::File::open(path)?;
    let mut chunk = vec![0u8; 1 << 20];
    loop {
        let n = std::io::Read::read(&mut file, &mut chunk)?;
        let last = n == 0;
        text.reserve(decoder.max_utf8_buffer_length(n).unwrap_or(n * 3));
        let _ = decoder.decode_to_string(&chunk[..n], &mut text, last);
        if last {
            break;
        }
    }
    Ok(Ok(Decoded {
        text: Cow::Owned(text),
        encoding: name(choice.encoding),
        bom: false,
        note: choice.note,
        warning: choice.warning,
    }))
}

fn name(enc: &'static Encoding) -> String {
    enc.name().to_ascii_lowercase()
}

/// An encoding and what to tell the user about it.
#[derive(Debug)]
struct Choice {
    encoding: &'static Encoding,
    note: Option<String>,
    warning: Option<String>,
}

impl Choice {
    fn plain(encoding: &'static Encoding) -> Self {
        Self {
            encoding,
            note: None,
            warning: None,
        }
    }
}

/// `--encoding` is obeyed; if the result looks wrong the user hears of it.
fn forced_warning(text: &str, enc: &'static Encoding) -> Option<String> {
    let suspect = if enc == UTF_8 || enc == UTF_16LE || enc == UTF_16BE {
        broken(text)
    } else {
        let p = Plausibility::of(text);
        if p.strong > 0 { p.first } else { None }
    };
    suspect.map(|s| {
        format!(
            "{} as `{}` (from --encoding); if accents look wrong, try another --encoding",
            s.describe(),
            name(enc)
        )
    })
}

/// Guesses the encoding of BOM-less bytes.
fn detect(bytes: &[u8]) -> Choice {
    if let Ok(text) = simdutf8::basic::from_utf8(bytes) {
        let mut choice = Choice::plain(UTF_8);
        choice.warning = garbled_utf8(text).map(|s| {
            format!(
                "{}: the text looks converted twice (UTF-8 read as Windows-1252 and saved again); fix the file where it was exported",
                s.describe()
            )
        });
        return choice;
    }
    if let Some(enc) = utf16_without_bom(bytes) {
        let mut choice = Choice::plain(enc);
        let order = if enc == UTF_16BE { "big" } else { "little" };
        choice.note = Some(format!(
            "read as UTF-16 {order}-endian without a byte order mark (recognised by the zero bytes beside the ASCII letters)"
        ));
        return choice;
    }
    choose_single_byte(bytes)
}

/// The single-byte encodings tried, the first winning a tie: Excel and Notepad on
/// Windows write Windows-1252 (ISO-8859-1 reads the same outside 0x80–0x9F, where
/// Latin-1 has only control characters); older Excel for Mac writes Mac Roman.
const SINGLE_BYTE: [&Encoding; 2] = [WINDOWS_1252, MACINTOSH];

/// Decodes with each legacy encoding and keeps the one that reads most like Portuguese.
/// Sure when the winner shows no sign of a wrong reading and beats the others; otherwise
/// the winner is kept with a warning naming what looks wrong.
fn choose_single_byte(bytes: &[u8]) -> Choice {
    let readings: Vec<(&'static Encoding, Plausibility)> = SINGLE_BYTE
        .iter()
        .map(|&enc| {
            let sample = &bytes[..bytes.len().min(SCORED_BYTES)];
            let (text, _) = enc.decode_without_bom_handling(sample);
            (enc, Plausibility::of(&text))
        })
        .collect();
    let mut best = 0;
    for (i, (_, p)) in readings.iter().enumerate() {
        if p.score() > readings[best].1.score() {
            best = i;
        }
    }
    let (enc, p) = &readings[best];
    let runner_up = readings
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != best)
        .max_by_key(|(_, (_, q))| q.score())
        .map(|(_, r)| r);
    // A legacy multi-byte guess (Shift_JIS, GBK…) is only taken when no single-byte
    // reading gives Portuguese: chardetng checked its byte structure, but a few accented
    // Portuguese letters next to ASCII also pass as double-byte characters.
    if p.score() < 0 {
        let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
        detector.feed(bytes, true);
        let guess = detector.guess(Some(b"br"), chardetng::Utf8Detection::Allow);
        if !guess.is_single_byte() {
            let mut choice = Choice::plain(guess);
            choice.warning = Some(format!(
                "no Windows-1252 or Mac Roman reading gives Portuguese text, so it was read as `{}`; if that is wrong, pass --encoding",
                name(guess)
            ));
            return choice;
        }
    }
    let mut choice = Choice::plain(enc);
    if *enc != WINDOWS_1252 {
        let cp1252 = &readings[0].1;
        let shown = cp1252.first.as_ref().map_or(String::new(), |s| {
            format!(", e.g. `{}` on line {}", s.excerpt, s.line)
        });
        choice.note = Some(format!(
            "read as Mac Roman (older Excel for Mac): as Windows-1252 it would show symbols where accented letters belong{shown}"
        ));
    }
    let sure = p.strong == 0
        && p.weak * 4 <= p.good
        && runner_up.is_none_or(|(_, q)| q.score() < p.score());
    if !sure {
        let what = match &p.first {
            Some(s) => s.describe(),
            None => "the accented letters read the same in several encodings".to_owned(),
        };
        let others: Vec<String> = readings
            .iter()
            .filter(|(e, _)| e != enc)
            .map(|(e, _)| format!("`--encoding {}`", name(e)))
            .collect();
        choice.warning = Some(format!(
            "the encoding is a guess (`{}`): {what}; if accents look wrong, pass {}",
            name(enc),
            others.join(" or ")
        ));
    }
    choice
}

/// Portuguese letters (with their capitals); any other accented letter is foreign.
const PORTUGUESE: &str = "áàâãéêíóôõúüçÁÀÂÃÉÊÍÓÔÕÚÜÇ";
/// Non-ASCII punctuation and signs common in Brazilian office text.
const PUNCTUATION: &str = "\u{A0}“”‘’–—…•ºª§°€£¢²³¹½¼¾×÷±©®«»·";

/// How much decoded text reads like Portuguese.
#[derive(Debug, Default, Clone)]
struct Plausibility {
    /// Portuguese letters where letters belong.
    good: usize,
    /// Signs a right reading does not show: C1 controls, U+FFFD, a symbol between two
    /// letters, a capital right after a small letter (`atŽ`, `n‹o`, `nÃ£o`).
    strong: usize,
    /// Characters unusual in Portuguese but possible: a foreign letter, `™` after a word.
    weak: usize,
    /// The first strong sign (else the first weak one).
    first: Option<Suspect>,
}

/// A character that looks wrong, where it is.
#[derive(Debug, Clone)]
struct Suspect {
    ch: char,
    line: u64,
    /// The word around it, as decoded.
    excerpt: String,
}

impl Suspect {
    fn describe(&self) -> String {
        let what = match self.ch {
            '\u{FFFD}' => {
                "bytes that are not valid in this encoding (shown as `\u{FFFD}`)".to_owned()
            }
            c if ('\u{80}'..='\u{9F}').contains(&c) => {
                format!("a control character U+{:04X}", c as u32)
            }
            c => format!("`{c}`"),
        };
        format!(
            "{what} where a letter belongs, on line {} (`{}`)",
            self.line, self.excerpt
        )
    }
}

enum Sign {
    Good,
    Strong,
    Weak,
    None,
}

impl Plausibility {
    fn score(&self) -> i64 {
        self.good as i64 - 3 * self.strong as i64 - self.weak as i64
    }

    /// Scores `text`, stopping after [`SCORED_CHARS`] non-ASCII characters: by then the
    /// evidence is plain, and a huge file costs no more than a big one.
    fn of(text: &str) -> Self {
        let mut p = Self::default();
        let mut first_weak = None;
        let mut seen = 0;
        for (at, prev, c, next, line) in Chars::new(text) {
            if c.is_ascii() {
                continue;
            }
            seen += 1;
            if seen > SCORED_CHARS {
                break;
            }
            let letter = |o: Option<char>| o.is_some_and(char::is_alphabetic);
            let after_small = prev.is_some_and(char::is_lowercase);
            // `º` and `ª` are letters to Unicode: punctuation is tested first.
            let sign = if is_broken(c) {
                Sign::Strong
            } else if PUNCTUATION.contains(c) {
                // `d’água` is fine; `c—digo`, `f·cil` are not.
                if letter(prev) && letter(next) && c != '’' && c != '\u{A0}' {
                    Sign::Strong
                } else {
                    Sign::None
                }
            } else if c.is_alphabetic() {
                if c.is_uppercase() && after_small {
                    Sign::Strong
                } else if PORTUGUESE.contains(c) {
                    Sign::Good
                } else {
                    Sign::Weak
                }
            } else if letter(prev) && letter(next) {
                Sign::Strong
            } else {
                Sign::Weak
            };
            let suspect = || Suspect {
                ch: c,
                line,
                excerpt: word_around(text, at),
            };
            match sign {
                Sign::Good => p.good += 1,
                Sign::Strong => {
                    p.strong += 1;
                    if p.first.is_none() {
                        p.first = Some(suspect());
                    }
                }
                Sign::Weak => {
                    p.weak += 1;
                    if first_weak.is_none() {
                        first_weak = Some(suspect());
                    }
                }
                Sign::None => {}
            }
        }
        if p.first.is_none() {
            p.first = first_weak;
        }
        p
    }
}

/// How many non-ASCII characters a reading is scored on.
const SCORED_CHARS: usize = 20_000;
/// How much of a file the single-byte readings are scored on.
const SCORED_BYTES: usize = 4 << 20;

fn is_broken(c: char) -> bool {
    c == '\u{FFFD}' || ('\u{80}'..='\u{9F}').contains(&c)
}

/// Each character of a text with its byte offset, neighbours and 1-based line (CR, LF
/// and CRLF each end a line).
struct Chars<'a> {
    it: std::iter::Peekable<std::str::CharIndices<'a>>,
    prev: Option<char>,
    line: u64,
}

impl<'a> Chars<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            it: text.char_indices().peekable(),
            prev: None,
            line: 1,
        }
    }
}

impl Iterator for Chars<'_> {
    type Item = (usize, Option<char>, char, Option<char>, u64);

    fn next(&mut self) -> Option<Self::Item> {
        let (at, c) = self.it.next()?;
        let next = self.it.peek().map(|(_, n)| *n);
        let item = (at, self.prev, c, next, self.line);
        if c == '\n' || (c == '\r' && next != Some('\n')) {
            self.line += 1;
        }
        self.prev = Some(c);
        Some(item)
    }
}

/// The run of non-space characters around byte `at`, at most 12 characters each side,
/// control characters shown as `\u{FFFD}`.
fn word_around(text: &str, at: usize) -> String {
    let stop = |c: char| c.is_whitespace() || matches!(c, ';' | ',' | '"' | '|');
    let start = text[..at]
        .char_indices()
        .rev()
        .take(12)
        .take_while(|(_, c)| !stop(*c))
        .last()
        .map_or(at, |(i, _)| i);
    let mut end = text.len();
    for (n, (i, c)) in text[at..].char_indices().enumerate().skip(1) {
        if stop(c) || n > 12 {
            end = at + i;
            break;
        }
    }
    text[start..end]
        .chars()
        .map(|c| if c.is_control() { '\u{FFFD}' } else { c })
        .collect()
}

/// Decoded UTF text that is plainly broken: a replacement character or a C1 control.
fn broken(text: &str) -> Option<Suspect> {
    Chars::new(text)
        .find(|(_, _, c, _, _)| is_broken(*c))
        .map(|(at, _, c, _, line)| Suspect {
            ch: c,
            line,
            excerpt: word_around(text, at),
        })
}

/// Valid UTF-8 that was once mis-read as Windows-1252 and saved again: `Ã©` for `é`,
/// `Ã£` for `ã`. Only reported, since the file holds exactly those characters.
fn garbled_utf8(text: &str) -> Option<Suspect> {
    // UTF-8's lead byte of a Latin-1 letter (0xC3 `Ã`, 0xC2 `Â`) followed by what
    // Windows-1252 shows for a continuation byte (0x80–0xBF).
    let continuation =
        |n: char| ('\u{80}'..='\u{BF}').contains(&n) || "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ".contains(n);
    // Both letters looked for as bytes (rare in text, where a scan of every character
    // took longer than the rest of reading a CSV): the first two hits of each, in order.
    let mut hits: Vec<usize> = ["Ã", "Â"]
        .iter()
        .flat_map(|letter| {
            memchr::memmem::find_iter(text.as_bytes(), letter.as_bytes())
                .filter(|&at| text[at + 2..].chars().next().is_some_and(continuation))
                .take(2)
        })
        .collect();
    hits.sort_unstable();
    let (&at, _) = hits.split_first().filter(|(_, rest)| !rest.is_empty())?;
    // One `Ã©` could be meant; several are the garbling.
    Some(Suspect {
        ch: text[at..].chars().next()?,
        line: 1 + super::line_ends(text.as_bytes(), 0, at) as u64,
        excerpt: word_around(text, at),
    })
}

/// UTF-16 without a BOM shows as a NUL in every other byte of ASCII text.
fn utf16_without_bom(bytes: &[u8]) -> Option<&'static Encoding> {
    let sample = &bytes[..bytes.len().min(4096) & !1];
    if sample.len() < 4 {
        return None;
    }
    let pairs = sample.len() / 2;
    let even_nul = sample.iter().step_by(2).filter(|b| **b == 0).count();
    let odd_nul = sample
        .iter()
        .skip(1)
        .step_by(2)
        .filter(|b| **b == 0)
        .count();
    if odd_nul * 10 >= pairs * 7 && even_nul * 10 < pairs {
        Some(UTF_16LE)
    } else if even_nul * 10 >= pairs * 7 && odd_nul * 10 < pairs {
        Some(UTF_16BE)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cp1252(s: &str) -> Vec<u8> {
        WINDOWS_1252.encode(s).0.into_owned()
    }

    #[test]
    fn utf8_with_and_without_bom() {
        let d = decode("Pergunta;Ação".as_bytes(), None);
        assert_eq!(
            (d.text.as_ref(), d.encoding.as_str(), d.bom),
            ("Pergunta;Ação", "utf-8", false)
        );
        let d = decode("\u{FEFF}Ação".as_bytes(), None);
        assert_eq!(
            (d.text.as_ref(), d.encoding.as_str(), d.bom),
            ("Ação", "utf-8", true)
        );
    }

    #[test]
    fn utf16_with_and_without_bom() {
        let text = "Pergunta,Resposta\r\nO que é?,“Isso” – nº 1\r\n";
        let mut le = vec![0xFF, 0xFE];
        le.extend(text.encode_utf16().flat_map(u16::to_le_bytes));
        let d = decode(&le, None);
        assert_eq!(
            (d.text.as_ref(), d.encoding.as_str(), d.bom),
            (text, "utf-16le", true)
        );
        let mut be = vec![0xFE, 0xFF];
        be.extend(text.encode_utf16().flat_map(u16::to_be_bytes));
        assert_eq!(decode(&be, None).encoding, "utf-16be");
        let bare: Vec<u8> = text.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let d = decode(&bare, None);
        assert_eq!(
            (d.text.as_ref(), d.encoding.as_str(), d.bom),
            (text, "utf-16le", false)
        );
    }

    #[test]
    fn brazilian_windows_1252_keeps_quotes_dashes_and_ordinals() {
        let text =
            "Qual é o prazo?;“Até o dia 20” – art. 21, § 3º, da LC nº 123; não há prorrogação.\r\n";
        let bytes = cp1252(text);
        let d = decode(&bytes, None);
        assert_eq!(
            (d.text.as_ref(), d.encoding.as_str()),
            (text, "windows-1252")
        );
        // Plain Latin-1 accents only (no 0x80–0x9F bytes), as an ISO-8859-1 export has.
        let text = "Opção\tDescrição\nMédia\tÍndice de preços ao consumidor\n";
        let bytes = cp1252(text);
        let d = decode(&bytes, None);
        assert_eq!(
            (d.text.as_ref(), d.encoding.as_str()),
            (text, "windows-1252")
        );
    }

    #[test]
    fn a_forced_label_overrides_detection() {
        let bytes = cp1252("ação");
        let enc = for_label("latin1");
        assert_eq!(enc, Some(WINDOWS_1252));
        assert_eq!(decode(&bytes, enc).text, "ação");
        // Forcing UTF-8 on Windows-1252 bytes shows the damage rather than guessing.
        assert_eq!(
            decode(&bytes, for_label("utf-8")).text,
            "a\u{FFFD}\u{FFFD}o"
        );
        for label in ["cp1252", "windows-1252", "UTF-8", "utf-16le", "iso-8859-1"] {
            assert!(for_label(label).is_some(), "{label}");
        }
        assert!(for_label("klingon").is_none());
    }

    fn mac(s: &str) -> Vec<u8> {
        let (bytes, _, unmappable) = MACINTOSH.encode(s);
        assert!(!unmappable, "{s}");
        bytes.into_owned()
    }

    const FAQ: &str = "Pergunta;Resposta\rÉ obrigatório declarar?;Não: até R$ 4,8 milhões a opção é válida.\rO que é o DAS?;É a guia única de arrecadação, paga até o dia 20.\r";

    #[test]
    fn mac_roman_is_chosen_over_the_windows_1252_mojibake_and_said() {
        let bytes = mac(FAQ);
        // What the issue saw: the same bytes as Windows-1252.
        let wrong = WINDOWS_1252.decode_without_bom_handling(&bytes).0;
        assert!(
            wrong.contains("ƒ obrigat\u{97}rio") || wrong.contains("ƒ obrigat—rio"),
            "{wrong}"
        );
        assert!(wrong.contains("N‹o") && wrong.contains("atŽ"), "{wrong}");
        let d = decode(&bytes, None);
        assert_eq!(
            (d.text.as_ref(), d.encoding.as_str(), d.warning.as_deref()),
            (FAQ, "macintosh", None)
        );
        let note = d.note.unwrap();
        assert!(
            note.starts_with("read as Mac Roman (older Excel for Mac)"),
            "{note}"
        );
        assert!(note.contains("on line 2"), "{note}");
    }

    #[test]
    fn a_right_windows_1252_or_utf8_reading_stays_and_is_sure() {
        let text =
            FAQ.replace('\r', "\r\n") + "“Simples” – art. 3º, § 1º; já não há prorrogação.\r\n";
        let bytes = cp1252(&text);
        let d = decode(&bytes, None);
        assert_eq!(
            (d.text.as_ref(), d.encoding.as_str(), &d.note, &d.warning),
            (text.as_str(), "windows-1252", &None, &None)
        );
        let d = decode(text.as_bytes(), None);
        assert_eq!(
            (d.text.as_ref(), d.encoding.as_str(), &d.note, &d.warning),
            (text.as_str(), "utf-8", &None, &None)
        );
        // Punctuation alone (no accented letter) still reads as Windows-1252.
        let bytes = cp1252("Nota: “sim” – ou não\n");
        let d = decode(&bytes, None);
        assert_eq!((d.encoding.as_str(), &d.warning), ("windows-1252", &None));
    }

    #[test]
    fn latin1_bytes_read_the_same_as_windows_1252() {
        // Only 0xA0–0xFF: ISO-8859-1 and Windows-1252 agree byte for byte, and Latin-1
        // is the first 256 code points, so each byte is its own character.
        let bytes = b"Op\xE7\xE3o;Descri\xE7\xE3o\nM\xE9dia;\xCDndice de pre\xE7os (\xBA, \xA7)\n";
        let latin1: String = bytes.iter().map(|b| char::from(*b)).collect();
        let d = decode(bytes, None);
        assert_eq!(
            (d.text.as_ref(), d.encoding.as_str(), &d.warning),
            (latin1.as_str(), "windows-1252", &None)
        );
        // 0x80–0x9F are C1 controls in Latin-1 but quotes and dashes in Windows-1252,
        // which is what such bytes mean in a Brazilian file.
        let d = decode(b"\x93Sim\x94 \x96 n\xE3o\n", None);
        assert_eq!(d.text, "“Sim” – não\n");
        assert_eq!(d.warning, None);
    }

    #[test]
    fn an_unsure_guess_is_kept_with_a_warning_naming_what_looks_wrong() {
        // Windows-1252 wins (Mac Roman gives `„` inside a word), but byte 0x81 means
        // nothing in it: say so, with the line.
        let d = decode(
            b"Pergunta;Resposta\r\nA\xE7\xE3o;pre\xE7o m\xE9dio \x81 vezes\r\n",
            None,
        );
        assert_eq!(d.encoding, "windows-1252");
        assert_eq!(
            d.text,
            "Pergunta;Resposta\r\nAção;preço médio \u{81} vezes\r\n"
        );
        let w = d.warning.unwrap();
        assert!(
            w.starts_with("the encoding is a guess (`windows-1252`): a control character U+0081 where a letter belongs, on line 2"),
            "{w}"
        );
        assert!(w.ends_with("pass `--encoding macintosh`"), "{w}");
    }

    #[test]
    fn a_forced_reading_that_looks_wrong_is_kept_and_warned_about() {
        let bytes = mac(FAQ);
        let d = decode(&bytes, for_label("cp1252"));
        assert_eq!(d.encoding, "windows-1252");
        assert!(d.text.contains("N‹o"));
        let w = d.warning.unwrap();
        assert!(w.contains("as `windows-1252` (from --encoding)"), "{w}");
        let d = decode(&bytes, for_label("mac-roman"));
        assert_eq!((d.text.as_ref(), &d.warning), (FAQ, &None));
        let bytes = cp1252("não");
        let d = decode(&bytes, for_label("utf-8"));
        assert!(
            d.warning
                .unwrap()
                .starts_with("bytes that are not valid in this encoding")
        );
    }

    #[test]
    fn utf16_big_endian_without_bom_is_recognised_and_said() {
        let text = "Pergunta;Resposta\r\nO que é?;R$ 4,8 milhões\r\n";
        let be: Vec<u8> = text.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let d = decode(&be, None);
        assert_eq!(
            (d.text.as_ref(), d.encoding.as_str(), d.bom),
            (text, "utf-16be", false)
        );
        assert!(
            d.note
                .unwrap()
                .contains("big-endian without a byte order mark")
        );
    }

    #[test]
    fn utf8_garbled_twice_is_reported_not_changed() {
        let text = "Pergunta;Resposta\nNÃ£o Ã© isso;OpÃ§Ã£o\n";
        let d = decode(text.as_bytes(), None);
        assert_eq!((d.text.as_ref(), d.encoding.as_str()), (text, "utf-8"));
        let w = d.warning.unwrap();
        assert!(w.contains("on line 2 (`NÃ£o`)"), "{w}");
        assert!(w.contains("converted twice"), "{w}");
        // One `Ã©` in a name is not garbling.
        assert_eq!(decode("Ã© ok".as_bytes(), None).warning, None);
    }

    /// The scan as first written, a character at a time.
    fn garbled_reference(text: &str) -> Option<(char, u64, String)> {
        let continuation = |n: char| {
            ('\u{80}'..='\u{BF}').contains(&n) || "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ".contains(n)
        };
        let mut hits = Chars::new(text)
            .filter(|(_, _, c, n, _)| matches!(c, 'Ã' | 'Â') && n.is_some_and(continuation));
        let (at, _, c, _, line) = hits.next()?;
        hits.next()?;
        Some((c, line, word_around(text, at)))
    }

    #[test]
    fn garbling_is_found_where_the_character_scan_finds_it() {
        for text in [
            "a\r\nb\rc\n\nÂ\u{a0}x Ã© y",
            "Ã© alone",
            "\r\r\nÃ\u{80}Ã\u{80}",
            "sem nada: ação, opção\n",
            "Ã",
            "ÂÃ©Â€",
        ] {
            let found = garbled_utf8(text).map(|s| (s.ch, s.line, s.excerpt));
            assert_eq!(found, garbled_reference(text), "{text:?}");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config {
            rng_seed: proptest::test_runner::RngSeed::Fixed(2026),
            failure_persistence: None,
            ..proptest::test_runner::Config::default()
        })]

        #[test]
        fn garbling_scan_agrees_on_any_text(
            parts in proptest::collection::vec(
                "Ã|Â|©|£|\u{80}|€|—|\r|\n|\r\n|a|ç| |;",
                0..40,
            )
        ) {
            let text = parts.concat();
            let found = garbled_utf8(&text).map(|s| (s.ch, s.line, s.excerpt));
            proptest::prop_assert_eq!(found, garbled_reference(&text));
        }
    }

    #[test]
    fn office_labels_resolve() {
        for (label, enc) in [
            ("macintosh", MACINTOSH),
            ("mac-roman", MACINTOSH),
            ("MacRoman", MACINTOSH),
            ("x-mac-roman", MACINTOSH),
            ("cp1252", WINDOWS_1252),
            ("latin1", WINDOWS_1252),
            ("ISO-8859-1", WINDOWS_1252),
            ("utf-16le", UTF_16LE),
            ("utf-16be", UTF_16BE),
            ("utf8", UTF_8),
        ] {
            assert_eq!(for_label(label), Some(enc), "{label}");
        }
    }

    /// One short line each, so every accent must carry the choice on its own.
    const LINES: &[&str] = &[
        "Você já pagou?",
        "Não.",
        "Ação fiscal",
        "É obrigatório",
        "Índice de preços",
        "Órgão público",
        "Úteis: três dias",
        "Àquela época",
        "A opção é válida",
        "Exceção à regra",
        "Lançamentos contábeis",
        "Contribuição previdenciária",
        "Pôde optar? Sim, até março",
        "Nº 123, art. 3º, § 1º",
        "Atenção: alíquota de 4,5%",
        "ÀS VEZES É ASSIM, NÃO?",
        "R$ 4,8 milhões",
        "Alíneas e incisos",
        "Cônjuge e dependentes",
        "Saúde e educação",
    ];

    #[test]
    fn every_portuguese_accent_picks_the_right_legacy_encoding_alone() {
        for line in LINES {
            let bytes = cp1252(line);
            let d = decode(&bytes, None);
            assert_eq!(
                (d.text.as_ref(), d.encoding.as_str(), d.warning.as_deref()),
                (*line, "windows-1252", None),
                "cp1252 {line}"
            );
            let bytes = mac(line);
            let d = decode(&bytes, None);
            assert_eq!(
                (d.text.as_ref(), d.encoding.as_str(), d.warning.as_deref()),
                (*line, "macintosh", None),
                "mac {line}"
            );
        }
    }
}
