//! The pipeline file. Every table and key is documented by the annotated example in
//! `pipelines/simples-nacional.toml`.

use std::collections::BTreeMap;

use afinar_core::SystemPolicy;
use serde::{Deserialize, Serialize};

use crate::PipelineError;

/// A whole pipeline file.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineSpec {
    /// A name for reports; defaults to the file's stem.
    #[serde(default)]
    pub name: Option<String>,
    /// Where outputs go, relative to the working directory; `afinar run --out-dir` overrides.
    #[serde(default = "default_out_dir")]
    pub out_dir: String,
    /// The system message set on every example.
    #[serde(default)]
    pub system: Option<String>,
    pub sources: Vec<SourceSpec>,
    #[serde(default)]
    pub output: OutputSpec,
    #[serde(default)]
    pub normalize: NormalizeSpec,
    #[serde(default)]
    pub dedupe: DedupeSpec,
    #[serde(default)]
    pub split: SplitSpec,
    #[serde(default)]
    pub model: ModelSpec,
    #[serde(default)]
    pub export: ExportSpec,
    /// Mask personal data (CPF, CNPJ, e-mail, phone, listed names) before anything is
    /// written; off when the table is absent.
    #[serde(default)]
    pub redact: Option<RedactSpec>,
    /// Read by `afinar run --launch`; its keys belong to the launch stage.
    #[serde(default)]
    pub launch: Option<toml::Table>,
}

fn default_out_dir() -> String {
    "out".to_owned()
}

/// One source: a path or a glob, and how to read it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// A file, or a glob such as `planilhas/*.xlsx` (matches are read in sorted order).
    pub path: String,
    /// The spreadsheet sheet; the first with a question/answer header when absent.
    #[serde(default)]
    pub sheet: Option<String>,
    #[serde(default)]
    pub question: Option<String>,
    #[serde(default)]
    pub answer: Option<String>,
    /// An encoding label (`windows-1252`, `utf-8`…); detected when absent.
    #[serde(default)]
    pub encoding: Option<String>,
    /// `,` `;` `|` or `tab`; sniffed when absent.
    #[serde(default)]
    pub delimiter: Option<String>,
    /// The columns kept as meta; all other columns when absent.
    #[serde(default)]
    pub meta: Option<Vec<String>>,
    /// Keep only rows whose column has one of these values (case- and accent-insensitive),
    /// e.g. `filter = { Status = "publicado" }`. Other rows are counted as filtered out.
    #[serde(default)]
    pub filter: BTreeMap<String, FilterValue>,
}

/// One value or a list of accepted values.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum FilterValue {
    One(String),
    Any(Vec<String>),
}

impl FilterValue {
    pub fn values(&self) -> &[String] {
        match self {
            FilterValue::One(v) => std::slice::from_ref(v),
            FilterValue::Any(v) => v,
        }
    }
}

