//! Parquet out via polars (feature `parquet`): one row per single-turn example, with the
//! columns `system`, `question`, `answer`, one column per meta key and `origin`, so the
//! table reads back through the Parquet reader with the same pairs.

use std::path::Path;

use afinar_core::{Example, Role};
use polars::prelude::{Column, DataFrame, ParquetWriter};

use crate::atomic::write_atomic;
use crate::{FormatError, Reject};

/// Writes `examples` atomically; multi-turn examples cannot be one row and come back as
/// rejects.
pub fn write_file(path: &Path, examples: &[Example]) -> Result<Vec<Reject>, FormatError> {
    let (rows, rejects) = super::split_rows(examples.iter());
    let file = path.display().to_string();
    let mut df = frame(&rows).map_err(|e| wrap(&file, e))?;
    write_atomic(path, |w| {
        ParquetWriter::new(w)
            .finish(&mut df)
            .map(|_| ())
            .map_err(std::io::Error::other)
    })?;
    Ok(rejects)
}

/// A table of single-turn `rows` as Parquet bytes, for outputs assembled in memory
/// before anything is written (the pipeline); `file` names it in errors.
pub fn to_bytes(file: &str, rows: &[&Example]) -> Result<Vec<u8>, FormatError> {
    let mut df = frame(rows).map_err(|e| wrap(file, e))?;
    let mut buf = Vec::new();
    ParquetWriter::new(&mut buf)
        .finish(&mut df)
        .map_err(|e| wrap(file, e))?;
    Ok(buf)
}

fn wrap(file: &str, e: polars::error::PolarsError) -> FormatError {
    FormatError::Parquet {
        file: file.to_owned(),
        message: e.to_string(),
    }
}

/// Columns `system`, `question`, `answer`, one per meta key (sorted), `origin`.
fn frame(rows: &[&Example]) -> polars::error::PolarsResult<DataFrame> {
    let mut keys: Vec<&String> = rows.iter().flat_map(|e| e.meta.keys()).collect();
    keys.sort();
    keys.dedup();
    let text = |name: &str, values: Vec<Option<String>>| Column::new(name.into(), values);
    let mut columns = vec![
        text(
            "system",
            rows.iter()
                .map(|e| {
                    e.messages
                        .iter()
                        .find(|m| m.role == Role::System)
                        .map(|m| m.content.clone())
                })
                .collect(),
        ),
        text(
            "question",
            rows.iter()
                .map(|e| e.question().map(str::to_owned))
                .collect(),
        ),
        text(
            "answer",
            rows.iter().map(|e| e.answer().map(str::to_owned)).collect(),
        ),
    ];
    for key in keys {
        if ["system", "question", "answer", "origin"].contains(&key.as_str()) {
            continue;
        }
        columns.push(text(
            key,
            rows.iter().map(|e| e.meta.get(key).cloned()).collect(),
        ));
    }
    columns.push(text(
        "origin",
        rows.iter().map(|e| Some(e.origin.to_string())).collect(),
    ));
    DataFrame::new(rows.len(), columns)
}

#[cfg(test)]
mod tests {
    use afinar_core::Origin;

    use super::*;
    use crate::read::{ReadOptions, read_path};

    #[test]
    fn a_table_reads_back_to_the_same_pairs() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("faq.parquet");
        let mut a = Example::single_turn(
            None,
            "Qual o limite?",
            "R$ 4,8 milhões.\nPor ano.",
            Origin::line("f", 1),
        );
        a.meta.insert("Tema".into(), "Limites".into());
        let b = Example::single_turn(
            Some("Sistema"),
            "O que é o DAS?",
            "A guia.",
            Origin::line("f", 2),
        );
        let rejects = write_file(&path, &[a, b]).unwrap();
        assert!(rejects.is_empty());
        let out = read_path(&path, &ReadOptions::default()).unwrap();
        let pairs: Vec<_> = out
            .examples
            .iter()
            .map(|e| {
                (
                    e.origin.to_string(),
                    e.question().unwrap().to_owned(),
                    e.answer().unwrap().to_owned(),
                )
            })
            .collect();
        let file = path.display().to_string();
        assert_eq!(
            pairs,
            vec![
                (
                    format!("{file}:1"),
                    "Qual o limite?".to_owned(),
                    "R$ 4,8 milhões.\nPor ano.".to_owned()
                ),
                (
                    format!("{file}:2"),
                    "O que é o DAS?".to_owned(),
                    "A guia.".to_owned()
                ),
            ]
        );
        assert_eq!(out.examples[0].meta["Tema"], "Limites");
        assert_eq!(out.examples[1].meta["system"], "Sistema");
    }
}
