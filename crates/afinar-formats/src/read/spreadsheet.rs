//! Workbooks (XLSX, XLSM, XLSB, XLS, ODS) via calamine.
//!
//! The sheet is `--sheet`, or the first whose first 20 rows hold a question/answer header;
//! the sheets passed over are reported. Cells read as a person wrote them: formulas give
//! their cached value, whole numbers have no `.0`, dates are ISO (`2026-03-31`), line
//! breaks in a cell are kept. Merged title cells and blank rows are skipped like any row
//! above the header. Origins read `faq.xlsx:FAQ!12`, the row as the spreadsheet numbers it.

use std::io::Cursor;

use afinar_core::Origin;
use afinar_core::limits::MAX_UNZIPPED_BYTES;
use calamine::{Data, Reader, Sheets};

use super::table::HEADER_SEARCH_ROWS;
use super::table::{self, Row, Verdict};
use super::{ReadOptions, ReadOutput, SourceInfo};
use crate::FormatError;
use crate::columns::fold;

/// Reads a workbook's bytes; `file` names it in origins and errors.
/// calamine panics on some malformed workbooks; that becomes an error naming the file.
pub fn read_bytes(bytes: &[u8], file: &str, opts: &ReadOptions) -> Result<ReadOutput, FormatError> {
    crate::contain::contain(|| read_workbook(bytes, file, opts)).unwrap_or_else(|panic| {
        Err(FormatError::Spreadsheet {
            file: file.to_owned(),
            message: format!("the workbook is damaged ({panic})"),
        })
    })
}

