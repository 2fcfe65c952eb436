//! Rows of cells with a header row near the top: what delimited text and spreadsheets
//! share. The header is the first row, within the first [`HEADER_SEARCH_ROWS`], that
//! names a question and an answer column; non-blank rows above it (titles) are skipped and
//! reported, blank rows anywhere are skipped and counted.

use afinar_core::limits::{MAX_CELL_BYTES, human_bytes};
use afinar_core::{Example, Locator, Origin};

use super::{ReadOptions, ReadOutput, SourceInfo, text};
use crate::columns::{self, ColumnMap};
use crate::{FormatError, Reject};

/// How far down the header row is looked for.
pub const HEADER_SEARCH_ROWS: usize = 20;

/// One row as read.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub fields: Vec<String>,
    /// The 1-based line (delimited text) or row (spreadsheet) it starts on.
    pub at: u64,
    /// The row as it appears in the source, for rejects.
    pub raw: String,
}

impl Row {
    pub fn is_blank(&self) -> bool {
        self.fields.iter().all(|f| f.trim().is_empty())
    }
}

/// What the first rows of a sheet (or file) hold, for choosing among sheets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// A question/answer header on this row (as the source numbers it), data under it.
    Header(u64),
    /// A question/answer header with no rows under it.
    HeaderOnly(u64),
    /// Rows, none of them a question/answer header within the search window.
    NoHeader,
    /// No non-blank row at all.
    Empty,
}

/// Whether, and where, `rows` have the header the options ask for.
pub(crate) fn verdict(rows: &[Row], opts: &ReadOptions) -> Verdict {
    if rows.iter().all(Row::is_blank) {
        return Verdict::Empty;
    }
    match find_header(rows, opts) {
        Some(i) if is_header(&rows[i], opts) => {
            if rows[i + 1..].iter().any(|r| !r.is_blank()) {
                Verdict::Header(rows[i].at)
            } else {
                Verdict::HeaderOnly(rows[i].at)
            }
        }
        _ => Verdict::NoHeader,
    }
}

fn candidates(rows: &[Row]) -> impl Iterator<Item = (usize, &Row)> {
    rows.iter()
        .enumerate()
        .take(HEADER_SEARCH_ROWS)
        .filter(|(_, r)| !r.is_blank())
}

fn is_header(row: &Row, opts: &ReadOptions) -> bool {
    strength(row, opts).is_some()
}

/// How clearly a row is the header: by the names `--question`/`--answer` give (all
/// equal), else by [`columns::header_strength`].
fn strength(row: &Row, opts: &ReadOptions) -> Option<u8> {
    let wanted: Vec<String> = [&opts.question, &opts.answer]
        .into_iter()
        .flatten()
        .map(|w| columns::fold(w))
        .collect();
    if wanted.is_empty() {
        columns::header_strength(&row.fields)
    } else {
        wanted
            .iter()
            .all(|w| row.fields.iter().any(|f| columns::fold(f) == *w))
            .then_some(1)
    }
}

/// The header row: the first header row with data under it (a header row followed at
/// once by a clearer one is a title in header words, and gives way); else the first
/// header row; else the first row of short labels, then the first non-blank row, so the
/// column error names what the table holds rather than a title above it.
pub(crate) fn find_header(rows: &[Row], opts: &ReadOptions) -> Option<usize> {
    let headers: Vec<(usize, u8)> = candidates(rows)
        .filter_map(|(i, r)| strength(r, opts).map(|s| (i, s)))
        .collect();
    for &(i, s) in &headers {
        let next = rows[i + 1..]
            .iter()
            .position(|r| !r.is_blank())
            .map(|n| i + 1 + n);
        match next {
            None => {}
            Some(j) if headers.iter().any(|&(h, hs)| h == j && hs > s) => {}
            Some(_) => return Some(i),
        }
    }
    headers
        .first()
        .map(|(i, _)| *i)
        .or_else(|| {
            candidates(rows)
                .find(|(_, r)| columns::looks_like_labels(&r.fields))
                .map(|(i, _)| i)
        })
        .or_else(|| candidates(rows).next().map(|(i, _)| i))
}

/// Finds the header and turns every row under it into an example or a reject.
/// `file` names the source in column errors; `origin` places a data row, given its
/// 1-based record number under the header.
pub(crate) fn read_rows(
    rows: &[Row],
    file: &str,
    opts: &ReadOptions,
    origin: impl Fn(u64, &Row) -> Origin,
    out: &mut ReadOutput,
) -> Result<(), FormatError> {
    let (mut table, first) = Table::start(rows, file, opts, &mut out.info)?;
    for row in &rows[first..] {
        if let Some((n, row)) = table.number(row, &mut out.info) {
            match table.example(row, origin(n, row), opts) {
                Ok(ex) => out.examples.push(ex),
                Err(reject) => out.rejects.push(reject),
            }
        }
    }
    Ok(())
}

/// A table whose header was found: turns the rows under it into examples or rejects, one
/// at a time, so a long file can be read in batches (and each batch in parallel).
#[derive(Debug, Clone)]
pub(crate) struct Table {
    header: Vec<String>,
    map: ColumnMap,
    /// Rows under the header seen so far, blank ones included (their record numbers).
    seen: u64,
}

