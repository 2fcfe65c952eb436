use std::path::PathBuf;

/// A fatal error: the check of a file cannot go on. Problems in the data are not errors
/// but [`Finding`](crate::Finding)s in the report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CheckError {
    #[error("Cannot read `{}`", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("Cannot write the per-example output")]
    Output(#[source] std::io::Error),
    #[error("The model file `{}` is not valid; see `afinar models --format json` for the shape", path.display())]
    Models {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}
