//! The pipeline file. Every table and key is documented by the annotated example in
//! `pipelines/simples-nacional.toml`.

use std::collections::BTreeMap;

use afinar_core::{CompletionOptions, SystemPolicy};
use serde::{Deserialize, Serialize};

use crate::PipelineError;
use crate::flow::{ConvertSpec, ReadSpec};
pub use crate::stage::dedupe::DedupeSpec;
use crate::stage::filter::FilterSpec;
pub use crate::stage::filter::FilterValue;
pub use crate::stage::redact::{RedactMode, RedactSpec};
pub use crate::stage::shape::Format;
use crate::stage::shape::ShapeSpec;
pub use crate::stage::split::{SplitSpec, Validation};
use crate::stage::system::SystemSpec;

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
    /// Read by `afinar run --eval`; its keys belong to the eval stage.
    #[serde(default)]
    pub eval: Option<toml::Table>,
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
    /// More role names for JSON input, `alias=role` as `convert --role-alias` takes them,
    /// e.g. `role_aliases = ["cliente=user", "atendente=assistant"]`.
    #[serde(default)]
    pub role_aliases: Vec<String>,
    /// Keep the legacy separator and stop markers (`\n\n###\n\n`, ` END`) of old
    /// prompt/completion JSONL, as `convert --keep-markers`; removed (and counted) when absent.
    #[serde(default)]
    pub keep_markers: bool,
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
    /// Where the data goes (`openai`, `azure`, `together`, `fireworks`, `vertex`,
    /// `bedrock`, `trl`, `llama-factory`, `axolotl`): the line dialect written and the
    /// rules checked, as `afinar convert --target` and `afinar check --target`.
    #[serde(default)]
    pub target: Option<String>,
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

pub(crate) fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    #[serde(default = "default_model")]
    pub name: String,
    /// Overrides the registry's per-example token limit.
    #[serde(default)]
    pub max_tokens: Option<u64>,
    /// The model's tokenizer files (a directory or a tokenizer.json), for open-weight
    /// models; without it they are looked up in the local Hugging Face cache.
    #[serde(default)]
    pub tokenizer: Option<String>,
}

impl Default for ModelSpec {
    fn default() -> Self {
        Self {
            name: default_model(),
            max_tokens: None,
            tokenizer: None,
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
    /// `train.parquet` and `validation.parquet`: one question/answer pair per row (builds
    /// with the `parquet` feature).
    #[serde(default)]
    pub parquet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LlamaFactoryFormat {
    Alpaca,
    Sharegpt,
}

impl SourceSpec {
    /// The source's `filter` and `meta`, or `None` when it has neither.
    pub fn filter_spec(&self) -> Option<FilterSpec> {
        let spec = FilterSpec {
            filter: self.filter.clone(),
            meta: self.meta.clone(),
        };
        (!spec.is_noop()).then_some(spec)
    }
}

impl PipelineSpec {
    /// What `source` is read and converted with: the same settings `afinar convert` takes
    /// as flags.
    pub fn convert_spec(&self, source: &SourceSpec) -> Result<ConvertSpec, PipelineError> {
        let mut spec = ConvertSpec {
            read: ReadSpec {
                question: source.question.clone(),
                answer: source.answer.clone(),
                delimiter: source
                    .delimiter
                    .as_deref()
                    .map(afinar_formats::read::parse_delimiter)
                    .transpose()
                    .map_err(PipelineError::Source)?,
                encoding: source.encoding.clone(),
                sheet: source.sheet.clone(),
                role_aliases: source.role_aliases.clone(),
                normalize: self.normalize.enabled,
                keep_markers: source.keep_markers,
            },
            system: SystemSpec {
                text: self.system.clone(),
                drop: false,
            },
            redact: self.redact.clone(),
            shape: ShapeSpec {
                format: self.output.format,
                completion: CompletionOptions {
                    system: SystemPolicy::Keep,
                    prompt_suffix: self.output.prompt_suffix.clone(),
                    completion_prefix: self.output.completion_prefix.clone(),
                    completion_suffix: self.output.completion_suffix.clone(),
                },
            },
            target: self
                .output
                .target
                .as_ref()
                .map(|t| crate::stage::target::TargetSpec { target: t.clone() }),
        };
        spec.system_policy(self.output.system_policy);
        Ok(spec)
    }

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
    fn a_percentage_validation_and_role_aliases_resolve_like_the_flags() {
        let spec = PipelineSpec::parse(
            "system = \"S\"\n[[sources]]\npath = \"a.jsonl\"\nrole_aliases = [\"cliente=user\"]\n[split]\nvalidation = \"10%\"\n[output]\nsystem_policy = \"drop\"\n",
            "p.toml",
        )
        .unwrap();
        assert_eq!(spec.split.validation, Validation::Fraction(0.1));
        let convert = spec.convert_spec(&spec.sources[0]).unwrap();
        assert_eq!(convert.read.role_aliases, ["cliente=user"]);
        assert!(convert.system.drop);
        assert_eq!(convert.shape.completion.system, SystemPolicy::Drop);
        let opts = convert.read_options().unwrap();
        assert_eq!(
            opts.aliases.resolve("Cliente"),
            Some(afinar_core::Role::User)
        );

        let bad = PipelineSpec::parse(
            "[[sources]]\npath = \"a.jsonl\"\nrole_aliases = [\"x=robot\"]\n",
            "p.toml",
        )
        .unwrap();
        let err = bad
            .convert_spec(&bad.sources[0])
            .unwrap()
            .read_options()
            .unwrap_err();
        assert!(matches!(err, PipelineError::RoleAlias(_)));
        assert!(err.to_string().contains("unknown role `robot`"), "{err}");
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
