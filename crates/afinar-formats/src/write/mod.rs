//! Writers. Every file is written atomically (see [`crate::atomic`]).

pub mod jsonl;
#[cfg(feature = "parquet")]
pub mod parquet;
pub mod target;

use std::path::Path;

use afinar_core::{Example, Role};

use crate::{FormatError, Reject};

/// Whether this build writes and reads Parquet (the `parquet` feature).
pub const PARQUET: bool = cfg!(feature = "parquet");

/// Which examples can be Parquet rows (single-turn: one user and one assistant message)
/// and rejects for the others, so a caller knows what will be written before writing.
pub fn parquet_rows(examples: Vec<Example>) -> (Vec<Example>, Vec<Reject>) {
    let (rows, others): (Vec<_>, Vec<_>) = examples.into_iter().partition(is_parquet_row);
    (rows, others.iter().map(multi_turn).collect())
}

/// Whether `ex` fits one Parquet row: one user and one assistant message.
pub fn is_parquet_row(ex: &Example) -> bool {
    let turns = |role| ex.messages.iter().filter(|m| m.role == role).count();
    turns(Role::User) == 1 && turns(Role::Assistant) == 1
}

/// The examples that fit a row, and a reject for each that does not.
#[cfg(feature = "parquet")]
pub(crate) fn split_rows<'a>(
    examples: impl Iterator<Item = &'a Example>,
) -> (Vec<&'a Example>, Vec<Reject>) {
    let (rows, others): (Vec<_>, Vec<_>) = examples.partition(|ex| is_parquet_row(ex));
    (rows, others.into_iter().map(multi_turn).collect())
}

fn multi_turn(ex: &Example) -> Reject {
    let reason = "Multi-turn example cannot be one Parquet row; write JSONL instead";
    let raw = ex.question().unwrap_or("").to_owned();
    Reject::new(ex.origin.clone(), reason, raw).with_code("multi_turn_row")
}

/// Single-turn `rows` (see [`is_parquet_row`]) as Parquet bytes, for outputs assembled in
/// memory; `file` names the table in errors. Without the `parquet` feature, an error.
pub fn parquet_bytes(file: &str, rows: &[&Example]) -> Result<Vec<u8>, FormatError> {
    #[cfg(feature = "parquet")]
    return parquet::to_bytes(file, rows);
    #[cfg(not(feature = "parquet"))]
    {
        let _ = rows;
        Err(FormatError::ParquetDisabled {
            file: file.to_owned(),
        })
    }
}

/// Writes single-turn examples as a Parquet table (see `write::parquet`); multi-turn
/// examples come back as rejects. Without the `parquet` feature, an error saying so.
pub fn write_parquet(path: &Path, examples: &[Example]) -> Result<Vec<Reject>, FormatError> {
    #[cfg(feature = "parquet")]
    return parquet::write_file(path, examples);
    #[cfg(not(feature = "parquet"))]
    {
        let _ = examples;
        Err(FormatError::ParquetDisabled {
            file: path.display().to_string(),
        })
    }
}