/// The shape of the training lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Chat,
    Completion,
    Dpo,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct OutputSpec {
    #[serde(default)]
    pub format: Format,
    /// System messages in completion output: `keep` (prepended), `drop`, `prepend`.
    #[serde(default)]
    pub system_policy: SystemPolicy,
    #[serde(default)]
    pub prompt_suffix: String,
    #[serde(default)]
    pub completion_prefix: String,
    #[serde(default)]
    pub completion_suffix: String,
    /// Start JSONL files with a UTF-8 BOM (always on when the target is Azure).
    #[serde(default)]
    pub bom: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct NormalizeSpec {
    #[serde(default = "yes")]
    pub enabled: bool,
}

impl Default for NormalizeSpec {
    fn default() -> Self {
        Self { enabled: true }
    }
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DedupeSpec {
    #[serde(default = "yes")]
    pub enabled: bool,
    /// The near-duplicate similarity threshold; the curate stage's default when absent.
    #[serde(default)]
    pub near: Option<f64>,
    #[serde(default)]
    pub exact_only: bool,
    /// Fail the run (exit 1) when conflicting answers are found.
    #[serde(default)]
    pub fail_on_conflict: bool,
}

impl Default for DedupeSpec {
    fn default() -> Self {
        Self {
            enabled: true,
            near: None,
            exact_only: false,
            fail_on_conflict: false,
        }
    }
}

/// The validation share: a fraction (`0.1`) or a count (`20`).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Validation {
    Count(u64),
    Fraction(f64),
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SplitSpec {
    #[serde(default = "default_validation")]
    pub validation: Validation,
    #[serde(default = "default_seed")]
    pub seed: u64,
    /// A meta field (a source column such as `Tema`) to stratify by.
    #[serde(default)]
    pub stratify: Option<String>,
}

impl Default for SplitSpec {
    fn default() -> Self {
        Self {
            validation: default_validation(),
            seed: default_seed(),
            stratify: None,
        }
    }
}

fn default_validation() -> Validation {
    Validation::Fraction(0.1)
}

fn default_seed() -> u64 {
    42
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    #[serde(default = "default_model")]
    pub name: String,
    /// Overrides the registry's per-example token limit.
    #[serde(default)]
    pub max_tokens: Option<u64>,
}

impl Default for ModelSpec {
    fn default() -> Self {
        Self {
            name: default_model(),
            max_tokens: None,
        }
    }
}

fn default_model() -> String {
    "gpt-4o-mini".to_owned()
}

/// Extra outputs for other trainers.
#[derive(Debug, Clone, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExportSpec {
    /// LLaMA-Factory: `alpaca` or `sharegpt`, plus `dataset_info.json`.
    #[serde(default)]
    pub llama_factory: Option<LlamaFactoryFormat>,
    /// Axolotl: chat_template messages, plus a config snippet.
    #[serde(default)]
    pub axolotl: bool,
    /// Azure OpenAI: JSONL with the UTF-8 BOM it requires.
    #[serde(default)]
    pub azure: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RedactSpec {
    #[serde(default)]
    pub mode: RedactMode,
    /// A file of names to mask, one per line (`#` starts a comment).
    #[serde(default)]
    pub names: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RedactMode {
    /// `[CPF]`, `[CNPJ]`, `[EMAIL]`, `[TELEFONE]`, `[NOME]`.
    #[default]
    Placeholder,
    /// Consistent fakes with valid check digits; needs the secret in `AFINAR_REDACT_KEY`.
    Fake,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LlamaFactoryFormat {
    Alpaca,
    Sharegpt,
}

impl PipelineSpec {
    /// Parses a pipeline file; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Self, PipelineError> {
        let spec: PipelineSpec = toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map_or((1, 1), |span| line_col(text, span.start));
            PipelineError::Spec {
                file: file.to_owned(),
                line,
                column,
                message: e.message().trim().replace('\n', " "),
            }
        })?;
        spec.validate(file)?;
        Ok(spec)
    }

    fn validate(&self, file: &str) -> Result<(), PipelineError> {
        let invalid = |message: String| {
            Err(PipelineError::Invalid {
                file: file.to_owned(),
                message,
            })
        };
        if self.sources.is_empty() {
            return invalid("The pipeline has no `[[sources]]`; add at least one".to_owned());
        }
        match self.split.validation {
            Validation::Fraction(f) if !(0.0..1.0).contains(&f) => {
                return invalid(format!(
                    "`split.validation` is `{f}`; use a fraction below 1 (such as 0.1) or a count (such as 20)"
                ));
            }
            _ => {}
        }
        if let Some(near) = self.dedupe.near
            && (!(0.0..=1.0).contains(&near) || near == 0.0)
        {
            return invalid(format!(
                "`dedupe.near` is `{near}`; use a similarity between 0 and 1, such as 0.8"
            ));
        }
        Ok(())
    }
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_pipeline_parses() {
        let text = include_str!("../../../pipelines/simples-nacional.toml");
        let spec = PipelineSpec::parse(text, "simples-nacional.toml").unwrap();
        assert!(!spec.sources.is_empty());
        assert_eq!(spec.split.stratify.as_deref(), Some("Tema"));
    }

    #[test]
    fn defaults_are_sensible() {
        let spec = PipelineSpec::parse("[[sources]]\npath = \"a.csv\"\n", "p.toml").unwrap();
        assert_eq!(spec.out_dir, "out");
        assert_eq!(spec.output.format, Format::Chat);
        assert_eq!(spec.split.validation, Validation::Fraction(0.1));
        assert_eq!(spec.split.seed, 42);
        assert!(spec.dedupe.enabled && spec.normalize.enabled);
        assert_eq!(spec.model.name, "gpt-4o-mini");
    }

    #[test]
    fn unknown_keys_name_the_key_and_line() {
        let text = "system = \"x\"\n\n[[sources]]\npath = \"a.csv\"\nshet = \"FAQ\"\n";
        let err = PipelineSpec::parse(text, "p.toml").unwrap_err().to_string();
        assert!(
            err.starts_with("`p.toml` line 5, column 1: unknown field `shet`"),
            "{err}"
        );

        let err = PipelineSpec::parse("[[sources]]\npath = \"a\"\n[split]\nsed = 1\n", "p.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("`p.toml` line 4, column 1: unknown field `sed`"),
            "{err}"
        );
    }

    #[test]
    fn filters_take_one_value_or_a_list_and_validation_a_count() {
        let spec = PipelineSpec::parse(
            "[[sources]]\npath = \"a.csv\"\nfilter = { Status = \"publicado\", Tema = [\"MEI\", \"DAS\"] }\n[split]\nvalidation = 20\n",
            "p.toml",
        )
        .unwrap();
        let f = &spec.sources[0].filter;
        assert_eq!(f["Status"].values(), ["publicado"]);
        assert_eq!(f["Tema"].values(), ["MEI", "DAS"]);
        assert_eq!(spec.split.validation, Validation::Count(20));
    }

    #[test]
    fn bad_values_are_explained() {
        let err = PipelineSpec::parse(
            "[[sources]]\npath = \"a\"\n[split]\nvalidation = 1.5\n",
            "p.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("`split.validation` is `1.5`"), "{err}");
        let err = PipelineSpec::parse("sources = []\n", "p.toml")
            .unwrap_err()
            .to_string();
        assert!(err.contains("no `[[sources]]`"), "{err}");
        let err = PipelineSpec::parse(
            "[[sources]]\npath = \"a\"\n[output]\nformat = \"xml\"\n",
            "p.toml",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with("`p.toml` line 4, column 10: unknown variant `xml`"),
            "{err}"
        );
    }
}
