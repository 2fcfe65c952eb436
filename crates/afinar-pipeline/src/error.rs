use thiserror::Error;

/// A problem that stops a pipeline run.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PipelineError {
    #[error("`{file}` line {line}, column {column}: {message}")]
    Spec {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("`{file}`: {message}")]
    Invalid { file: String, message: String },
    #[error("Failed to render the HTML report")]
    Report(#[source] minijinja::Error),
}
