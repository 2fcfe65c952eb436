//! Text encodings: a byte order mark wins, then valid UTF-8, then a guess by chardetng
//! weighted for Brazilian text (so a file saved by Excel on Windows reads as Windows-1252,
//! with its curly quotes, en dashes and `º` intact).

use std::borrow::Cow;

use encoding_rs::{Encoding, UTF_8, UTF_16BE, UTF_16LE, WINDOWS_1252};

use crate::FormatError;

/// Text decoded from a file, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded<'a> {
    pub text: Cow<'a, str>,
    /// Lowercase encoding name: `utf-8`, `utf-16le`, `windows-1252`…
    pub encoding: String,
    /// Whether a byte order mark was found (and removed).
    pub bom: bool,
}

/// Resolves an `--encoding` label (`latin1`, `cp1252`, `utf-8`, `utf-16le`…).
///
/// ISO-8859-1 labels resolve to Windows-1252, its superset, as browsers do: files
/// labelled Latin-1 in the wild almost always hold Windows-1252 quotes and dashes.
pub fn for_label(label: &str) -> Option<&'static Encoding> {
    Encoding::for_label_no_replacement(label.trim().as_bytes())
}

/// The encoding a label names, or an error naming the file.
pub(crate) fn resolve(label: &str, file: &str) -> Result<&'static Encoding, FormatError> {
    for_label(label).ok_or_else(|| FormatError::UnknownEncoding {
        file: file.to_owned(),
        label: label.to_owned(),
    })
}

/// Decodes a whole file. `forced` overrides detection (a byte order mark still wins,
/// since it cannot be wrong about the bytes that follow it).
pub fn decode<'a>(bytes: &'a [u8], forced: Option<&'static Encoding>) -> Decoded<'a> {
    let (encoding, bom) = match Encoding::for_bom(bytes) {
        Some((enc, _)) => (enc, true),
        None => (forced.unwrap_or_else(|| detect(bytes)), false),
    };
    // `decode` removes the BOM it sniffed; malformed sequences become U+FFFD.
    let (text, used, _) = encoding.decode(bytes);
    Decoded {
        text,
        encoding: name(used),
        bom,
    }
}

fn name(enc: &'static Encoding) -> String {
    enc.name().to_ascii_lowercase()
}

/// Guesses the encoding of BOM-less bytes.
fn detect(bytes: &[u8]) -> &'static Encoding {
    if std::str::from_utf8(bytes).is_ok() {
        return UTF_8;
    }
    if let Some(enc) = utf16_without_bom(bytes) {
        return enc;
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(bytes, true);
    let guess = detector.guess(Some(b"br"), chardetng::Utf8Detection::Allow);
    // Brazilian files that are not UTF-8 are Windows-1252 (Excel and Notepad on Windows).
    // A single-byte guess is weak on short Portuguese text (chardetng may say windows-1250
    // or ISO-8859-2 for a few accents), so only a legacy multi-byte guess, whose byte
    // structure chardetng has checked, is taken over Windows-1252.
    if guess.is_single_byte() {
        WINDOWS_1252
    } else {
        guess
    }
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
}
