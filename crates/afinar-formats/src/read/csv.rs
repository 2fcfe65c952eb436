//! Delimited text (CSV, TSV) with a header row.

use afinar_core::{Example, Origin};

use super::{ReadOptions, ReadOutput, SourceInfo, strip_bom, text};
use crate::columns::{self, ColumnMap};
use crate::{FormatError, Reject};

/// How far down the header row is looked for.
pub const HEADER_SEARCH_ROWS: usize = 20;

/// One record as read, with where it starts.
struct Row {
    fields: Vec<String>,
    line: u64,
    start: usize,
    end: usize,
}

impl Row {
    fn is_blank(&self) -> bool {
        self.fields.iter().all(|f| f.trim().is_empty())
    }
}

/// Reads UTF-8 delimited text. The header is the first row, within the first
/// [`HEADER_SEARCH_ROWS`], that names a question and an answer column; title rows above
/// it are skipped and reported, blank rows anywhere are skipped.
pub fn read_bytes(bytes: &[u8], file: &str, opts: &ReadOptions) -> Result<ReadOutput, FormatError> {
    let (body, bom) = strip_bom(bytes);
    let body = std::str::from_utf8(body).map_err(|e| FormatError::NotUtf8 {
        file: file.to_owned(),
        line: body[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() as u64 + 1,
    })?;
    let delimiter = opts.delimiter.unwrap_or(b',');
    let rows = records(body, file, delimiter)?;
    let mut out = ReadOutput {
        info: SourceInfo {
            format: if delimiter == b'\t' { "tsv" } else { "csv" }.into(),
            encoding: "utf-8".into(),
            delimiter: Some(delimiter),
            bom,
            ..Default::default()
        },
        ..Default::default()
    };
    let Some(header_at) = find_header(&rows, opts) else {
        return Err(FormatError::NoHeader { file: file.to_owned() });
    };
    let header = &rows[header_at];
    let map = columns::detect(file, &header.fields, opts.question.as_deref(), opts.answer.as_deref())?;
    out.info.header_line = Some(header.line);
    out.info.question_column = Some(header.fields[map.question].trim().to_owned());
    out.info.answer_column = Some(header.fields[map.answer].trim().to_owned());
    for row in &rows[..header_at] {
        if row.is_blank() {
            out.info.blank += 1;
        } else {
            out.info.skipped_above_header.push(row.line);
        }
    }
    for (n, row) in rows[header_at + 1..].iter().enumerate() {
        if row.is_blank() {
            out.info.blank += 1;
            continue;
        }
        out.info.rows += 1;
        let origin = Origin::record(file, n as u64 + 1, row.line);
        let raw = body[row.start..row.end].trim_end_matches(['\r', '\n']);
        match example(row, &header.fields, &map, origin.clone(), opts) {
            Ok(ex) => out.examples.push(ex),
            Err(reason) => out.rejects.push(Reject::new(origin, reason, raw)),
        }
    }
    Ok(out)
}

fn records(body: &str, file: &str, delimiter: u8) -> Result<Vec<Row>, FormatError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter)
        .from_reader(body.as_bytes());
    let mut rows: Vec<Row> = Vec::new();
    let mut record = csv::StringRecord::new();
    // The csv crate's own line numbers are off by one after CRLF (a record "starts" at the
    // LF of the previous terminator), so lines are counted here from byte offsets.
    let (mut counted_to, mut line) = (0usize, 1u64);
    let mut line_at = |offset: usize| {
        let offset = offset.min(body.len());
        line += body.as_bytes()[counted_to..offset].iter().filter(|b| **b == b'\n').count() as u64;
        counted_to = offset;
        line
    };
    loop {
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let mut start = record.position().map_or(0, |p| p.byte() as usize);
                while body.as_bytes().get(start).is_some_and(|b| *b == b'\r' || *b == b'\n') {
                    start += 1;
                }
                let line = line_at(start);
                if let Some(prev) = rows.last_mut() {
                    prev.end = start;
                }
                rows.push(Row {
                    fields: record.iter().map(str::to_owned).collect(),
                    line,
                    start,
                    end: body.len(),
                });
            }
            Err(source) => {
                let line = line_at(source.position().map_or(body.len(), |p| p.byte() as usize));
                return Err(FormatError::Csv { file: file.to_owned(), line, source });
            }
        }
    }
    Ok(rows)
}