fn read_workbook(bytes: &[u8], file: &str, opts: &ReadOptions) -> Result<ReadOutput, FormatError> {
    let spreadsheet_error = |e: calamine::Error| FormatError::Spreadsheet {
        file: file.to_owned(),
        message: e.to_string(),
    };
    check_unzipped_size(bytes, file)?;
    let mut book =
        calamine::open_workbook_auto_from_rs(Cursor::new(bytes)).map_err(spreadsheet_error)?;
    let names = book.sheet_names();
    let found = || {
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut skipped = Vec::new();
    let mut notes = Vec::new();
    let mut others = Vec::new();
    let (sheet, rows) = if let Some(wanted) = &opts.sheet {
        let name = names
            .iter()
            .find(|n| *n == wanted)
            .or_else(|| names.iter().find(|n| fold(n) == fold(wanted)))
            .ok_or_else(|| FormatError::UnknownSheet {
                file: file.to_owned(),
                wanted: wanted.clone(),
                found: found(),
            })?
            .clone();
        let rows = sheet_rows(&mut book, &name, file)?;
        (name, rows)
    } else {
        // Every sheet is looked at: the first with a question/answer header over data is
        // read, and any other such sheet (drafts, an archive) is named, not read.
        let mut chosen: Option<(String, Vec<Row>)> = None;
        let mut verdicts = Vec::new();
        for name in &names {
            let rows = sheet_rows(&mut book, name, file)?;
            let verdict = table::verdict(&rows, opts);
            match verdict {
                Verdict::Header(_) if chosen.is_none() => chosen = Some((name.clone(), rows)),
                Verdict::Header(at) => others.push((name.clone(), at)),
                _ => {
                    if chosen.is_none() {
                        skipped.push(name.clone());
                    }
                    verdicts.push((name.clone(), verdict, rows));
                }
            }
        }
        match chosen {
            Some((name, rows)) => {
                let passed: Vec<String> = verdicts
                    .iter()
                    .filter(|(n, _, _)| skipped.contains(n))
                    .map(|(n, v, _)| format!("`{n}` ({})", why_not(*v)))
                    .collect();
                if !passed.is_empty() {
                    notes.push(format!(
                        "read sheet `{name}`, the first with a question/answer header; passed over {}",
                        passed.join(", ")
                    ));
                }
                (name, rows)
            }
            None => {
                // One sheet with rows: read it, so the error (or the empty result) says
                // what its header row holds.
                let with_rows: Vec<usize> = (0..verdicts.len())
                    .filter(|&i| verdicts[i].1 != Verdict::Empty)
                    .collect();
                if let [only] = with_rows[..] {
                    skipped.clear();
                    let (name, _, rows) = verdicts.swap_remove(only);
                    (name, rows)
                } else {
                    let looked: Vec<String> = verdicts
                        .iter()
                        .map(|(n, v, _)| format!("`{n}` ({})", why_not(*v)))
                        .collect();
                    return Err(FormatError::NoQaSheet {
                        file: file.to_owned(),
                        found: looked.join(", "),
                    });
                }
            }
        }
    };
    for (name, at) in &others {
        notes.push(format!(
            "sheet `{name}` also has a question/answer header (row {at}) and was not read; pass --sheet \"{name}\" to read it instead"
        ));
    }
    let format = std::path::Path::new(file)
        .extension()
        .and_then(|e| e.to_str())
        .map_or_else(|| "spreadsheet".to_owned(), str::to_ascii_lowercase);
    let mut out = ReadOutput {
        info: SourceInfo {
            format,
            sheet: Some(sheet.clone()),
            skipped_sheets: skipped,
            other_sheets: others.into_iter().map(|(n, _)| n).collect(),
            notes,
            ..Default::default()
        },
        ..Default::default()
    };
    let label = format!("{file}:{sheet}");
    table::read_rows(
        &rows,
        &label,
        opts,
        |_, row| Origin::cell(file, sheet.as_str(), row.at),
        &mut out,
    )?;
    Ok(out)
}

/// Why a sheet was not read, for the summary and the error.
fn why_not(verdict: Verdict) -> String {
    match verdict {
        Verdict::Empty => "empty".to_owned(),
        Verdict::HeaderOnly(at) => format!("a header on row {at} but no rows under it"),
        Verdict::NoHeader | Verdict::Header(_) => format!(
            "no row of column labels naming a question and an answer in its first {HEADER_SEARCH_ROWS} rows"
        ),
    }
}

/// A sheet's rows, numbered as the spreadsheet numbers them (the first rows may be
/// missing when the top of the sheet is empty).
///
/// XLSX and XLSB are read cell by cell: calamine's `worksheet_range` allocates the whole
/// rectangle from the first to the last used cell, so a 1.5 KB file with one stray cell
/// at `XFD1048576` asked for 512 GiB and aborted. Rows here hold only as many cells as
/// they use, and the total is capped at [`MAX_SHEET_CELLS`].
fn sheet_rows(
    book: &mut Sheets<Cursor<&[u8]>>,
    name: &str,
    file: &str,
) -> Result<Vec<Row>, FormatError> {
    let error = |message: String| FormatError::Spreadsheet {
        file: file.to_owned(),
        message,
    };
    let mut cells: Vec<(u32, u32, Data)> = Vec::new();
    let mut push = |(row, col): (u32, u32), value: Data| {
        if cells.len() >= MAX_SHEET_CELLS {
            return Err(too_many_cells(file, name));
        }
        // calamine takes any position that fits in a u32; a sheet has at most Excel's
        // grid, and past it the blank rows in between alone would fill memory.
        if row >= MAX_ROWS || col >= MAX_COLUMNS {
            return Err(FormatError::Spreadsheet {
                file: file.to_owned(),
                message: format!(
                    "sheet `{name}` has a cell at row {}, column {}, beyond the {MAX_ROWS} rows and {MAX_COLUMNS} columns a sheet can have; the workbook is damaged",
                    u64::from(row) + 1,
                    u64::from(col) + 1
                ),
            });
        }
        cells.push((row, col, value));
        Ok(())
    };
    match book {
        Sheets::Xlsx(x) => {
            let mut reader = x
                .worksheet_cells_reader(name)
                .map_err(|e| error(e.to_string()))?;
            each_cell(|| reader.next_cell(), &error, &mut push)?;
        }
        Sheets::Xlsb(x) => {
            let mut reader = x
                .worksheet_cells_reader(name)
                .map_err(|e| error(e.to_string()))?;
            each_cell(|| reader.next_cell(), &error, &mut push)?;
        }
        other => {
            let range = other
                .worksheet_range(name)
                .map_err(|e| error(e.to_string()))?;
            let (r0, c0) = range.start().unwrap_or((0, 0));
            for (row, col, value) in range.used_cells() {
                push((r0 + row as u32, c0 + col as u32), value.clone())?;
            }
        }
    }
    rows_of(cells, file, name)
}

/// Feeds every cell of a streaming reader (XLSX or XLSB: same shape, other error types)
/// to `push`.
fn each_cell<'a, E: std::fmt::Display>(
    mut next: impl FnMut() -> Result<Option<calamine::Cell<calamine::DataRef<'a>>>, E>,
    error: &impl Fn(String) -> FormatError,
    push: &mut impl FnMut((u32, u32), Data) -> Result<(), FormatError>,
) -> Result<(), FormatError> {
    while let Some(cell) = next().map_err(|e| error(e.to_string()))? {
        push(cell.get_position(), Data::from(cell.get_value().clone()))?;
    }
    Ok(())
}

