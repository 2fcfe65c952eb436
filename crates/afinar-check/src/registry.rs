//! The model registry: which encoding a model uses, its per-example token limit, the
//! formats it takes, its training price, whether it takes the developer role, whether its
//! turns must alternate and where it is fine-tuned with images.
//!
//! The built-in table is `models.json` in this crate; users extend or override it with a
//! file of the same shape (`afinar check --models FILE`).
//!
//! Open-weight models (Qwen, Llama, Gemma, gpt-oss, Ministral) name their Hugging Face
//! repository and how they are tokenized ([`TokenizerKind`]), and list the places they
//! can be trained ([`TrainPlace`]: Azure AI Foundry, Together, local trainers…), each with
//! its per-example limit and what it does to a longer example.

use std::path::Path;

use afinar_tokens::Encoding;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{CheckError, Format};

const BUILTIN: &str = include_str!("models.json");

/// One model family, e.g. `gpt-4o-mini` (which also covers `gpt-4o-mini-2024-07-18`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelInfo {
    /// The family name; dated snapshots (`-2024-07-18`, `-0125`) and fine-tuned names
    /// (`ft:gpt-4o-mini-2024-07-18:org::id`) match it.
    pub name: String,
    /// The OpenAI encoding; open-weight models leave it out (their `tokenizer` counts).
    #[serde(
        default = "default_encoding",
        serialize_with = "ser_encoding",
        deserialize_with = "de_encoding"
    )]
    pub encoding: Encoding,
    /// Maximum tokens per training example; longer examples are truncated at the end.
    pub max_tokens: u64,
    /// Line formats the fine-tuning service takes for this model.
    pub formats: Vec<Format>,
    /// Training price in US dollars per 1M trained tokens, when published.
    pub price_per_million: Option<f64>,
    /// Whether `developer` messages are accepted.
    #[serde(default)]
    pub developer_role: bool,
    /// Whether user and assistant turns must alternate; OpenAI takes two user turns in a
    /// row (its vision example has a text turn, then an image turn).
    #[serde(default)]
    pub turn_order: TurnOrder,
    /// The targets where this model is fine-tuned with images (`openai`, `azure`); empty
    /// for text only. Images for any other model are an error.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vision: Vec<String>,
    /// Open-weight models: the Hugging Face repository whose tokenizer.json and chat
    /// template count the tokens (found in the local Hugging Face cache).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hf_repo: Option<String>,
    /// Open-weight models: how an example becomes tokens. Absent: the OpenAI way
    /// (`encoding` and the cookbook's per-message overheads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokenizer: Option<TokenizerKind>,
    /// The model's context window, when it matters for local training.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_length: Option<u64>,
    /// Where the model can be fine-tuned; the first is the default target and gives
    /// `max_tokens`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trained_at: Vec<TrainPlace>,
}

/// How an open-weight model's examples are tokenized.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenizerKind {
    /// The model's tokenizer.json with its Hugging Face chat template.
    ChatTemplate,
    /// gpt-oss: the harmony format on o200k (o200k_harmony).
    Harmony,
}

impl TokenizerKind {
    pub fn name(self) -> &'static str {
        match self {
            TokenizerKind::ChatTemplate => "chat template",
            TokenizerKind::Harmony => "o200k_harmony",
        }
    }
}

/// What a trainer does with an example over its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverLimit {
    /// Cut at the limit: the end of the answer is not trained on.
    Truncate,
    /// Left out of training.
    Drop,
    /// The job (or the upload) fails.
    Reject,
}

/// One place a model can be fine-tuned.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainPlace {
    /// Short id, as `--target` takes it: `azure`, `together`, `llama-factory`…
    pub target: String,
    /// How people call it: `Azure AI Foundry`.
    pub name: String,
    /// Tokens per training example.
    pub max_tokens: u64,
    pub over_limit: OverLimit,
    /// For local trainers, the setting that holds the limit (`cutoff_len`), whose
    /// default `max_tokens` is; pass your value with `--max-tokens`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setting: Option<String>,
    /// Where the limit comes from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The provider does not publish this limit; `max_tokens` is afinar's assumption
    /// (shown as such by `afinar models --open`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub assumed: bool,
}

