//! Delimited text (CSV, TSV) with a header row, in any common encoding and delimiter.

use std::cmp::Reverse;

use afinar_core::progress::{Progress, Silent};
use afinar_core::{Example, Origin};
use rayon::prelude::*;

pub use super::table::HEADER_SEARCH_ROWS;
use super::table::{self, Row};
use super::{BATCH_ROWS, Batch, ReadOptions, ReadOutput, SourceInfo, encoding};
use crate::{FormatError, Reject};

/// The delimiters tried when none is given, in order of preference on a tie.
pub const CANDIDATE_DELIMITERS: [u8; 4] = [b',', b';', b'\t', b'|'];
/// How many records delimiter sniffing looks at.
const SNIFF_RECORDS: usize = 40;
/// How much text delimiter sniffing looks at: enough for a few huge quoted answers.
const SNIFF_BYTES: usize = 1 << 20;

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
            notes: decoded.note.into_iter().collect(),
            warnings: decoded.warning.into_iter().collect(),
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
    let mut out = ReadOutput::default();
    out.info = stream_str(body, file, opts, info, &Silent, |batch: Batch| {
        out.examples.extend(batch.examples);
        out.rejects.extend(batch.rejects);
        Ok::<(), FormatError>(())
    })?;
    Ok(out)
}

/// [`read_str`] in batches of [`BATCH_ROWS`] rows, each batch handed to `sink` in order
/// as soon as it is read (its rows made into examples in parallel), so only the text and
/// one batch are held. Gives what was learnt about the source once it was all read.
/// `progress` counts bytes of `body`.
pub fn stream_str<E: From<FormatError>>(
    body: &str,
    file: &str,
    opts: &ReadOptions,
    info: SourceInfo,
    progress: &dyn Progress,
    sink: impl FnMut(Batch) -> Result<(), E>,
) -> Result<SourceInfo, E> {
    stream_batches(body, file, opts, info, progress, BATCH_ROWS, sink)
}

/// [`stream_str`] with `batch_rows` rows a batch.
fn stream_batches<E: From<FormatError>>(
    body: &str,
    file: &str,
    opts: &ReadOptions,
    info: SourceInfo,
    progress: &dyn Progress,
    batch_rows: usize,
    mut sink: impl FnMut(Batch) -> Result<(), E>,
) -> Result<SourceInfo, E> {
    let delimiter = opts
        .delimiter
        .or_else(|| sniff_delimiter(body))
        .unwrap_or(b',');
    let mut info = SourceInfo {
        format: if delimiter == b'\t' { "tsv" } else { "csv" }.into(),
        delimiter: Some(delimiter),
        ..info
    };
    let mut records = Records::new(body, file, delimiter);
    // The header is looked for in the first rows, and the next non-blank row after them
    // (which tells a title in header words from the header under it).
    let mut head: Vec<Row> = Vec::new();
    while head.len() <= HEADER_SEARCH_ROWS || head.last().is_some_and(Row::is_blank) {
        match records.next() {
            Some(row) => head.push(row?),
            None => break,
        }
    }
    let (mut table, first) = table::Table::start(&head, file, opts, &mut info)?;
    let mut rows: Vec<Row> = head.split_off(first);
    drop(head);
    let batch_rows = batch_rows.max(1);
    fill_rows(&mut records, &mut rows, batch_rows)?;
    let mut done = 0;
    while !rows.is_empty() {
        let numbered: Vec<(Origin, &Row)> = rows
            .iter()
            .filter_map(|row| table.number(row, &mut info))
            .map(|(n, row)| (Origin::record(file, n, row.at), row))
            .collect();
        let read_to = records.offset();
        // The next batch is parsed while this one's rows become examples: parsing is
        // sequential, and waited for it the cores sat idle.
        let mut next = Vec::with_capacity(rows.len());
        let (made, filled) = rayon::join(
            || {
                numbered
                    .into_par_iter()
                    .map(|(origin, row)| table.example(row, origin, opts))
                    .collect::<Vec<Result<Example, Reject>>>()
            },
            || fill_rows(&mut records, &mut next, batch_rows),
        );
        let mut batch = Batch::default();
        for m in made {
            match m {
                Ok(ex) => batch.examples.push(ex),
                Err(reject) => batch.rejects.push(reject),
            }
        }
        progress.advance((read_to - done) as u64);
        done = read_to;
        sink(batch)?;
        filled?;
        rows = next;
    }
    // The csv crate ends records at CR, LF or CRLF alike; said, since old Mac files
    // (CR only) are easily mistaken for one-line files by other tools.
    if body.contains('\r') && !body.contains('\n') && records.count > 1 {
        info.notes
            .push("line ends are CR only (classic Mac OS); read one record per CR".into());
    }
    Ok(info)
}

