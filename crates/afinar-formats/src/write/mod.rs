//! Writers. Every file is written atomically (see [`crate::atomic`]).

pub mod jsonl;
#[cfg(feature = "parquet")]
pub mod parquet;

use std::path::Path;

use afinar_core::Example;

use crate::{FormatError, Reject};

/// Whether this build writes and reads Parquet (the `parquet` feature).
pub const PARQUET: bool = cfg!(feature = "parquet");

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