impl TrainPlace {
    /// What the trainer does with an example of more than `limit` tokens, for messages.
    pub fn over_limit_text(&self, limit: u64) -> String {
        let what = match self.over_limit {
            OverLimit::Truncate => format!(
                "{} truncates it to the first {limit} tokens, so the end of the answer is not trained on",
                self.name
            ),
            OverLimit::Drop => format!("{} drops it from training", self.name),
            OverLimit::Reject => format!("{} rejects the training file", self.name),
        };
        match &self.setting {
            Some(setting) => format!("{what} (`{setting}`; pass your value with --max-tokens)"),
            None => what,
        }
    }
}

/// How strictly a trainer orders the turns of a conversation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TurnOrder {
    /// Two user (or two assistant) turns in a row are taken; `check` warns, except for
    /// the documented text-then-image pattern.
    #[default]
    Free,
    /// User and assistant turns must alternate: consecutive turns are an error.
    Alternate,
}

impl ModelInfo {
    pub fn takes(&self, format: Format) -> bool {
        self.formats.contains(&format)
    }

    /// Whether the model is fine-tuned with images at `target` (`openai`, `azure`).
    pub fn takes_images(&self, target: &str) -> bool {
        self.vision.iter().any(|t| t == target)
    }

    /// The place `target` names (`azure`, `llama-factory`…), or the default one.
    pub fn place(&self, target: Option<&str>) -> Option<&TrainPlace> {
        match target {
            Some(t) => self
                .trained_at
                .iter()
                .find(|p| p.target.eq_ignore_ascii_case(t)),
            None => self.trained_at.first(),
        }
    }

    /// Whether this is an open-weight model counted with its own tokenizer.
    pub fn is_open(&self) -> bool {
        self.tokenizer.is_some()
    }
}

fn default_encoding() -> Encoding {
    Encoding::O200kBase
}

fn ser_encoding<S: Serializer>(e: &Encoding, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(e.name())
}