impl Table {
    /// Finds the header among the first `rows` (at least [`HEADER_SEARCH_ROWS`] of them
    /// and the next non-blank row after those, or all), records what lies above it in
    /// `info`, and gives the index of the first row under it.
    pub fn start(
        rows: &[Row],
        file: &str,
        opts: &ReadOptions,
        info: &mut SourceInfo,
    ) -> Result<(Self, usize), FormatError> {
        let Some(header_at) = find_header(rows, opts) else {
            return Err(FormatError::NoHeader {
                file: file.to_owned(),
            });
        };
        let header = &rows[header_at];
        let map = columns::detect(
            file,
            &header.fields,
            opts.question.as_deref(),
            opts.answer.as_deref(),
        )?;
        info.header_line = Some(header.at);
        info.question_column = Some(header.fields[map.question].trim().to_owned());
        info.answer_column = Some(header.fields[map.answer].trim().to_owned());
        for row in &rows[..header_at] {
            if row.is_blank() {
                info.blank += 1;
            } else {
                info.skipped_above_header.push(row.at);
            }
        }
        let table = Table {
            header: header.fields.clone(),
            map,
            seen: 0,
        };
        Ok((table, header_at + 1))
    }

    /// Counts the next row under the header: blank rows are skipped (`None`); a data
    /// row gets its 1-based record number.
    pub fn number<'r>(&mut self, row: &'r Row, info: &mut SourceInfo) -> Option<(u64, &'r Row)> {
        self.seen += 1;
        if row.is_blank() {
            info.blank += 1;
            return None;
        }
        info.rows += 1;
        Some((self.seen, row))
    }

    /// The example a data row makes, or its reject.
    pub fn example(
        &self,
        row: &Row,
        origin: Origin,
        opts: &ReadOptions,
    ) -> Result<Example, Reject> {
        example(row, &self.header, &self.map, origin.clone(), opts)
            .map_err(|problem| Reject::new(origin, problem.0, row.raw.clone()))
    }
}

/// Why a data row makes no example; the reason of its reject.
#[derive(Debug)]
struct RowProblem(String);

fn example(
    row: &Row,
    header: &[String],
    map: &ColumnMap,
    origin: Origin,
    opts: &ReadOptions,
) -> Result<Example, RowProblem> {
    let cell = |i: usize| row.fields.get(i).map_or("", String::as_str);
    if row.fields.len() > header.len()
        && row.fields[header.len()..]
            .iter()
            .any(|f| !f.trim().is_empty())
    {
        let hint = if matches!(origin.locator, Locator::Cell { .. }) {
            "delete the cells to the right of the table, or give those columns a header"
        } else {
            "check the delimiter and the quoting"
        };
        return Err(RowProblem(format!(
            "Row has {} fields but the header has {}; {hint}",
            row.fields.len(),
            header.len()
        )));
    }
    // An unbalanced quote makes one cell of every row after it: say so, on its row.
    if let Some((i, f)) = row
        .fields
        .iter()
        .enumerate()
        .find(|(_, f)| f.len() > MAX_CELL_BYTES)
    {
        let column = match header.get(i).map(|h| h.trim()) {
            Some(h) if !h.is_empty() => format!("`{h}`"),
            _ => (i + 1).to_string(),
        };
        return Err(RowProblem(format!(
            "Cell in column {column} is {}, over the {} limit for one cell; an unbalanced quote (`\"`) may have swallowed the rows after it",
            human_bytes(f.len() as u64),
            human_bytes(MAX_CELL_BYTES as u64)
        )));
    }
    let question = text(cell(map.question), opts);
    let answer = text(cell(map.answer), opts);
    let (qname, aname) = (header[map.question].trim(), header[map.answer].trim());
    match (question.is_empty(), answer.is_empty()) {
        (true, true) => {
            return Err(RowProblem(format!(
                "Empty question (`{qname}`) and answer (`{aname}`)"
            )));
        }
        (true, false) => return Err(RowProblem(format!("Empty question in column `{qname}`"))),
        (false, true) => return Err(RowProblem(format!("Empty answer in column `{aname}`"))),
        (false, false) => {}
    }
    let mut ex = Example::single_turn(None, question, answer, origin);
    for &i in &map.meta {
        let value = cell(i).trim();
        if !value.is_empty() {
            ex.meta
                .insert(header[i].trim().to_owned(), value.to_owned());
        }
    }
    Ok(ex)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rows(cells: &[&[&str]]) -> Vec<Row> {
        cells
            .iter()
            .enumerate()
            .map(|(i, r)| Row {
                fields: r.iter().map(|c| (*c).to_owned()).collect(),
                at: i as u64 + 1,
                raw: String::new(),
            })
            .collect()
    }

    #[test]
    fn verdicts_say_what_a_sheet_holds() {
        let opts = ReadOptions::default();
        let prose = "As perguntas e respostas estão na aba FAQ, atualizada todo mês.";
        assert_eq!(verdict(&rows(&[&[prose], &[""]]), &opts), Verdict::NoHeader);
        assert_eq!(verdict(&rows(&[&[""], &[]]), &opts), Verdict::Empty);
        assert_eq!(
            verdict(&rows(&[&["Pergunta", "Resposta"], &["", ""]]), &opts),
            Verdict::HeaderOnly(1)
        );
        let faq = rows(&[&[prose], &[], &["Pergunta", "Resposta"], &["A?", "B"]]);
        assert_eq!(verdict(&faq, &opts), Verdict::Header(3));
        // Named columns decide when given, whatever the words.
        let named = ReadOptions {
            question: Some("Assunto".into()),
            answer: Some("Texto".into()),
            ..Default::default()
        };
        let table = rows(&[&["Assunto", "Texto"], &["A", "B"]]);
        assert_eq!(verdict(&table, &named), Verdict::Header(1));
        assert_eq!(verdict(&table, &opts), Verdict::NoHeader);
    }
}
