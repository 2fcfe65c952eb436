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
    let mut rows = Vec::with_capacity(examples.len());
    let mut rejects = Vec::new();
    for ex in examples {
        let turns = |role| ex.messages.iter().filter(|m| m.role == role).count();
        if turns(Role::User) == 1 && turns(Role::Assistant) == 1 {
            rows.push(ex);
        } else {
            let reason = "Multi-turn example cannot be one Parquet row; write JSONL instead";
            let raw = ex.question().unwrap_or("").to_owned();
            rejects.push(Reject::new(ex.origin.clone(), reason, raw).with_code("multi_turn_row"));
        }
    }
    (rows, rejects)
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