fn de_encoding<'de, D: Deserializer<'de>>(d: D) -> Result<Encoding, D::Error> {
    let s = String::deserialize(d)?;
    s.parse().map_err(serde::de::Error::custom)
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegistryFile {
    models: Vec<ModelInfo>,
}

/// The models `check` knows about.
#[derive(Debug, Clone)]
pub struct Registry {
    models: Vec<ModelInfo>,
}

impl Registry {
    /// The table bundled with afinar.
    pub fn builtin() -> Registry {
        // The bundled file is checked by a unit test, so parsing cannot fail.
        #[allow(clippy::expect_used)]
        let file: RegistryFile = serde_json::from_str(BUILTIN).expect("bundled models.json parses");
        Registry {
            models: file.models,
        }
    }

    /// Adds the models of a JSON file shaped like the bundled one (`{"models": [...]}`);
    /// an entry with a known name replaces it.
    pub fn extend_from_file(&mut self, path: &Path) -> Result<(), CheckError> {
        let text = std::fs::read_to_string(path).map_err(|source| CheckError::Io {
            path: path.to_owned(),
            source,
        })?;
        self.extend_from_str(&text)
            .map_err(|source| CheckError::Models {
                path: path.to_owned(),
                source,
            })
    }

    pub fn extend_from_str(&mut self, text: &str) -> Result<(), serde_json::Error> {
        let file: RegistryFile = serde_json::from_str(text)?;
        for m in file.models {
            match self.models.iter_mut().find(|x| x.name == m.name) {
                Some(slot) => *slot = m,
                None => self.models.push(m),
            }
        }
        Ok(())
    }

    pub fn models(&self) -> &[ModelInfo] {
        &self.models
    }

    /// The entry for `name`: an exact name, else the longest family name that `name`
    /// extends with a snapshot suffix (`-2024-07-18`, `-0125`). A fine-tuned model name
    /// (`ft:BASE:org::id`) resolves to its base.
    pub fn lookup(&self, name: &str) -> Option<&ModelInfo> {
        let name = name.trim();
        let name = match name.strip_prefix("ft:") {
            Some(rest) => rest.split(':').next().unwrap_or(rest),
            None => name,
        };
        if let Some(m) = self.models.iter().find(|m| m.name == name) {
            return Some(m);
        }
        // Open models: `Qwen/Qwen3-8B`, `qwen3-8b` or the Hugging Face repo, any case.
        if let Some(m) = self.models.iter().find(|m| {
            m.is_open()
                && [Some(m.name.as_str()), m.hf_repo.as_deref()]
                    .into_iter()
                    .flatten()
                    .any(|n| {
                        n.eq_ignore_ascii_case(name)
                            || n.rsplit('/')
                                .next()
                                .is_some_and(|s| s.eq_ignore_ascii_case(name))
                    })
        }) {
            return Some(m);
        }
        self.models
            .iter()
            .filter(|m| {
                name.strip_prefix(m.name.as_str())
                    .is_some_and(is_snapshot_suffix)
            })
            .max_by_key(|m| m.name.len())
    }

    /// The names, for "did you mean" messages.
    pub fn names(&self) -> Vec<&str> {
        self.models.iter().map(|m| m.name.as_str()).collect()
    }
}

/// `-2024-07-18` or `-0125`: a dash and digits/dashes only.
fn is_snapshot_suffix(rest: &str) -> bool {
    rest.strip_prefix('-').is_some_and(|d| {
        !d.is_empty()
            && d.starts_with(|c: char| c.is_ascii_digit())
            && d.chars().all(|c| c.is_ascii_digit() || c == '-')
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_parses_and_has_the_documented_limits() {
        let r = Registry::builtin();
        let limit = |n: &str| r.lookup(n).map(|m| m.max_tokens);
        assert_eq!(limit("gpt-4o"), Some(65_536));
        assert_eq!(limit("gpt-4o-mini"), Some(65_536));
        assert_eq!(limit("gpt-4.1"), Some(65_536));
        assert_eq!(limit("gpt-4.1-mini"), Some(65_536));
        assert_eq!(limit("gpt-4.1-nano"), Some(32_768));
        assert_eq!(limit("gpt-3.5-turbo-0125"), Some(16_385));
        assert_eq!(limit("gpt-3.5-turbo-1106"), Some(16_385));
        assert_eq!(limit("gpt-3.5-turbo-0613"), Some(4_096));
    }

    #[test]
    fn snapshots_and_fine_tunes_match_their_family() {
        let r = Registry::builtin();
        let name = |n: &str| r.lookup(n).map(|m| m.name.clone());
        assert_eq!(
            name("gpt-4o-mini-2024-07-18").as_deref(),
            Some("gpt-4o-mini")
        );
        assert_eq!(name("gpt-4o-2024-08-06").as_deref(), Some("gpt-4o"));
        assert_eq!(
            name("gpt-4.1-nano-2025-04-14").as_deref(),
            Some("gpt-4.1-nano")
        );
        assert_eq!(
            name("ft:gpt-4o-mini-2024-07-18:acme::abc123").as_deref(),
            Some("gpt-4o-mini")
        );
        assert_eq!(name("gpt-4o-minix"), None);
        assert_eq!(name("gpt-4o-mini-large"), None);
        assert_eq!(name("llama-3"), None);
    }

    #[test]
    fn encodings_follow_the_model_family() {
        let r = Registry::builtin();
        let enc = |n: &str| r.lookup(n).map(|m| m.encoding);
        assert_eq!(enc("gpt-4o-mini-2024-07-18"), Some(Encoding::O200kBase));
        assert_eq!(enc("gpt-4.1-2025-04-14"), Some(Encoding::O200kBase));
        assert_eq!(enc("gpt-3.5-turbo-0125"), Some(Encoding::Cl100kBase));
        assert_eq!(enc("gpt-4-0613"), Some(Encoding::Cl100kBase));
        assert_eq!(enc("babbage-002"), Some(Encoding::Cl100kBase));
        assert_eq!(enc("davinci-002"), Some(Encoding::Cl100kBase));
    }

    #[test]
    fn formats_and_developer_role() {
        let r = Registry::builtin();
        let m = |n: &str| r.lookup(n).cloned().unwrap();
        assert!(m("gpt-4o-mini").takes(Format::Chat) && m("gpt-4o-mini").takes(Format::Dpo));
        assert!(!m("gpt-4o-mini").takes(Format::Completion));
        assert!(
            m("davinci-002").takes(Format::Completion) && !m("davinci-002").takes(Format::Chat)
        );
        assert!(m("gpt-4.1").developer_role && !m("gpt-3.5-turbo").developer_role);
    }

    #[test]
    fn vision_and_turn_order() {
        let r = Registry::builtin();
        let m = |n: &str| r.lookup(n).cloned().unwrap();
        // OpenAI: vision fine-tuning for gpt-4o-2024-08-06 only; Azure also gpt-4.1.
        assert!(m("gpt-4o-2024-08-06").takes_images("openai"));
        assert!(m("gpt-4o-2024-08-06").takes_images("azure"));
        assert!(!m("gpt-4.1-2025-04-14").takes_images("openai"));
        assert!(m("gpt-4.1-2025-04-14").takes_images("azure"));
        for other in [
            "gpt-4o-mini",
            "gpt-4.1-mini",
            "gpt-4.1-nano",
            "gpt-3.5-turbo",
        ] {
            assert!(m(other).vision.is_empty(), "{other}");
        }
        // Every OpenAI model takes consecutive user turns.
        assert!(r.models().iter().all(|m| m.turn_order == TurnOrder::Free));
        let mut r = Registry::builtin();
        r.extend_from_str(
            r#"{"models": [{"name": "alt-7b", "encoding": "cl100k_base", "max_tokens": 4096,
               "formats": ["chat"], "price_per_million": null, "turn_order": "alternate",
               "vision": ["together"]}]}"#,
        )
        .unwrap();
        let alt = r.lookup("alt-7b").unwrap();
        assert_eq!(alt.turn_order, TurnOrder::Alternate);
        assert!(alt.takes_images("together") && !alt.takes_images("openai"));
        assert!(
            r.extend_from_str(
                r#"{"models": [{"name": "x", "encoding": "cl100k_base", "max_tokens": 1,
               "formats": ["chat"], "price_per_million": null, "turn_order": "strict"}]}"#
            )
            .is_err()
        );
    }

    #[test]
    fn a_user_file_adds_and_overrides_models() {
        let mut r = Registry::builtin();
        r.extend_from_str(
            r#"{"models": [
              {"name": "gpt-4o-mini", "encoding": "o200k_base", "max_tokens": 1000,
               "formats": ["chat"], "price_per_million": 1.0},
              {"name": "acme-7b", "encoding": "cl100k_base", "max_tokens": 4096,
               "formats": ["chat", "completion"], "price_per_million": null}
            ]}"#,
        )
        .unwrap();
        assert_eq!(r.lookup("gpt-4o-mini-2024-07-18").unwrap().max_tokens, 1000);
        assert_eq!(r.lookup("acme-7b").unwrap().encoding, Encoding::Cl100kBase);
        assert!(
            r.extend_from_str(r#"{"models": [{"name": "x", "encoding": "p50k"}]}"#)
                .is_err()
        );
    }
}