/// Reads records into `rows` until it holds `batch_rows` or the text ends.
fn fill_rows(
    records: &mut Records<'_>,
    rows: &mut Vec<Row>,
    batch_rows: usize,
) -> Result<(), FormatError> {
    while rows.len() < batch_rows {
        match records.next() {
            Some(row) => rows.push(row?),
            None => break,
        }
    }
    Ok(())
}

/// Picks the delimiter from the first records, read with quotes understood (a `,` inside
/// a quoted cell is no delimiter). What counts, in order: that the delimiter splits a row
/// near the top into a question/answer header; then how many of the records under that
/// header (or, without one, of all records) have the same number of fields as it; then
/// that number. Raw character counts never count, so one huge quoted answer full of
/// commas does not outvote the `;` of every row. `None` when no candidate splits anything.
pub fn sniff_delimiter(body: &str) -> Option<u8> {
    let mut end = body.len().min(SNIFF_BYTES);
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    let sample = &body[..end];
    let truncated = end < body.len();
    let mut best: Option<(DelimiterScore, u8)> = None;
    for d in CANDIDATE_DELIMITERS {
        if let Some(score) = score_delimiter(sample, truncated, d)
            && best.as_ref().is_none_or(|(b, _)| score > *b)
        {
            best = Some((score, d));
        }
    }
    best.map(|(_, d)| d)
}

/// How well a delimiter splits a sample; compared field by field, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct DelimiterScore {
    /// A row near the top splits into a question/answer header.
    header: bool,
    /// Records (under the header, if any) with the header's (else the most common)
    /// number of fields.
    agreeing: usize,
    /// Records there with another number, fewer being better.
    disagreeing: Reverse<usize>,
    /// The header's record, earlier being better: a "header" deep in the data is cells
    /// that happen to read `a` and `p`.
    header_at: Reverse<usize>,
    /// That number of fields.
    fields: usize,
}

fn score_delimiter(sample: &str, truncated: bool, d: u8) -> Option<DelimiterScore> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(d)
        .from_reader(sample.as_bytes());
    let mut rows: Vec<Vec<String>> = Vec::new();
    for record in reader.records().take(SNIFF_RECORDS) {
        let Ok(record) = record else { break };
        if record.iter().any(|f| !f.trim().is_empty()) {
            rows.push(record.iter().map(str::to_owned).collect());
        }
    }
    // A record cut by the end of the sample has too few fields: not evidence.
    if truncated && rows.len() > 1 {
        rows.pop();
    }
    let counts: Vec<usize> = rows.iter().map(Vec::len).collect();
    let header = rows
        .iter()
        .take(HEADER_SEARCH_ROWS)
        .position(|r| crate::columns::looks_like_header(r));
    if let Some(h) = header {
        let fields = counts[h];
        let under = &counts[h + 1..];
        let agreeing = under.iter().filter(|c| **c == fields).count();
        return Some(DelimiterScore {
            header: true,
            agreeing,
            disagreeing: Reverse(under.len() - agreeing),
            header_at: Reverse(h),
            fields,
        });
    }
    // No header: the most common field count above one, the larger on a tie.
    let mut mode: Option<(usize, usize)> = None;
    for &c in counts.iter().filter(|c| **c > 1) {
        let n = counts.iter().filter(|x| **x == c).count();
        if mode.is_none_or(|(mn, mc)| (n, c) > (mn, mc)) {
            mode = Some((n, c));
        }
    }
    mode.map(|(n, fields)| DelimiterScore {
        header: false,
        agreeing: n,
        disagreeing: Reverse(counts.len() - n),
        header_at: Reverse(0),
        fields,
    })
}

/// The records of delimited text one by one, each with its line and its raw text (known
/// once the next record starts).
struct Records<'a> {
    reader: csv::Reader<&'a [u8]>,
    body: &'a str,
    file: &'a str,
    /// Bytes, not a `StringRecord`: the fields are pieces of `body`, UTF-8 already, and
    /// checked again by SIMD rather than by the csv crate's slower check.
    record: csv::ByteRecord,
    /// The record read but not yet given: its fields, line and start offset.
    pending: Option<(Vec<String>, u64, usize)>,
    counted_to: usize,
    line: u64,
    /// Records read so far.
    count: usize,
    done: bool,
}

impl<'a> Records<'a> {
    fn new(body: &'a str, file: &'a str, delimiter: u8) -> Self {
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(body.as_bytes());
        Records {
            reader,
            body,
            file,
            record: csv::ByteRecord::new(),
            pending: None,
            counted_to: 0,
            line: 1,
            count: 0,
            done: false,
        }
    }

