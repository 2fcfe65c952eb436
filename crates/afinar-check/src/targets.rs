//! The targets: where a dataset goes (`openai`, `azure`, `together`, `fireworks`,
//! `vertex`, `bedrock`, `trl`, `llama-factory`, `axolotl`), as data.
//!
//! Each entry of the bundled `targets.json` names the line [`Dialect`] afinar writes for
//! it, whether files start with a UTF-8 BOM, the shapes it takes, its minimum number of
//! examples and maximum file size, which roles it takes and whether turns must alternate,
//! with the source of every fact (and the assumptions marked as such in `notes`). A new
//! service is one entry here, plus a writer where its lines differ.

use std::collections::BTreeMap;
use std::sync::OnceLock;

pub use afinar_core::Dialect;
use afinar_core::Role;
use serde::{Deserialize, Serialize};

use crate::{Format, TurnOrder};

const BUILTIN: &str = include_str!("targets.json");

/// What a target does with a UTF-8 byte order mark at the start of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BomPolicy {
    /// Taken, but not needed: `check` warns (`utf8_bom`).
    Warn,
    /// Needed (Azure): afinar writes it, `check` warns when it is missing.
    Required,
    /// The service's reader fails on it: an error.
    Error,
}

/// Which messages may carry a training `weight`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Weights {
    /// Assistant messages only (OpenAI).
    Assistant,
    /// Any message (Together).
    Any,
    /// None: a weight 0 cannot be expressed (a weight 1 is the default and is dropped).
    None,
}

/// One target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// As `--target` takes it.
    pub id: String,
    /// How people call it.
    pub name: String,
    pub dialect: Dialect,
    pub bom: BomPolicy,
    /// The shapes it takes (`text`: plain `{"text": …}` lines, read by `check` only).
    pub shapes: Vec<Format>,
    /// Fewer examples: the service refuses the file.
    pub min_examples: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_examples: Option<u64>,
    /// Fewer examples: a warning.
    #[serde(default)]
    pub recommended_examples: Option<u64>,
    /// Largest file the service takes, when documented.
    #[serde(default)]
    pub max_file_bytes: Option<u64>,
    /// Whether a larger file is refused (an error) or needs another upload path (a warning).
    #[serde(default)]
    pub file_size_hard: bool,
    /// The canonical roles it takes.
    pub roles: Vec<Role>,
    pub turn_order: TurnOrder,
    /// The first turn after the system prompt must be the user's.
    #[serde(default)]
    pub first_turn_user: bool,
    /// Whether it takes a system prompt.
    pub system_prompt: bool,
    pub weights: Weights,
    /// `weight` must be an integer (`1.0` is refused).
    #[serde(default)]
    pub integer_weights: bool,
    /// Whether it takes tool calls and tool messages.
    pub tools: bool,
    /// Lines must have exactly the keys of their format (Together).
    #[serde(default)]
    pub exact_keys: bool,
    /// Text that must not appear in a prompt (Bedrock's reserved keywords).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reserved: Vec<String>,
    /// Fact → where it comes from.
    pub sources: BTreeMap<String, String>,
    /// What else to know; assumptions say so.
    #[serde(default)]
    pub notes: Vec<String>,
}

impl Target {
    pub fn takes(&self, format: Format) -> bool {
        self.shapes.contains(&format)
    }

    pub fn takes_role(&self, role: Role) -> bool {
        self.roles.contains(&role)
    }

    /// OpenAI's own service, whose rules are the engine's defaults.
    pub fn is_openai(&self) -> bool {
        self.id == "openai"
    }

    /// Where a model's own rules (formats, images) apply: OpenAI and Azure OpenAI.
    pub fn openai_family(&self) -> bool {
        matches!(self.id.as_str(), "openai" | "azure")
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetsFile {
    targets: Vec<Target>,
}

/// Why a target name was not understood.
#[derive(Debug, thiserror::Error)]
#[error("Unknown target `{name}`; pick one of {}", known_list())]
pub struct UnknownTarget {
    pub name: String,
}

fn known_list() -> String {
    all()
        .iter()
        .map(|t| format!("`{}`", t.id))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every bundled target, `openai` first.
pub fn all() -> &'static [Target] {
    static CELL: OnceLock<Vec<Target>> = OnceLock::new();
    CELL.get_or_init(|| {
        // The bundled file is checked by a unit test, so parsing cannot fail.
        #[allow(clippy::expect_used)]
        let file: TargetsFile = serde_json::from_str(BUILTIN).expect("bundled targets.json parses");
        file.targets
    })
}

/// The ids, for messages.
pub fn names() -> Vec<&'static str> {
    all().iter().map(|t| t.id.as_str()).collect()
}

/// The target `name` names (any case).
pub fn lookup(name: &str) -> Result<&'static Target, UnknownTarget> {
    let name = name.trim();
    all()
        .iter()
        .find(|t| t.id.eq_ignore_ascii_case(name))
        .ok_or_else(|| UnknownTarget {
            name: name.to_owned(),
        })
}

/// The default target, `openai`.
pub fn default_target() -> &'static Target {
    &all()[0]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_table_parses_and_names_every_target() {
        assert_eq!(
            names(),
            [
                "openai",
                "azure",
                "together",
                "fireworks",
                "vertex",
                "bedrock",
                "trl",
                "llama-factory",
                "axolotl"
            ]
        );
        assert_eq!(default_target().id, "openai");
        for t in all() {
            assert!(
                t.sources.contains_key("format"),
                "{} has no format source",
                t.id
            );
            assert!(!t.shapes.is_empty() && t.takes(Format::Chat), "{}", t.id);
        }
    }

    #[test]
    fn the_documented_facts() {
        let t = |n| lookup(n).unwrap();
        assert_eq!(t("azure").bom, BomPolicy::Required);
        assert!(
            all()
                .iter()
                .filter(|x| x.bom == BomPolicy::Required)
                .count()
                == 1
        );
        assert_eq!(t("together").turn_order, TurnOrder::Alternate);
        assert_eq!(t("together").min_examples, 1);
        assert_eq!(t("together").max_file_bytes, Some(53_794_465_382));
        assert_eq!(t("fireworks").min_examples, 3);
        assert_eq!(t("vertex").dialect, Dialect::Vertex);
        assert_eq!(t("vertex").max_file_bytes, Some(1_000_000_000));
        assert!(!t("vertex").takes(Format::Dpo) && !t("bedrock").takes(Format::Dpo));
        assert!(t("bedrock").takes(Format::Completion) && t("bedrock").first_turn_user);
        assert_eq!(t("llama-factory").dialect, Dialect::Sharegpt);
        assert!(t("trl").takes(Format::Dpo));
        assert_eq!(t("OpenAI").id, "openai");
    }

    #[test]
    fn unknown_targets_list_the_known_ones() {
        let e = lookup("sagemaker").unwrap_err().to_string();
        assert!(
            e.starts_with("Unknown target `sagemaker`; pick one of `openai`, `azure`, `together`"),
            "{e}"
        );
    }
}