/// Refuses a zip-based workbook (XLSX, XLSB, ODS) whose parts declare more than
/// [`MAX_UNZIPPED_BYTES`] unpacked: a small "zip bomb" would otherwise fill memory. A
/// file that is not a zip is left to calamine to refuse.
fn check_unzipped_size(bytes: &[u8], file: &str) -> Result<(), FormatError> {
    if !bytes.starts_with(b"PK") {
        return Ok(());
    }
    let Ok(archive) = zip::ZipArchive::new(Cursor::new(bytes)) else {
        return Ok(());
    };
    match archive.decompressed_size() {
        Some(size) if size > u128::from(MAX_UNZIPPED_BYTES) => Err(FormatError::Unzipped {
            file: file.to_owned(),
            size: u64::try_from(size).unwrap_or(u64::MAX),
            limit: MAX_UNZIPPED_BYTES,
        }),
        _ => Ok(()),
    }
}

/// Excel's grid (LibreOffice's too, since 7.4).
const MAX_ROWS: u32 = 1_048_576;
const MAX_COLUMNS: u32 = 16_384;

/// Most cells a sheet may hold, empty cells inside used rows included: 10 million,
/// fifty times the largest FAQ workbook we have seen, about 250 MB.
pub const MAX_SHEET_CELLS: usize = 10_000_000;

fn too_many_cells(file: &str, sheet: &str) -> FormatError {
    FormatError::Spreadsheet {
        file: file.to_owned(),
        message: format!(
            "sheet `{sheet}` spans more than 10 million cells; delete stray cells far from the table, or pass --sheet with the sheet that holds it"
        ),
    }
}

/// Sparse cells to rows: columns start at the leftmost used column of the sheet, as in
/// calamine's ranges; every row from the first used one to the last is there, a row
/// without cells as a blank row (counted as such), so numbering and counts match what
/// the spreadsheet shows.
fn rows_of(
    mut cells: Vec<(u32, u32, Data)>,
    file: &str,
    sheet: &str,
) -> Result<Vec<Row>, FormatError> {
    cells.retain(|(_, _, v)| !matches!(v, Data::Empty));
    cells.sort_by_key(|(r, c, _)| (*r, *c));
    let (Some(first), Some(last)) = (cells.first(), cells.last()) else {
        return Ok(Vec::new());
    };
    let (first_row, last_row) = (first.0, last.0);
    let first_col = cells.iter().map(|(_, c, _)| *c).min().unwrap_or(0);
    let mut rows = Vec::new();
    let mut budget = MAX_SHEET_CELLS;
    let mut it = cells.into_iter().peekable();
    for r in first_row..=last_row {
        let mut fields: Vec<String> = Vec::new();
        while let Some((_, c, value)) = it.next_if(|(row, _, _)| *row == r) {
            let at = (c - first_col) as usize;
            if at < fields.len() {
                // The same cell twice (a malformed file): the last one wins.
                fields[at] = cell_text(&value);
                continue;
            }
            budget = budget
                .checked_sub(at + 1 - fields.len())
                .ok_or_else(|| too_many_cells(file, sheet))?;
            fields.resize(at, String::new());
            fields.push(cell_text(&value));
        }
        let raw = fields.join("\t").trim_end_matches('\t').to_owned();
        rows.push(Row {
            fields,
            at: u64::from(r) + 1,
            raw,
        });
    }
    Ok(rows)
}

