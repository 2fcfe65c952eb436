//! Delimited text (CSV, TSV) with a header row, in any common encoding and delimiter.

use afinar_core::Origin;

pub use super::table::HEADER_SEARCH_ROWS;
use super::table::{self, Row};
use super::{ReadOptions, ReadOutput, SourceInfo, encoding};
use crate::FormatError;

/// The delimiters tried when none is given, in order of preference on a tie.
pub const CANDIDATE_DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];
/// How many records delimiter sniffing looks at.
const SNIFF_RECORDS: usize = 40;
/// How much text delimiter sniffing looks at.
const SNIFF_BYTES: usize = 64 * 1024;

/// Reads delimited text. The encoding is `opts.encoding` or detected (see
/// [`super::encoding`]); the delimiter is `opts.delimiter` or sniffed. The header is the
/// first row, within the first [`HEADER_SEARCH_ROWS`], that names a question and an
/// answer column; title rows above it are skipped and reported, blank rows anywhere are
/// skipped.
pub fn read_bytes(bytes: &[u8], file: &str, opts: &ReadOptions) -> Result<ReadOutput, FormatError> {
    let forced = opts
        .encoding
        .as_deref()
        .map(|l| encoding::resolve(l, file))
        .transpose()?;
    let decoded = encoding::decode(bytes, forced);
    read_str(
        &decoded.text,
        file,
        opts,
        SourceInfo {
            encoding: decoded.encoding,
            bom: decoded.bom,
            ..Default::default()
        },
    )
}

/// Reads decoded delimited text; `info` carries what decoding learnt.
pub fn read_str(
    body: &str,
    file: &str,
    opts: &ReadOptions,
    info: SourceInfo,
) -> Result<ReadOutput, FormatError> {
    let delimiter = opts
        .delimiter
        .or_else(|| sniff_delimiter(body))
        .unwrap_or(b',');
    let rows = records(body, file, delimiter)?;
    let mut out = ReadOutput {
        info: SourceInfo {
            format: if delimiter == b'\t' { "tsv" } else { "csv" }.into(),
            delimiter: Some(delimiter),
            ..info
        },
        ..Default::default()
    };
    table::read_rows(
        &rows,
        file,
        opts,
        |n, row| Origin::record(file, n, row.at),
        &mut out,
    )?;
    Ok(out)
}

/// Picks the delimiter from the first records: the candidate that splits most of them
/// into the same number of fields (more than one). Quotes are respected, so a `;` inside
/// a quoted cell does not count. `None` when no candidate splits anything.
pub fn sniff_delimiter(body: &str) -> Option<u8> {
    let mut end = body.len().min(SNIFF_BYTES);
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    let sample = &body[..end];
    let mut best: Option<(usize, usize, u8)> = None;
    for d in CANDIDATE_DELIMITERS {
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(d)
            .from_reader(sample.as_bytes());
        let counts: Vec<usize> = reader
            .records()
            .take(SNIFF_RECORDS)
            .filter_map(Result::ok)
            .filter(|r| r.iter().any(|f| !f.trim().is_empty()))
            .map(|r| r.len())
            .collect();
        // The most common field count above one; the larger count on a tie.
        let mut mode: Option<(usize, usize)> = None;
        for &c in counts.iter().filter(|c| **c > 1) {
            let n = counts.iter().filter(|x| **x == c).count();
            if mode.is_none_or(|(mn, mc)| (n, c) > (mn, mc)) {
                mode = Some((n, c));
            }
        }
        if let Some((n, c)) = mode
            && best.is_none_or(|(bn, bc, _)| (n, c) > (bn, bc))
        {
            best = Some((n, c, d));
        }
    }
    best.map(|(_, _, d)| d)
}

