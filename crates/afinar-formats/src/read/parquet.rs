//! Apache Parquet tables via polars (feature `parquet`). Column names are the header, so
//! columns are mapped as for CSV (`Pergunta`/`Resposta`, `question`/`answer`,
//! `--question`…); other columns become meta. Origins give the 1-based data row.

use std::io::Cursor;

use afinar_core::Origin;
use polars::prelude::{DataType, ParquetReader, SerReader};

use super::table::{self, Row};
use super::{ReadOptions, ReadOutput, SourceInfo};
use crate::FormatError;
use crate::read::spreadsheet::number;

/// Reads a Parquet file's bytes; `file` names it in origins and errors.
pub fn read_bytes(bytes: &[u8], file: &str, opts: &ReadOptions) -> Result<ReadOutput, FormatError> {
    let wrap = |e: polars::error::PolarsError| FormatError::Parquet {
        file: file.to_owned(),
        message: e.to_string(),
    };
    let df = ParquetReader::new(Cursor::new(bytes))
        .finish()
        .map_err(wrap)?;
    let height = df.height();
    let mut columns: Vec<Vec<String>> = Vec::with_capacity(df.width());
    let mut header = Vec::with_capacity(df.width());
    for col in df.columns() {
        header.push(col.name().to_string());
        let values: Vec<String> = match col.dtype() {
            DataType::Float32 | DataType::Float64 => {
                let col = col.cast(&DataType::Float64).map_err(wrap)?;
                col.f64()
                    .map_err(wrap)?
                    .iter()
                    .map(|v| v.map(number).unwrap_or_default())
                    .collect()
            }
            _ => {
                let col = col.cast(&DataType::String).map_err(wrap)?;
                col.str()
                    .map_err(wrap)?
                    .iter()
                    .map(|v| v.unwrap_or_default().to_owned())
                    .collect()
            }
        };
        columns.push(values);
    }
    let mut rows = Vec::with_capacity(height + 1);
    rows.push(Row {
        raw: header.join("\t"),
        fields: header,
        at: 0,
    });
    for i in 0..height {
        let fields: Vec<String> = columns.iter().map(|c| c[i].clone()).collect();
        rows.push(Row {
            raw: fields.join("\t"),
            fields,
            at: i as u64 + 1,
        });
    }
    let mut out = ReadOutput {
        info: SourceInfo {
            format: "parquet".into(),
            ..Default::default()
        },
        ..Default::default()
    };
    table::read_rows(
        &rows,
        file,
        opts,
        |_, row| Origin::record(file, row.at, row.at),
        &mut out,
    )?;
    out.info.header_line = None;
    Ok(out)
}