/// A cell as a person reads it on screen.
pub fn cell_text(cell: &Data) -> String {
    match cell {
        Data::Empty => String::new(),
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => number(*f),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) if dt.is_duration() => {
            let secs = (dt.as_f64() * 86_400.0).round() as i64;
            format!("{}:{:02}:{:02}", secs / 3600, secs % 3600 / 60, secs % 60)
        }
        Data::DateTime(dt) => {
            let (y, mo, d, h, mi, s, _) = dt.to_ymd_hms_milli();
            if (h, mi, s) == (0, 0, 0) {
                format!("{y:04}-{mo:02}-{d:02}")
            } else {
                format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}")
            }
        }
        // ODS stores dates as ISO text already; a midnight time adds nothing.
        Data::DateTimeIso(s) => s.strip_suffix("T00:00:00").unwrap_or(s).to_owned(),
        Data::DurationIso(s) => s.clone(),
        Data::Error(e) => e.to_string(),
    }
}

/// `4800000.0` → `4800000`, `0.05` → `0.05`: Rust's shortest round-trip form, which
/// never uses an exponent, minus a `.0` on whole numbers.
pub(crate) fn number(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sparse_cells_become_rows_numbered_as_the_sheet_with_blank_gaps() {
        let s = |t: &str| Data::String(t.to_owned());
        let cells = vec![
            (4, 3, s("x")),
            (1, 1, s("Pergunta")),
            (1, 2, s("Resposta")),
            (2, 1, s("O que é?")),
            (2, 1, s("O que é o DAS?")),
            (2, 2, Data::Empty),
        ];
        let rows = rows_of(cells, "f.xlsx", "FAQ").unwrap();
        let shape: Vec<(u64, Vec<&str>)> = rows
            .iter()
            .map(|r| (r.at, r.fields.iter().map(String::as_str).collect()))
            .collect();
        assert_eq!(
            shape,
            vec![
                (2, vec!["Pergunta", "Resposta"]),
                (3, vec!["O que é o DAS?"]),
                (4, vec![]),
                (5, vec!["", "", "x"]),
            ]
        );
        assert_eq!(rows[3].raw, "\t\tx");
    }

    #[test]
    fn a_sheet_past_the_cell_cap_is_an_error_naming_it() {
        // One row whose only cells sit 10 million columns apart.
        let cells = vec![
            (0, 0, Data::Int(1)),
            (0, MAX_SHEET_CELLS as u32 + 5, Data::Int(2)),
        ];
        let err = rows_of(cells, "f.xlsx", "FAQ").unwrap_err().to_string();
        assert!(
            err.contains("sheet `FAQ` spans more than 10 million cells"),
            "{err}"
        );
    }

    #[test]
    fn numbers_read_as_written() {
        assert_eq!(number(4_800_000.0), "4800000");
        assert_eq!(number(0.05), "0.05");
        assert_eq!(number(-3.0), "-3");
        assert_eq!(number(1234.5678), "1234.5678");
        assert_eq!(number(1e-7), "0.0000001");
        assert_eq!(
            cell_text(&Data::DateTimeIso("2026-03-31T00:00:00".into())),
            "2026-03-31"
        );
    }
}