    /// How far into the text the records given so far reach.
    fn offset(&self) -> usize {
        self.pending.as_ref().map_or(self.body.len(), |p| p.2)
    }

    /// The 1-based line of a byte offset. The csv crate's own line numbers are off by one
    /// after CRLF (a record "starts" at the LF of the previous terminator), so lines are
    /// counted here; a line ends at LF, CRLF or a lone CR (old Mac files).
    fn line_at(&mut self, offset: usize) -> u64 {
        let bytes = self.body.as_bytes();
        let offset = offset.min(bytes.len()).max(self.counted_to);
        self.line += super::line_ends(bytes, self.counted_to, offset) as u64;
        self.counted_to = offset;
        self.line
    }

    fn row(&self, (fields, at, start): (Vec<String>, u64, usize), end: usize) -> Row {
        Row {
            fields,
            at,
            raw: self
                .body
                .get(start..end)
                .unwrap_or("")
                .trim_end_matches(['\r', '\n'])
                .to_owned(),
        }
    }
}

impl Iterator for Records<'_> {
    type Item = Result<Row, FormatError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => {
                self.done = true;
                let end = self.body.len();
                self.pending.take().map(|p| Ok(self.row(p, end)))
            }
            Ok(true) => {
                let bytes = self.body.as_bytes();
                let mut start = self.record.position().map_or(0, |p| p.byte() as usize);
                while bytes.get(start).is_some_and(|b| *b == b'\r' || *b == b'\n') {
                    start += 1;
                }
                let line = self.line_at(start);
                self.count += 1;
                // Pieces of a `str` split at ASCII bytes: never invalid, so nothing is
                // ever replaced here.
                let fields = self
                    .record
                    .iter()
                    .map(|f| match simdutf8::basic::from_utf8(f) {
                        Ok(f) => f.to_owned(),
                        Err(_) => String::from_utf8_lossy(f).into_owned(),
                    })
                    .collect();
                match self.pending.replace((fields, line, start)) {
                    Some(previous) => Some(Ok(self.row(previous, start))),
                    None => self.next(),
                }
            }
            Err(source) => {
                self.done = true;
                let at = source
                    .position()
                    .map_or(self.body.len(), |p| p.byte() as usize);
                let line = self.line_at(at);
                Some(Err(FormatError::Csv {
                    file: self.file.to_owned(),
                    line,
                    source,
                }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(s: &str) -> ReadOutput {
        read_bytes(s.as_bytes(), "faq.csv", &ReadOptions::default()).unwrap()
    }

    /// Every batch size gives what one batch of the whole file gives: the same examples,
    /// rejects and info, in order, on messy text (title rows, blank rows, rejects,
    /// multi-line quoted cells, CRLF and CR-only line ends) and on the CSV fixtures.
    #[test]
    fn batches_of_any_size_read_as_the_whole_file() {
        let mut bodies = vec![
            "Perguntas do escritório;;\r\n;;\r\nTema;Pergunta;Resposta\r\nMEI;\"Qual o limite?\";\"R$ 81 mil,\r\npor ano.\"\r\n;;\r\nDAS;O que é?;\r\nDAS;;Só resposta\r\nIR;A?;B;extra\r\nIR;\"C?\";\"D \"\"E\"\"\"\r\n".to_owned(),
            "Pergunta;Resposta\rA?;B\r\rC?;\"D\rE\"\rF?;\r".to_owned(),
            huge_comma_answer(50),
        ];
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../fixtures/sources");
        for name in [
            "faq-cp1252.csv",
            "faq-huge-answer.csv",
            "faq-mac-roman-cr.csv",
        ] {
            let bytes = std::fs::read(format!("{dir}/{name}")).unwrap();
            bodies.push(encoding::decode(&bytes, None).text.into_owned());
        }
        for body in &bodies {
            let read = |batch_rows| {
                let mut out = ReadOutput::default();
                out.info = stream_batches(
                    body,
                    "faq.csv",
                    &ReadOptions::default(),
                    SourceInfo::default(),
                    &Silent,
                    batch_rows,
                    |b: Batch| {
                        out.examples.extend(b.examples);
                        out.rejects.extend(b.rejects);
                        Ok::<(), FormatError>(())
                    },
                )
                .unwrap();
                out
            };
            let whole = read(usize::MAX);
            assert!(!whole.examples.is_empty());
            for batch_rows in [1, 2, 3, 7] {
                let got = read(batch_rows);
                assert_eq!(got.examples, whole.examples, "{batch_rows} rows a batch");
                assert_eq!(got.rejects, whole.rejects, "{batch_rows} rows a batch");
                assert_eq!(got.info, whole.info, "{batch_rows} rows a batch");
            }
        }
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

    /// The issue's file: `;` everywhere, but the second record is one huge quoted answer
    /// full of commas over many lines.
    fn huge_comma_answer(lines: usize) -> String {
        let mut body =
            String::from("Pergunta;Resposta;Tema\r\n\"Quais são as regras do Simples?\";\"");
        for i in 0..lines {
            body.push_str(&format!(
                "Regra {i}: receita até R$ 4,8 milhões, sem sócio no exterior, sem débitos, com atividade permitida, e assim por diante,\r\n"
            ));
        }
        body.push_str("\";Regras\r\nO que é o DAS?;A guia, paga até o dia 20;DAS\r\n");
        body
    }

    #[test]
    fn one_huge_quoted_answer_full_of_commas_does_not_outvote_the_semicolons() {
        for lines in [3, 600, 12_000] {
            let body = huge_comma_answer(lines);
            assert_eq!(sniff_delimiter(&body), Some(b';'), "{lines} lines");
        }
        let out = read(&huge_comma_answer(600));
        assert_eq!(out.info.question_column.as_deref(), Some("Pergunta"));
        assert_eq!(out.examples.len(), 2);
        assert_eq!(out.examples[1].answer(), Some("A guia, paga até o dia 20"));
        assert!(
            out.examples[0]
                .answer()
                .unwrap()
                .ends_with("e assim por diante,")
        );
    }

    #[test]
    fn the_header_line_outweighs_prose_and_counts() {
        // A title full of commas above a `;` header.
        let body = "Perguntas frequentes, versão 2, revisada em março, pelo escritório\r\nPergunta;Resposta\r\nA?;Sim, com certeza, sempre\r\n";
        assert_eq!(sniff_delimiter(body), Some(b';'));
        // Without a header, the count that most records share wins.
        assert_eq!(sniff_delimiter("a;b,c\nd;e\nf;g,h\ni;j\n"), Some(b';'));
        let score = |header, agreeing, disagreeing, at, fields| DelimiterScore {
            header,
            agreeing,
            disagreeing: Reverse(disagreeing),
            header_at: Reverse(at),
            fields,
        };
        assert!(score(true, 1, 9, 0, 2) > score(false, 40, 0, 0, 9));
        assert!(score(true, 9, 1, 0, 2) > score(true, 1, 0, 3, 4));
        assert!(score(true, 9, 0, 0, 2) > score(true, 9, 1, 0, 2));
        assert!(score(true, 0, 0, 0, 3) > score(true, 0, 0, 5, 4));
        // Found by the property below: cells `a` and `p` (`A`nswer, `P`ergunta) in a
        // data row split by `,` read as a header under the real `;` one.
        let body =
            "Pergunta;Resposta;Tema\r\na;a;a\r\na;a;a\r\na;a;a\r\na;a;a\r\nb, a, a;a;a, p\r\n";
        assert_eq!(sniff_delimiter(body), Some(b';'));
    }

    #[test]
    fn cr_only_line_ends_are_lines_and_said() {
        let out = read("Pergunta;Resposta\rA?;B\r\rC?;\"D\rE\"\rF?;\r");
        let got: Vec<String> = out.examples.iter().map(|e| e.origin.to_string()).collect();
        assert_eq!(got, vec!["faq.csv:2", "faq.csv:4"]);
        assert_eq!(out.examples[1].answer(), Some("D\nE"));
        assert_eq!(out.rejects[0].origin.to_string(), "faq.csv:6");
        assert_eq!(
            out.info.notes,
            vec!["line ends are CR only (classic Mac OS); read one record per CR".to_owned()]
        );
    }

    #[test]
    fn a_title_or_prose_row_is_never_the_header() {
        // The title names questions and answers in one cell; the header is below it.
        let out = read(
            "Perguntas e respostas sobre o MEI, versão de março,,\r\nTema,Pergunta,Resposta\r\nMEI,A?,B\r\n",
        );
        assert_eq!(out.info.header_line, Some(2));
        assert_eq!(out.info.skipped_above_header, vec![1]);
        // A title in header words directly above the real header gives way to it.
        let out = read("Perguntas frequentes;Respostas revisadas\nPergunta;Resposta\nA?;B\n");
        assert_eq!((out.info.header_line, out.examples.len()), (Some(2), 1));
        // No Q/A header: the error names the labels row, not the title above it.
        let err = read_bytes(
            "Planilha do escritório, versão final.\nAssunto;Texto\nA;B\n".as_bytes(),
            "faq.csv",
            &ReadOptions::default(),
        )
        .unwrap_err();
        assert!(
            err.to_string().contains("found `Assunto`, `Texto`"),
            "{err}"
        );
    }
}
