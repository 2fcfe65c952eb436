//! Workbooks (XLSX, XLSM, XLSB, XLS, ODS) via calamine.
//!
//! The sheet is `--sheet`, or the first whose first 20 rows hold a question/answer header;
//! the sheets passed over are reported. Cells read as a person wrote them: formulas give
//! their cached value, whole numbers have no `.0`, dates are ISO (`2026-03-31`), line
//! breaks in a cell are kept. Merged title cells and blank rows are skipped like any row
//! above the header. Origins read `faq.xlsx:FAQ!12`, the row as the spreadsheet numbers it.

use std::io::Cursor;

use afinar_core::Origin;
use calamine::{Data, Range, Reader};

use super::table::{self, Row};
use super::{ReadOptions, ReadOutput, SourceInfo};
use crate::FormatError;
use crate::columns::fold;

/// Reads a workbook's bytes; `file` names it in origins and errors.
pub fn read_bytes(bytes: &[u8], file: &str, opts: &ReadOptions) -> Result<ReadOutput, FormatError> {
    let spreadsheet_error = |e: calamine::Error| FormatError::Spreadsheet {
        file: file.to_owned(),
        message: e.to_string(),
    };
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
    let chosen = if let Some(wanted) = &opts.sheet {
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
        let rows = sheet_rows(&book.worksheet_range(&name).map_err(spreadsheet_error)?);
        (name, rows)
    } else {
        let mut chosen = None;
        let mut non_empty = Vec::new();
        for name in &names {
            let rows = sheet_rows(&book.worksheet_range(name).map_err(spreadsheet_error)?);
            if table::has_header(&rows, opts) {
                chosen = Some((name.clone(), rows));
                break;
            }
            if rows.iter().any(|r| !r.is_blank()) {
                non_empty.push((name.clone(), rows));
            }
            skipped.push(name.clone());
        }
        match chosen {
            Some(c) => c,
            // One sheet with data: read it, so the column error names what it holds.
            None if non_empty.len() == 1 => {
                skipped.clear();
                non_empty.remove(0)
            }
            None => {
                return Err(FormatError::NoQaSheet {
                    file: file.to_owned(),
                    found: found(),
                });
            }
        }
    };
    let (sheet, rows) = chosen;
    let format = std::path::Path::new(file)
        .extension()
        .and_then(|e| e.to_str())
        .map_or_else(|| "spreadsheet".to_owned(), str::to_ascii_lowercase);
    let mut out = ReadOutput {
        info: SourceInfo {
            format,
            sheet: Some(sheet.clone()),
            skipped_sheets: skipped,
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

/// A sheet's rows, numbered as the spreadsheet numbers them (the range may start below
/// row 1 when the top rows are empty).
fn sheet_rows(range: &Range<Data>) -> Vec<Row> {
    let first = range.start().map_or(0, |(row, _)| u64::from(row));
    range
        .rows()
        .enumerate()
        .map(|(i, cells)| {
            let fields: Vec<String> = cells.iter().map(cell_text).collect();
            let raw = fields.join("\t").trim_end_matches('\t').to_owned();
            Row {
                fields,
                at: first + i as u64 + 1,
                raw,
            }
        })
        .collect()
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