fn records(body: &str, file: &str, delimiter: u8) -> Result<Vec<Row>, FormatError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(body.as_bytes());
    let mut rows: Vec<Row> = Vec::new();
    let mut starts: Vec<usize> = Vec::new();
    let mut record = csv::StringRecord::new();
    // The csv crate's own line numbers are off by one after CRLF (a record "starts" at the
    // LF of the previous terminator), so lines are counted here from byte offsets.
    let (mut counted_to, mut line) = (0usize, 1u64);
    let mut line_at = |offset: usize| {
        let offset = offset.min(body.len());
        line += body.as_bytes()[counted_to..offset]
            .iter()
            .filter(|b| **b == b'\n')
            .count() as u64;
        counted_to = offset;
        line
    };
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let mut start = record.position().map_or(0, |p| p.byte() as usize);
                while body
                    .as_bytes()
                    .get(start)
                    .is_some_and(|b| *b == b'\r' || *b == b'\n')
                {
                    start += 1;
                }
                let line = line_at(start);
                starts.push(start);
                rows.push(Row {
                    fields: record.iter().map(str::to_owned).collect(),
                    at: line,
                    raw: String::new(),
                });
            }
            Err(source) => {
                let line = line_at(source.position().map_or(body.len(), |p| p.byte() as usize));
                return Err(FormatError::Csv {
                    file: file.to_owned(),
                    line,
                    source,
                });
            }
        }
    }
    for (i, row) in rows.iter_mut().enumerate() {
        let (start, end) = (starts[i], starts.get(i + 1).copied().unwrap_or(body.len()));
        row.raw = body
            .get(start..end)
            .unwrap_or("")
            .trim_end_matches(['\r', '\n'])
            .to_owned();
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(s: &str) -> ReadOutput {
        read_bytes(s.as_bytes(), "faq.csv", &ReadOptions::default()).unwrap()
    }

    #[test]
    fn reads_quoted_multiline_cells_and_keeps_other_columns_as_meta() {
        let out = read(
            "Tema,Pergunta,Resposta\r\nMEI,\"Qual o limite?\",\"R$ 81 mil.\r\nPor ano, \"\"bruto\"\".\"\r\n,,\r\nDAS,O que é?,A guia\r\n",
        );
        assert_eq!(out.rejects, vec![]);
        assert_eq!(out.examples.len(), 2);
        assert_eq!(
            out.examples[0].answer(),
            Some("R$ 81 mil.\nPor ano, \"bruto\".")
        );
        assert_eq!(out.examples[0].meta["Tema"], "MEI");
        assert_eq!(out.examples[1].origin.to_string(), "faq.csv:5");
        assert_eq!(
            (out.info.rows, out.info.blank, out.info.header_line),
            (2, 1, Some(1))
        );
        assert_eq!(out.info.question_column.as_deref(), Some("Pergunta"));
    }

    #[test]
    fn empty_cells_are_rejects_with_record_and_line() {
        let out = read("Pergunta,Resposta\nA?,\n,B\n\"C?\",\"\u{200B}\"\nD?,E,extra\nF?,G\n");
        let got: Vec<_> = out
            .rejects
            .iter()
            .map(|r| (r.origin.clone(), r.reason.as_str(), r.raw.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    Origin::record("faq.csv", 1, 2),
                    "Empty answer in column `Resposta`",
                    "A?,"
                ),
                (
                    Origin::record("faq.csv", 2, 3),
                    "Empty question in column `Pergunta`",
                    ",B"
                ),
                (
                    Origin::record("faq.csv", 3, 4),
                    "Empty answer in column `Resposta`",
                    "\"C?\",\"\u{200B}\""
                ),
                (
                    Origin::record("faq.csv", 4, 5),
                    "Row has 3 fields but the header has 2; check the delimiter and the quoting",
                    "D?,E,extra"
                ),
            ]
        );
        assert_eq!(out.examples.len(), 1);
    }

    #[test]
    fn title_rows_above_the_header_are_skipped_and_reported() {
        let out = read("FAQ Simples Nacional,\n,\nPergunta,Resposta\nA?,B\n");
        assert_eq!(out.info.header_line, Some(3));
        assert_eq!(out.info.skipped_above_header, vec![1]);
        assert_eq!(out.examples.len(), 1);
        assert_eq!(out.examples[0].origin.to_string(), "faq.csv:4");
    }

    #[test]
    fn text_that_is_not_utf8_is_read_as_windows_1252() {
        let out = read_bytes(
            b"Pergunta,Resposta\nA,\xE9 \x93x\x94 \x96 n\xBA\n",
            "faq.csv",
            &ReadOptions::default(),
        )
        .unwrap();
        assert_eq!(out.info.encoding, "windows-1252");
        assert_eq!(out.examples[0].answer(), Some("é “x” – nº"));
    }

    #[test]
    fn an_unknown_encoding_label_is_an_error() {
        let opts = ReadOptions {
            encoding: Some("klingon".into()),
            ..Default::default()
        };
        let err = read_bytes(b"a,b\n", "faq.csv", &opts).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("`faq.csv`: unknown encoding `klingon`"),
            "{err}"
        );
    }

    proptest::proptest! {
        // A fixed seed and no persisted failures: a green run stays green (same cases
        // every run, on every machine).
        #![proptest_config(proptest::test_runner::Config {
            rng_seed: proptest::test_runner::RngSeed::Fixed(2026),
            failure_persistence: None,
            ..proptest::test_runner::Config::default()
        })]

        /// Any bytes are decoded and read without a panic: examples, rejects or an error.
        #[test]
        fn any_bytes_read_without_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let _ = read_bytes(&bytes, "x.csv", &ReadOptions::default());
        }

        /// Semicolon tables with commas in the cells are always sniffed as `;`.
        #[test]
        fn semicolons_win_over_commas_in_cells(cells in proptest::collection::vec("[a-z]{1,5}(, [a-z]{1,5}){0,2}", 6..30)) {
            let mut body = String::from("Pergunta;Resposta;Tema\r\n");
            for row in cells.chunks_exact(3) {
                body.push_str(&row.join(";"));
                body.push_str("\r\n");
            }
            proptest::prop_assert_eq!(sniff_delimiter(&body), Some(b';'));
        }
    }

    #[test]
    fn sniffs_the_delimiter_respecting_quotes() {
        assert_eq!(
            sniff_delimiter("Pergunta;Resposta\nA?;R$ 4,8 milh\u{f5}es, ou mais\nB?;C\n"),
            Some(b';')
        );
        assert_eq!(
            sniff_delimiter("Pergunta,Resposta\n\"A; b?\",\"c; d; e\"\n"),
            Some(b',')
        );
        assert_eq!(
            sniff_delimiter("T\u{ed}tulo\n\nPergunta\tResposta\tTema\nA\tB\tC\n"),
            Some(b'\t')
        );
        assert_eq!(
            sniff_delimiter("Pergunta|Resposta\nA, b|c; d\n"),
            Some(b'|')
        );
        assert_eq!(sniff_delimiter("uma linha s\u{f3}\n"), None);
        // A multi-line quoted cell full of commas does not outvote the real `;`.
        let body = "Tema;Pergunta;Resposta\r\nMEI;\"Qual, afinal, o limite?\";\"R$ 81 mil,\r\npor ano, bruto.\"\r\nDAS;O que \u{e9}?;A guia\r\n";
        assert_eq!(sniff_delimiter(body), Some(b';'));
        let out = read(body);
        assert_eq!(out.info.delimiter, Some(b';'));
        assert_eq!(
            out.examples[0].answer(),
            Some("R$ 81 mil,\npor ano, bruto.")
        );
    }

    #[test]
    fn no_header_is_explained() {
        let err = read_bytes(b"", "faq.csv", &ReadOptions::default()).unwrap_err();
        assert_eq!(err.to_string(), "`faq.csv` is empty: it has no header row");
        let err = read_bytes(b"a,b\n1,2\n", "faq.csv", &ReadOptions::default()).unwrap_err();
        assert!(
            err.to_string()
                .contains("no column that looks like a question; found `a`, `b`")
        );
    }
}