fn find_header(rows: &[Row], opts: &ReadOptions) -> Option<usize> {
    let wanted: Vec<String> =
        [&opts.question, &opts.answer].into_iter().flatten().map(|w| columns::fold(w)).collect();
    let candidates = || rows.iter().enumerate().take(HEADER_SEARCH_ROWS).filter(|(_, r)| !r.is_blank());
    candidates()
        .find(|(_, r)| {
            if wanted.is_empty() {
                columns::looks_like_header(&r.fields)
            } else {
                wanted.iter().all(|w| r.fields.iter().any(|f| columns::fold(f) == *w))
            }
        })
        .or_else(|| candidates().next())
        .map(|(i, _)| i)
}

fn example(
    row: &Row,
    header: &[String],
    map: &ColumnMap,
    origin: Origin,
    opts: &ReadOptions,
) -> Result<Example, String> {
    let cell = |i: usize| row.fields.get(i).map_or("", String::as_str);
    if row.fields.len() > header.len() && row.fields[header.len()..].iter().any(|f| !f.trim().is_empty()) {
        return Err(format!(
            "Row has {} fields but the header has {}; check the delimiter and the quoting",
            row.fields.len(),
            header.len()
        ));
    }
    let question = text(cell(map.question), opts);
    let answer = text(cell(map.answer), opts);
    let (qname, aname) = (header[map.question].trim(), header[map.answer].trim());
    match (question.is_empty(), answer.is_empty()) {
        (true, true) => return Err(format!("Empty question (`{qname}`) and answer (`{aname}`)")),
        (true, false) => return Err(format!("Empty question in column `{qname}`")),
        (false, true) => return Err(format!("Empty answer in column `{aname}`")),
        (false, false) => {}
    }
    let mut ex = Example::single_turn(None, question, answer, origin);
    for &i in &map.meta {
        let value = cell(i).trim();
        if !value.is_empty() {
            ex.meta.insert(header[i].trim().to_owned(), value.to_owned());
        }
    }
    Ok(ex)
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
        assert_eq!(out.examples[0].answer(), Some("R$ 81 mil.\nPor ano, \"bruto\"."));
        assert_eq!(out.examples[0].meta["Tema"], "MEI");
        assert_eq!(out.examples[1].origin.to_string(), "faq.csv:5");
        assert_eq!((out.info.rows, out.info.blank, out.info.header_line), (2, 1, Some(1)));
        assert_eq!(out.info.question_column.as_deref(), Some("Pergunta"));
    }

    #[test]
    fn empty_cells_are_rejects_with_record_and_line() {
        let out = read("Pergunta,Resposta\nA?,\n,B\n\"C?\",\"\u{200B}\"\nD?,E,extra\nF?,G\n");
        let got: Vec<_> = out.rejects.iter().map(|r| (r.origin.clone(), r.reason.as_str(), r.raw.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (Origin::record("faq.csv", 1, 2), "Empty answer in column `Resposta`", "A?,"),
                (Origin::record("faq.csv", 2, 3), "Empty question in column `Pergunta`", ",B"),
                (Origin::record("faq.csv", 3, 4), "Empty answer in column `Resposta`", "\"C?\",\"\u{200B}\""),
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
    fn not_utf8_is_an_error_naming_the_line() {
        let err = read_bytes(b"Pergunta,Resposta\nA,\xE9\n", "faq.csv", &ReadOptions::default()).unwrap_err();
        assert_eq!(err.to_string(), "`faq.csv` is not valid UTF-8 at line 2");
    }

    #[test]
    fn no_header_is_explained() {
        let err = read_bytes(b"", "faq.csv", &ReadOptions::default()).unwrap_err();
        assert_eq!(err.to_string(), "`faq.csv` is empty: it has no header row");
        let err = read_bytes(b"a,b\n1,2\n", "faq.csv", &ReadOptions::default()).unwrap_err();
        assert!(err.to_string().contains("no column that looks like a question; found `a`, `b`"));
    }
}
