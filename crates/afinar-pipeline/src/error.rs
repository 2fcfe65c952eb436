use afinar_formats::FormatError;
use thiserror::Error;

/// A problem that stops a pipeline run (or a `convert`). Row-level problems are rejects,
/// never errors. Causes are kept (`#[source]`), so the binary prints `caused by:` lines.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PipelineError {
    /// The pipeline file does not parse (an unknown key, a wrong type).
    #[error("`{file}` line {line}, column {column}: {message}")]
    Spec {
        file: String,
        line: usize,
        column: usize,
        message: String,
    },
    /// The pipeline file parses but a value is unusable.
    #[error("`{file}`: {message}")]
    Invalid { file: String, message: String },
    #[error("Unknown model `{name}`; `afinar models` lists them")]
    UnknownModel { name: String },
    /// An open-weight model's tokenizer files are missing or unusable: counting with
    /// another tokenizer would be wrong, so the run stops.
    #[error(
        "Cannot count tokens for `{model}`; set `[model] tokenizer` to its files, or download them"
    )]
    Tokenizer {
        model: String,
        #[source]
        source: afinar_tokens::chat::LoadError,
    },
    #[error(
        "`output.format = \"dpo\"` is not supported by pipelines yet; use `afinar convert --to dpo`"
    )]
    DpoPipeline,
    #[error("Parquet output holds question/answer pairs; use --to chat, or write JSONL")]
    ParquetShape,
    #[error("Source `{source_name}` has no column `{column}` for its filter; check the name")]
    FilterColumn { source_name: String, column: String },
    /// A source cannot be read (the error names the file), or its settings are unusable.
    #[error(transparent)]
    Source(FormatError),
    #[error(transparent)]
    RoleAlias(afinar_core::RoleAliasError),
    #[error("Cannot read the {what}")]
    SideFile {
        what: &'static str,
        #[source]
        source: FormatError,
    },
    #[error("The {what} `{path}` is not UTF-8 text; save it as UTF-8")]
    NotUtf8 { what: &'static str, path: String },
    #[error("Cannot use the name list `{path}`")]
    Names {
        path: String,
        #[source]
        source: afinar_redact::RedactError,
    },
    #[error(
        "Fake redaction needs a secret so the fakes cannot be traced back; set `AFINAR_REDACT_KEY`, or name a key file (`--redact-key-file FILE`, or `key_file` in `[redact]`), or use placeholders"
    )]
    NoRedactKey,
    #[error("The redaction key is empty; put a secret phrase in it")]
    EmptyRedactKey,
    #[error("The {stage} stage failed")]
    Curate {
        stage: &'static str,
        #[source]
        source: afinar_curate::CurateError,
    },
    #[error("Cannot check `{file}`")]
    Check {
        file: String,
        #[source]
        source: afinar_check::CheckError,
    },
    #[error("Cannot write the outputs; the previous ones were kept")]
    Write(#[source] FormatError),
    #[error("Cannot encode an output as JSON")]
    Serialize(#[source] serde_json::Error),
    #[error("Cannot encode the output lines")]
    Encode(#[source] std::io::Error),
    #[error(transparent)]
    Target(afinar_check::targets::UnknownTarget),
    /// A record the target stage kept cannot be written (a bug: the stage checks it).
    #[error("{origin}: {reason}")]
    TargetLine { origin: String, reason: String },
    #[error("Failed to render the HTML report")]
    Report(#[source] minijinja::Error),
}
